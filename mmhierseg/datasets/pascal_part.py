"""Pascal-part person datasets: :class:`PascalPartDataset` and the
PASCAL-Person-Part alias :class:`PascalPersonPartDataset`.

The class ids and names come from a :class:`~mmhierseg.ClassHierarchy`
(``hierarchy=``), so another tree or id order is a dict, not new code.
"""
import os.path as osp
from typing import List, Optional

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from mmhierseg.hierarchy import ClassHierarchy
from .layouts import get_layout
from .utils import file_exists, read_split_file

__all__ = ['PascalPartDataset', 'PascalPersonPartDataset']

_MAX_LISTED = 10


@DATASETS.register_module()
class PascalPartDataset(BaseSegDataset):
    """Person parts of Pascal-part (``JPEGImages/*.jpg``, ``gt_masks/*.npy``).

    Layout (see :mod:`mmhierseg.datasets.layouts`)::

        data_root/
          JPEGImages/<id>.jpg
          gt_masks/<id>.npy        uint8 HxW leaf ids, same size as the image
          train_id.txt, val_id.txt one id per line

    ``ann_file`` is a split file: one id per line; surrounding whitespace,
    blank lines and a missing trailing newline are fine. Without
    ``ann_file`` every image in ``data_prefix['img_path']`` is used.

    ``metainfo`` is derived from the hierarchy: ``classes`` (leaf names in id
    order), ``palette`` (leaf colours) and ``hierarchy`` (the plain dict, read
    by the metric). Leaf ids are used as stored, so mmseg's class remapping
    (``label_map``) is never applied and ``reduce_zero_label`` must stay
    False.

    Every id of the split is checked for its image and mask when the data
    list is loaded (``check_files=True``, a few milliseconds for thousands of
    local files); a missing file raises ``FileNotFoundError`` naming it. Set
    ``check_files=False`` to skip that (e.g. for slow remote storage); a
    missing file then fails when the sample is loaded.

    Each sample's ``results`` also carries ``img_id`` and ``hierarchy`` (the
    :class:`~mmhierseg.ClassHierarchy`), which ``LoadHierAnnotations`` uses to
    validate mask values.

    Args:
        ann_file (str): Split file, relative to ``data_root``. Defaults to
            '' (all images).
        hierarchy (str | dict | ClassHierarchy, optional): The label tree (a
            preset name, a dict or a hierarchy). Defaults to
            :attr:`DEFAULT_HIERARCHY`.
        img_suffix (str): Image suffix. Defaults to '.jpg'.
        seg_map_suffix (str): Mask suffix ('.npy' or '.png'). Defaults to
            '.npy'.
        data_prefix (dict, optional): ``img_path`` and ``seg_map_path``
            folders. Defaults to ``JPEGImages`` and ``gt_masks``.
        check_files (bool): Check at load time that every image and mask of
            the split exists. Defaults to True.
        metainfo (dict, optional): Extra meta information. ``classes``, if
            given, must equal the hierarchy's leaf names; ``palette`` may
            replace the leaf colours; ``hierarchy`` is used when the
            ``hierarchy`` argument is None.
        reduce_zero_label (bool): Must be False. Defaults to False.
        **kwargs: Other arguments of mmseg's ``BaseSegDataset``
            (``data_root``, ``pipeline``, ``test_mode``, ``lazy_init``, ...).
    """

    #: The layout whose folders and suffixes are the defaults.
    LAYOUT = 'pascal_part'
    #: The tree used when ``hierarchy`` is not given.
    DEFAULT_HIERARCHY = 'pascal_part'
    METAINFO = ClassHierarchy.build('pascal_part').metainfo()

    def __init__(self,
                 ann_file: str = '',
                 hierarchy=None,
                 img_suffix: Optional[str] = None,
                 seg_map_suffix: Optional[str] = None,
                 data_prefix: Optional[dict] = None,
                 check_files: bool = True,
                 metainfo: Optional[dict] = None,
                 reduce_zero_label: bool = False,
                 **kwargs) -> None:
        if reduce_zero_label:
            raise ValueError(
                f'{type(self).__name__}: reduce_zero_label=True is not '
                'supported; background is class 0 of every level of the '
                'hierarchy.')
        layout = get_layout(self.LAYOUT)
        if img_suffix is None:
            img_suffix = layout['img_suffix']
        if seg_map_suffix is None:
            seg_map_suffix = layout['mask_suffix']
        if data_prefix is None:
            data_prefix = dict(
                img_path=layout['img_dir'], seg_map_path=layout['mask_dir'])
        metainfo = dict(metainfo or {})
        meta_hierarchy = metainfo.pop('hierarchy', None)
        if hierarchy is None:
            hierarchy = meta_hierarchy
        if hierarchy is None:
            hierarchy = self.DEFAULT_HIERARCHY
        self.hierarchy = ClassHierarchy.build(hierarchy)
        tree_meta = self.hierarchy.metainfo()
        if 'classes' in metainfo and \
                list(metainfo['classes']) != list(tree_meta['classes']):
            raise ValueError(
                f'{type(self).__name__}: metainfo classes '
                f'{list(metainfo["classes"])} differ from the hierarchy\'s '
                f'leaves {list(tree_meta["classes"])}. Class names and ids '
                'come from `hierarchy=`; to change them pass another '
                'hierarchy dict rather than metainfo classes.')
        metainfo.pop('classes', None)
        if 'palette' in metainfo and \
                len(metainfo['palette']) != len(tree_meta['classes']):
            raise ValueError(
                f'{type(self).__name__}: metainfo palette has '
                f'{len(metainfo["palette"])} colours for '
                f'{len(tree_meta["classes"])} classes.')
        tree_meta.update(metainfo)
        self.check_files = check_files
        super().__init__(
            ann_file=ann_file,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            metainfo=tree_meta,
            data_prefix=data_prefix,
            reduce_zero_label=False,
            **kwargs)

    @classmethod
    def get_label_map(cls, new_classes=None) -> None:
        """Never remap: leaf ids are defined by the hierarchy.

        Args:
            new_classes (Sequence[str], optional): Ignored.

        Returns:
            None
        """
        return None

    def load_data_list(self) -> List[dict]:
        """Build the data list from the split file (or the image folder).

        Returns:
            list[dict]: One dict per image with ``img_path``,
            ``seg_map_path``, ``img_id``, ``label_map`` (None),
            ``reduce_zero_label`` (False) and ``seg_fields``.

        Raises:
            FileNotFoundError: If the split file, or (with ``check_files``) an
                image or mask of the split, is missing.
            ValueError: If the split is empty.
        """
        img_dir = self.data_prefix.get('img_path', None)
        ann_dir = self.data_prefix.get('seg_map_path', None)
        if self.ann_file:
            if osp.isdir(self.ann_file):
                raise ValueError(
                    f'{type(self).__name__}: ann_file {self.ann_file} is a '
                    'folder; give a split file (one id per line), or '
                    "ann_file='' to use every image in "
                    f'{img_dir}.')
            ids = read_split_file(self.ann_file, self.backend_args)
        else:
            data_list = super().load_data_list()
            if not data_list:
                raise ValueError(
                    f'{type(self).__name__}: no images ending in '
                    f'{self.img_suffix!r} in {img_dir}; check data_root, '
                    'data_prefix and img_suffix, or give an ann_file.')
            n = len(self.img_suffix)
            ids = [osp.relpath(d['img_path'], img_dir)[:-n]
                   for d in data_list]
        data_list = []
        for img_id in ids:
            info = dict(
                img_path=osp.join(img_dir, img_id + self.img_suffix),
                img_id=img_id,
                label_map=None,
                reduce_zero_label=False,
                seg_fields=[])
            if ann_dir is not None:
                info['seg_map_path'] = osp.join(ann_dir,
                                                img_id + self.seg_map_suffix)
            data_list.append(info)
        if self.check_files:
            self._check_files(data_list)
        return data_list

    def _check_files(self, data_list: List[dict]) -> None:
        missing = []
        for info in data_list:
            for key, what in (('img_path', 'image'),
                              ('seg_map_path', 'mask')):
                path = info.get(key)
                if path is not None and \
                        not file_exists(path, self.backend_args):
                    missing.append(f'id {info["img_id"]}: {what} {path} not '
                                   'found')
        if not missing:
            return
        source = self.ann_file or self.data_prefix.get('img_path')
        shown = '\n  '.join(missing[:_MAX_LISTED])
        more = (f'\n  ... and {len(missing) - _MAX_LISTED} more'
                if len(missing) > _MAX_LISTED else '')
        raise FileNotFoundError(
            f'{type(self).__name__}: {len(missing)} missing file(s) for the '
            f'ids of {source}:\n  {shown}{more}\nRestore the files, or '
            f'remove these ids from {source}. `python tools/check_dataset.py'
            ' DATA_ROOT` lists every problem; check_files=False skips this '
            'check.')

    def get_data_info(self, idx: int) -> dict:
        """The idx-th data info, with the hierarchy attached.

        Args:
            idx (int): Index.

        Returns:
            dict: Data info plus ``hierarchy`` (the ClassHierarchy).
        """
        info = super().get_data_info(idx)
        info['hierarchy'] = self.hierarchy
        return info


@DATASETS.register_module()
class PascalPersonPartDataset(PascalPartDataset):
    """PASCAL-Person-Part: PNG label maps, its own id order.

    The same class as :class:`PascalPartDataset` with other defaults:
    ``seg_map_suffix='.png'``, ``data_prefix=dict(img_path='JPEGImages',
    seg_map_path='SegmentationPart')`` and ``hierarchy='pascal_person_part'``
    (0 background, 1 head, 2 torso, 3 upper arms, 4 lower arms, 5 upper legs,
    6 lower legs). Every argument of :class:`PascalPartDataset` is accepted.
    """

    LAYOUT = 'person_part'
    DEFAULT_HIERARCHY = 'pascal_person_part'
    METAINFO = ClassHierarchy.build('pascal_person_part').metainfo()
