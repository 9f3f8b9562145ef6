"""Convert the original Pascal-Part ``.mat`` annotations to leaf masks.

The Pascal-Part release (Chen et al., 2014) stores one ``Annotations_Part/
<id>.mat`` per VOC image::

    anno.imname                    image id
    anno.objects[k].class          e.g. 'person', 'dog'
    anno.objects[k].classIndex     15 for person
    anno.objects[k].mask           HxW object mask
    anno.objects[k].parts[j].part_name   fine part name, e.g. 'luarm'
    anno.objects[k].parts[j].mask        HxW part mask

:data:`PERSON_PART_TO_LEAF` maps the fine person part names to leaf *names*;
leaf ids come from the target hierarchy, so the same code writes the
Pascal-part layout (``.npy``, ids of ``'pascal_part'``) and the
PASCAL-Person-Part layout (``.png``, ids of ``'pascal_person_part'``).

Several people per image are painted in annotation order (a later person
covers an earlier one where masks overlap); other object classes are
ignored (background).
"""
import os
import os.path as osp
import shutil
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from tqdm import tqdm

from mmhierseg.hierarchy import IGNORE_INDEX, ClassHierarchy
from .images import image_header
from .layouts import get_layout
from .utils import read_split_file

__all__ = [
    'PERSON_PART_TO_LEAF', 'load_pascal_part_mat', 'person_label_map',
    'convert_pascal_part', 'write_label_map', 'write_classes'
]

SplitSpec = Union[str, Sequence[str]]

_HEAD = ('head', 'hair', 'leye', 'reye', 'lear', 'rear', 'lebrow', 'rebrow',
         'nose', 'mouth')

#: Fine Pascal-Part person part name -> leaf name of the part level.
PERSON_PART_TO_LEAF: Dict[str, str] = {
    **dict.fromkeys(_HEAD, 'head'),
    **dict.fromkeys(('torso', 'neck'), 'torso'),
    **dict.fromkeys(('luarm', 'ruarm'), 'up_hand'),
    **dict.fromkeys(('llarm', 'rlarm', 'lhand', 'rhand'), 'low_hand'),
    **dict.fromkeys(('luleg', 'ruleg'), 'up_leg'),
    **dict.fromkeys(('llleg', 'rlleg', 'lfoot', 'rfoot'), 'low_leg'),
}


def _as_list(value) -> list:
    """A MATLAB struct array read by loadmat (squeezed) as a Python list:
    an object array lists its structs, a lone struct was squeezed to itself,
    and an empty MATLAB array ([]) is a 0-size float array."""
    if isinstance(value, np.ndarray):
        return list(value.ravel()) if value.dtype == object else []
    return [] if value is None else [value]


def _required(struct, name: str, path: str, where: str):
    """Field ``name`` of a loadmat struct; its absence names the file."""
    if not hasattr(struct, name):
        raise ValueError(f'{path}: {where} has no field {name!r}; expected a '
                         'Pascal-Part Annotations_Part/*.mat file.')
    return getattr(struct, name)


def _as_str(value) -> str:
    """A MATLAB string (str, bytes, char array or cell) as a str."""
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, np.ndarray):
        flat = value.ravel()
        return _as_str(flat[0]) if value.dtype == object and flat.size else \
            ''.join(str(v) for v in flat)
    return str(value)


def load_pascal_part_mat(path: str) -> Tuple[str, List[dict]]:
    """Read one Pascal-Part annotation file.

    Args:
        path (str): The ``.mat`` file.

    Returns:
        tuple[str, list[dict]]: The image name (``anno.imname``, or the file
        stem when absent) and the objects, each
        ``dict(cls=str, class_index=int | None, mask=bool HxW,
        parts=[(part_name, bool HxW), ...])``.

    Raises:
        OSError: If the file cannot be read.
        ValueError: If it does not hold an ``anno`` struct with ``objects``.
    """
    from scipy.io import loadmat
    try:
        mat = loadmat(path, squeeze_me=True, struct_as_record=False)
    except Exception as e:
        raise OSError(f'cannot read Pascal-Part annotation {path}: {e}') from e
    if 'anno' not in mat:
        raise ValueError(
            f'{path} holds no `anno` struct (keys: '
            f'{sorted(k for k in mat if not k.startswith("__"))}); expected '
            'a Pascal-Part Annotations_Part/*.mat file.')
    anno = mat['anno']
    objects = _as_list(_required(anno, 'objects', path, 'anno'))
    imname = _as_str(getattr(anno, 'imname', '')) or \
        osp.splitext(osp.basename(path))[0]
    out = []
    for k, obj in enumerate(objects):
        cls_name = _as_str(_required(obj, 'class', path, f'object {k}'))
        mask = np.asarray(_required(obj, 'mask', path, f'object {k}'), bool)
        try:
            class_index = int(np.asarray(obj.classIndex).ravel()[0])
        except (AttributeError, IndexError, TypeError, ValueError):
            class_index = None
        parts = []
        for j, part in enumerate(_as_list(getattr(obj, 'parts', None))):
            where = f'object {k} ({cls_name}), part {j}'
            parts.append((_as_str(_required(part, 'part_name', path, where)),
                          np.asarray(_required(part, 'mask', path, where),
                                     bool)))
        out.append(dict(cls=cls_name, class_index=class_index, mask=mask,
                        parts=parts))
    return imname, out


