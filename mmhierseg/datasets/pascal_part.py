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
from .images import DEFAULT_ORIENTATION, check_orientation
from .label_levels import check_pipeline_packs_levels, resolve_label_level
from .layouts import get_layout
from .sample_checks import check_masks_cheaply, list_problems
from .utils import file_exists, read_split_file

__all__ = ['PascalPartDataset', 'PascalPersonPartDataset']


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

    With ``check_masks`` (default: as ``check_files``) every mask is also
    checked when the data list is loaded, cheaply (about 1 ms per sample):
    dtype, rank, size against the image header (under the orientation
    policy) and value range. The runner builds the validation dataset
    before the first training iteration, so a bad validation mask stops
    training at once, with one error listing every bad file, rather than at
    the first validation.

    Each sample's ``results`` also carries ``img_id``, ``hierarchy`` (the
    :class:`~mmhierseg.ClassHierarchy`), ``image_orientation`` and
    ``label_level`` (the level index of its masks), which the loading
    transforms use, so pipelines name none of them.

    Mixed granularity (``label_level``): the masks of a dataset instance
    labelled only down to a coarse level (e.g. person masks: ``'body'``,
    0 background, 1 body, in the order ``ClassHierarchy.classes`` gives)
    hold that level's ids; its images train that level and the coarser
    ones, never the finer ones (``LoadHierAnnotations`` makes them all
    255). Mix it with a part-labelled instance in mmengine's
    ``ConcatDataset``: the metainfo (leaf classes, tree) does not depend on
    the label level, so the two agree. Its pipeline must pack the coarse
    levels' maps (``PackHierSegInputs`` or ``PackPoseSegInputs``, not
    mmseg's ``PackSegInputs``), else building it raises.

    Args:
        ann_file (str): Split file, relative to ``data_root``. Defaults to
            '' (all images).
        hierarchy (str | dict | ClassHierarchy): The label tree (a preset
            name such as ``'pascal_part'``, or a tree dict). Required, here
            or as ``metainfo['hierarchy']``.
        image_orientation (str): EXIF orientation policy, ``'raw'``
            (default: tags ignored, the pixel order of Pascal-part's masks)
            or ``'exif'`` (tags applied, for masks drawn on displayed
            images); see :mod:`mmhierseg.datasets.images`.
        check_masks (bool, optional): Check every mask when the data list
            is loaded (see above). Defaults to ``check_files``.
        label_level (str | int, optional): The level (name or index) whose
            class ids the masks hold. Defaults to the leaf level (masks of
            leaf ids, as before).
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

    def __init__(self,
                 ann_file: str = '',
                 hierarchy=None,
                 image_orientation: str = DEFAULT_ORIENTATION,
                 img_suffix: Optional[str] = None,
                 seg_map_suffix: Optional[str] = None,
                 data_prefix: Optional[dict] = None,
                 check_files: bool = True,
                 check_masks: Optional[bool] = None,
                 label_level=None,
                 metainfo: Optional[dict] = None,
                 reduce_zero_label: bool = False,
                 **kwargs) -> None:
        if reduce_zero_label:
            raise ValueError(
                f'{type(self).__name__}: reduce_zero_label=True is not '
                'supported; background is class 0 of every level of the '
                'hierarchy.')
        layout = get_layout(  # None: the layout's suffix
            self.LAYOUT, img_suffix=img_suffix, mask_suffix=seg_map_suffix)
        if data_prefix is None:
            data_prefix = dict(
                img_path=layout['img_dir'], seg_map_path=layout['mask_dir'])
        metainfo = dict(metainfo or {})
        meta_hierarchy = metainfo.pop('hierarchy', None)
        if hierarchy is None:
            hierarchy = meta_hierarchy
        if hierarchy is None:
            raise ValueError(
                f'{type(self).__name__} needs the label tree: pass '
                "hierarchy='pascal_part' (or 'pascal_person_part', or a tree "
                'dict, see mmhierseg.ClassHierarchy) in the dataset config.')
        self.image_orientation = check_orientation(image_orientation)
        self.check_masks = check_files if check_masks is None else \
            check_masks
        self.hierarchy = ClassHierarchy.build(hierarchy)
        self.label_level = resolve_label_level(self.hierarchy, label_level)
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
            img_suffix=layout['img_suffix'],
            seg_map_suffix=layout['mask_suffix'],
            metainfo=tree_meta,
            data_prefix=data_prefix,
            reduce_zero_label=False,
            **kwargs)
        check_pipeline_packs_levels(self.pipeline, self.hierarchy,
                                    self.label_level, type(self).__name__)

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
        if self.check_masks and ann_dir is not None:
            check_masks_cheaply(data_list, self.hierarchy,
                                self.image_orientation, self.backend_args,
                                label_level=self.label_level)
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
        raise FileNotFoundError(
            f'{type(self).__name__}: {len(missing)} missing file(s) for the '
            f'ids of {source}:\n{list_problems(missing)}\nRestore the files,'
            f' or remove these ids from {source}. `python '
            'tools/check_dataset.py DATA_ROOT` lists every problem; '
            'check_files=False skips this check.')

    def get_data_info(self, idx: int) -> dict:
        """The idx-th data info, with the hierarchy attached.

        Args:
            idx (int): Index.

        Returns:
            dict: Data info plus ``hierarchy`` (the ClassHierarchy),
            ``image_orientation`` and ``label_level`` (level index).
        """
        info = super().get_data_info(idx)
        info['hierarchy'] = self.hierarchy
        info['image_orientation'] = self.image_orientation
        info['label_level'] = self.label_level
        return info


@DATASETS.register_module()
class PascalPersonPartDataset(PascalPartDataset):
    """PASCAL-Person-Part: PNG label maps (use the ``'pascal_person_part'``
    tree: 0 background, 1 head, 2 torso, 3 upper arms, 4 lower arms, 5 upper
    legs, 6 lower legs).

    The same class as :class:`PascalPartDataset` with other folder defaults:
    ``seg_map_suffix='.png'``, ``data_prefix=dict(img_path='JPEGImages',
    seg_map_path='SegmentationPart')``.
    """

    LAYOUT = 'person_part'
