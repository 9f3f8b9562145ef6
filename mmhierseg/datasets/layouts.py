"""On-disk layouts of the datasets mmhierseg reads and writes.

A layout names the image and mask folders, their suffixes, the split files,
the hierarchy preset (id order) of the masks and the dataset class. The
dataset classes, the converter, the synthetic generator, ``check_dataset``
and ``browse_dataset`` all read the layout from here, so the folder names
are written down once.

``pascal_part`` (the 3,533-image Pascal-part release)::

    Pascal-part/
      JPEGImages/<id>.jpg
      gt_masks/<id>.npy            uint8 HxW leaf ids (hierarchy 'pascal_part')
      train_id.txt, val_id.txt     one id per line
      classes.txt                  "0 background", "1 low_hand", ...

``person_part`` (PASCAL-Person-Part style, PNG label maps)::

    pascal_person_part/
      JPEGImages/<id>.jpg
      SegmentationPart/<id>.png    single-channel (L or P mode) leaf ids
                                   (hierarchy 'pascal_person_part')
      train_id.txt, val_id.txt
"""
import copy

__all__ = ['LAYOUTS', 'get_layout']

_PASCAL_PART = dict(
    img_dir='JPEGImages',
    mask_dir='gt_masks',
    img_suffix='.jpg',
    mask_suffix='.npy',
    splits=dict(train='train_id.txt', val='val_id.txt'),
    hierarchy='pascal_part',
    dataset='PascalPartDataset')
LAYOUTS = {
    'pascal_part':
    _PASCAL_PART,
    'person_part':
    dict(
        _PASCAL_PART,
        mask_dir='SegmentationPart',
        mask_suffix='.png',
        hierarchy='pascal_person_part',
        dataset='PascalPersonPartDataset'),
}


def get_layout(name: str, **overrides) -> dict:
    """Return a copy of a named layout, with some keys replaced.

    Args:
        name (str): ``'pascal_part'`` or ``'person_part'``.
        **overrides: Keys to replace (``img_dir``, ``mask_dir``,
            ``img_suffix``, ``mask_suffix``, ``splits``, ``hierarchy``);
            ``None`` values are ignored.

    Returns:
        dict: The layout.
    """
    if name not in LAYOUTS:
        raise ValueError(f'unknown layout {name!r}; known layouts: '
                         f'{sorted(LAYOUTS)}')
    layout = copy.deepcopy(LAYOUTS[name])
    for key, value in overrides.items():
        if key not in layout:
            raise ValueError(f'unknown layout key {key!r}; keys: '
                             f'{sorted(layout)}')
        if value is not None:
            layout[key] = value
    return layout