def person_label_map(objects: Sequence[dict],
                     shape: Tuple[int, int],
                     hierarchy: Union[ClassHierarchy, dict, str],
                     part_to_leaf: Optional[Dict[str, str]] = None,
                     person_class: str = 'person',
                     unlabeled: str = 'background',
                     source: str = '') -> Tuple[np.ndarray, int]:
    """Paint the person parts of one image into a leaf label map.

    Args:
        objects (Sequence[dict]): Objects from :func:`load_pascal_part_mat`.
        shape (tuple[int, int]): ``(H, W)`` of the image.
        hierarchy (ClassHierarchy | dict | str): Target tree (e.g.
            ``'pascal_part'``); its leaf ids are written.
        part_to_leaf (dict, optional): Fine part name -> leaf name. Defaults
            to :data:`PERSON_PART_TO_LEAF`.
        person_class (str): Object class to convert. Defaults to 'person'.
        unlabeled (str): What person pixels covered by no part (of any
            person) become: ``'background'`` (default; as in the released
            label maps) or ``'ignore'`` (255).
        source (str): Annotation file, for error messages.

    Returns:
        tuple[np.ndarray, int]: uint8 ``HxW`` leaf ids and the number of
        people painted.

    Raises:
        ValueError: On an unknown part name or a mask of the wrong size.
    """
    hierarchy = ClassHierarchy.build(hierarchy)
    part_to_leaf = PERSON_PART_TO_LEAF if part_to_leaf is None else \
        part_to_leaf
    if unlabeled not in ('background', 'ignore'):
        raise ValueError(f"unlabeled must be 'background' or 'ignore', got "
                         f'{unlabeled!r}')
    leaf_ids = {}
    for part, leaf in part_to_leaf.items():
        if leaf not in hierarchy.leaf_names:
            raise ValueError(f'part {part!r} maps to {leaf!r}, which is not a'
                             f' leaf of the hierarchy '
                             f'{list(hierarchy.leaf_names)}')
        leaf_ids[part] = hierarchy.leaf_names.index(leaf)
    label = np.full(shape, hierarchy.background_leaf, dtype=np.uint8)
    people = []
    for k, obj in enumerate(objects):
        if obj['cls'] != person_class:
            continue
        for name, mask in [('<object>', obj['mask'])] + list(obj['parts']):
            if mask.shape != tuple(shape):
                raise ValueError(
                    f'{source}: object {k} ({person_class}) mask {name!r} is '
                    f'{mask.shape[0]}x{mask.shape[1]} but the image is '
                    f'{shape[0]}x{shape[1]}; check the annotation belongs to '
                    'this image.')
            if name != '<object>' and name not in leaf_ids:
                raise ValueError(
                    f'{source}: unknown {person_class} part name {name!r}; '
                    f'known: {sorted(leaf_ids)}. Pass part_to_leaf with a '
                    'mapping for it.')
        people.append(obj)
    if unlabeled == 'ignore':
        # person pixels that no part of any person covers
        for obj in people:
            label[obj['mask']] = IGNORE_INDEX
    for obj in people:
        for name, mask in obj['parts']:
            label[mask] = leaf_ids[name]
    return label, len(people)


def write_label_map(label: np.ndarray, path: str) -> None:
    """Write a uint8 leaf map as ``.npy`` or single-channel ``.png``.

    Args:
        label (np.ndarray): uint8 ``HxW``.
        path (str): Output file; the suffix picks the format.
    """
    label = np.ascontiguousarray(label, dtype=np.uint8)
    if path.endswith('.npy'):
        np.save(path, label)
    else:
        from PIL import Image
        Image.fromarray(label, mode='L').save(path)


def convert_pascal_part(mat_dir: str,
                        img_dir: str,
                        out_dir: str,
                        layout: str = 'pascal_part',
                        hierarchy=None,
                        splits: Optional[Dict[str, SplitSpec]] = None,
                        val_ratio: float = 0.2,
                        seed: int = 0,
                        link_images: bool = False,
                        unlabeled: str = 'background',
                        person_class: str = 'person',
                        progress: bool = True) -> dict:
    """Convert Pascal-Part ``.mat`` files + VOC JPEGs to a dataset layout.

    Only images with at least one person are written. Images are copied (or
    symlinked) to ``out_dir/JPEGImages``; masks go to the layout's mask
    folder; split files list the converted ids.

    Args:
        mat_dir (str): Folder of ``<id>.mat`` (``Annotations_Part``).
        img_dir (str): Folder of the VOC ``<id>.jpg`` images.
        out_dir (str): Output dataset root.
        layout (str): ``'pascal_part'`` (``gt_masks/*.npy``) or
            ``'person_part'`` (``SegmentationPart/*.png``).
        hierarchy (str | dict | ClassHierarchy, optional): Id order of the
            masks. Defaults to the layout's hierarchy.
        splits (dict, optional): Split name -> split file or list of ids;
            ids without a person are dropped. Default: a seeded random
            ``train``/``val`` split of the converted ids.
        val_ratio (float): Share of ``val`` in the default split.
        seed (int): Seed of the default split.
        link_images (bool): Symlink images instead of copying them.
        unlabeled (str): See :func:`person_label_map`.
        person_class (str): Object class to convert.
        progress (bool): Show a tqdm progress bar.

    Returns:
        dict: ``num_images``, ``num_people``, ``skipped`` (ids without a
        person), ``splits`` (name -> number of ids) and ``out_dir``.
    """
    lay = get_layout(layout)
    hierarchy = ClassHierarchy.build(hierarchy if hierarchy is not None else
                                     lay['hierarchy'])
    for what, folder, expected in (
            ('annotation', mat_dir, 'Pascal-Part Annotations_Part/'),
            ('image', img_dir, 'VOC JPEGImages/')):
        if not osp.isdir(folder):
            raise FileNotFoundError(
                f'{what} folder {folder} not found (expected {expected})')
    split_ids = None
    if splits is not None:
        split_ids = {
            name: (read_split_file(v) if isinstance(v, str) else list(v))
            for name, v in splits.items()
        }
        wanted = sorted({i for ids in split_ids.values() for i in ids})
    else:
        wanted = sorted(
            osp.splitext(f)[0] for f in os.listdir(mat_dir)
            if f.endswith('.mat'))
    if not wanted:
        raise ValueError(f'no .mat files in {mat_dir}')
    out_img, out_mask = (osp.join(out_dir, lay[k])
                         for k in ('img_dir', 'mask_dir'))
    for folder in (out_img, out_mask):
        os.makedirs(folder, exist_ok=True)

    converted, skipped, n_people = [], [], 0
    for img_id in tqdm(wanted, desc='pascal-part -> ' + layout, unit='img',
                       disable=not progress):
        mat_path = osp.join(mat_dir, img_id + '.mat')
        img_path = osp.join(img_dir, img_id + '.jpg')
        for what, p in (('annotation', mat_path), ('image', img_path)):
            if not osp.isfile(p):
                raise FileNotFoundError(
                    f'{what} {p} not found for id {img_id}')
        _, objects = load_pascal_part_mat(mat_path)
        try:  # the stored (H, W): masks are painted in raw pixel order, as
            # the annotations were (see mmhierseg.datasets.images)
            shape = image_header(img_path)[0]
        except Exception as e:
            raise OSError(f'cannot read image {img_path}: {e}') from e
        label, n = person_label_map(
            objects, shape, hierarchy, person_class=person_class,
            unlabeled=unlabeled, source=mat_path)
        if n == 0:
            skipped.append(img_id)
            continue
        n_people += n
        write_label_map(label, osp.join(out_mask,
                                        img_id + lay['mask_suffix']))
        dst = osp.join(out_img, img_id + lay['img_suffix'])
        if osp.lexists(dst):
            os.remove(dst)
        (os.symlink if link_images else shutil.copyfile)(
            osp.abspath(img_path), dst)
        converted.append(img_id)

    if split_ids is None:
        order = np.random.default_rng(seed).permutation(len(converted))
        n_val = int(round(len(converted) * val_ratio))
        split_ids = dict(train=sorted(converted[i] for i in order[n_val:]),
                         val=sorted(converted[i] for i in order[:n_val]))
    else:
        kept = set(converted)
        split_ids = {k: [i for i in v if i in kept]
                     for k, v in split_ids.items()}
    for name, ids in split_ids.items():
        fname = lay['splits'].get(name, f'{name}_id.txt')
        with open(osp.join(out_dir, fname), 'w') as f:
            f.write(''.join(i + '\n' for i in ids))
    write_classes(hierarchy, out_dir)
    return dict(out_dir=out_dir, num_images=len(converted),
                num_people=n_people, skipped=skipped,
                splits={k: len(v) for k, v in split_ids.items()})


def write_classes(hierarchy: ClassHierarchy, out_dir: str) -> None:
    """Write ``out_dir/classes.txt``: one ``"<id> <leaf name>"`` per line.

    Args:
        hierarchy (ClassHierarchy): The tree of the masks.
        out_dir (str): Dataset root.
    """
    with open(osp.join(out_dir, 'classes.txt'), 'w') as f:
        f.write(''.join(f'{i} {n}\n'
                        for i, n in enumerate(hierarchy.leaf_names)))
