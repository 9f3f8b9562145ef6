"""Whole-dataset checks: :func:`check_dataset`.

Finds, for every id of every split: a missing image or mask, an unreadable
or corrupt (e.g. truncated) image, an unreadable mask, a mask that is not an
integer array, not 2-D, not the image's size, or holds values outside the
tree; and per split: a missing or empty split file, duplicate ids, ids shared
between splits; a missing, unreadable or unusable prior file
(:mod:`.prior_files`). Every problem names the file. It also counts pixels
per class at every level of the hierarchy.

``tools/check_dataset.py`` is the command-line front end.
"""
import os
import os.path as osp
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np
from tqdm import tqdm

from mmhierseg.hierarchy import IGNORE_INDEX, ClassHierarchy
from mmhierseg.priors import PRIOR_CHANNELS
from .images import DEFAULT_ORIENTATION, check_orientation, \
    describe_orientation
from .label_levels import level_lut, resolve_label_level
from .layouts import get_layout
from .prior_files import PriorReport, check_prior_files
from .sample_checks import check_sample
from .utils import read_split_file

__all__ = ['DatasetReport', 'check_dataset', 'level_shares']


def level_shares(counts: Sequence[int],
                 hierarchy: ClassHierarchy,
                 label_level: Optional[int] = None
                 ) -> List[Dict[str, float]]:
    """Per-level class shares from pixel counts of one level.

    Args:
        counts (Sequence[int]): Pixel count per class id of ``label_level``
            (by default per leaf id).
        hierarchy (ClassHierarchy): The tree.
        label_level (int, optional): The level of ``counts``; default: the
            leaf level.

    Returns:
        list[dict[str, float]]: One ``{class name: share}`` per level,
        coarse to fine, down to ``label_level`` (shares of labelled,
        non-ignored pixels).
    """
    src = hierarchy.leaf_level if label_level is None else label_level
    counts = np.asarray(counts, dtype=np.float64)
    total = max(counts.sum(), 1.0)
    return [{
        name: float(share / total)
        for name, share in zip(
            hierarchy.classes(lvl),
            np.bincount(level_lut(hierarchy, src, lvl), weights=counts,
                        minlength=hierarchy.num_classes[lvl]))
    } for lvl in range(src + 1)]


@dataclass
class DatasetReport:
    """Result of :func:`check_dataset`.

    Attributes:
        data_root (str): The checked root.
        hierarchy (ClassHierarchy): The tree the masks were checked against.
        split_counts (dict[str, int]): Ids per split.
        num_samples (int): Distinct ids checked.
        num_valid (int): Ids whose image and mask passed every check (their
            pixels are counted).
        label_level (int): The level whose ids the masks were checked
            against (default: the leaf level).
        pixel_counts (list[int]): Pixels per class id of ``label_level``
            (leaf ids by default) over valid samples.
        ignored_pixels (int): Pixels labelled 255.
        images_per_class (list[int]): Valid samples containing each class
            of ``label_level``.
        upper_body_only (int): Valid samples with a person but no lower-body
            pixel (when the tree has a ``lower_body`` node at level 1).
        no_person (int): Valid samples that are all background / ignore.
        unlisted_images (int): Images in the image folder in no split.
        image_orientation (str): The EXIF orientation policy in force.
        oriented_images (list[str]): Images carrying an EXIF orientation
            tag other than 1, with the tag.
        priors (PriorReport, optional): The prior files' check.
        problems (list[str]): One line per problem, naming the file.
    """
    data_root: str
    hierarchy: ClassHierarchy
    label_level: Optional[int] = None
    split_counts: Dict[str, int] = field(default_factory=dict)
    num_samples: int = 0
    num_valid: int = 0
    pixel_counts: List[int] = field(default_factory=list)
    ignored_pixels: int = 0
    images_per_class: List[int] = field(default_factory=list)
    upper_body_only: int = 0
    no_person: int = 0
    unlisted_images: int = 0
    image_orientation: str = DEFAULT_ORIENTATION
    oriented_images: List[str] = field(default_factory=list)
    priors: Optional[PriorReport] = None
    problems: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """bool: True when no problem was found."""
        return not self.problems

    def class_shares(self) -> List[Dict[str, float]]:
        """Pixel share of every class at every level (see
        :func:`level_shares`)."""
        return level_shares(self.pixel_counts, self.hierarchy,
                            self.label_level)

    def format(self) -> str:
        """A human-readable report (counts, shares, every problem).

        Returns:
            str: Multi-line text.
        """
        h = self.hierarchy
        lvl = h.leaf_level if self.label_level is None else self.label_level
        lines = [
            f'dataset: {self.data_root}',
            f'label level: {lvl} ({h.level_names[lvl]})',
            'splits: ' + ', '.join(
                f'{k} {v}' for k, v in self.split_counts.items()),
            f'samples checked: {self.num_samples}, valid: {self.num_valid}, '
            f'images in no split: {self.unlisted_images}',
            f'samples without a person: {self.no_person}, with an upper '
            f'body only: {self.upper_body_only}'
        ]
        if self.num_valid:
            lines.append('pixel shares (of labelled pixels):')
            for lvl, shares in enumerate(self.class_shares()):
                body = ', '.join(f'{k} {100 * v:.2f} %'
                                 for k, v in shares.items())
                lines.append(f'  level {lvl} ({h.level_names[lvl]}): {body}')
            lines.append('  images containing each class: ' + ', '.join(
                f'{n} {c}' for n, c in zip(h.classes(lvl),
                                           self.images_per_class)))
            if self.ignored_pixels:
                lines.append(f'  ignored (255) pixels: {self.ignored_pixels}')
        lines.append(f'orientation policy: '
                     f'{describe_orientation(self.image_orientation)}')
        if self.oriented_images:
            lines.append(
                f'{len(self.oriented_images)} image(s) carry an EXIF '
                'orientation tag (the tag in parentheses; square ones '
                'cannot be checked by size: make sure their masks follow '
                'the policy):')
            lines += [f'  - {p}' for p in self.oriented_images]
        lines += self.priors.lines() if self.priors else []
        lines += ([f'{len(self.problems)} problem(s):'] +
                  [f'  - {p}' for p in self.problems]
                  if self.problems else ['no problems found'])
        return '\n'.join(lines)


def check_dataset(data_root: str,
                  layout: str = 'pascal_part',
                  hierarchy=None,
                  splits: Optional[Dict[str, str]] = None,
                  img_dir: Optional[str] = None,
                  mask_dir: Optional[str] = None,
                  img_suffix: Optional[str] = None,
                  mask_suffix: Optional[str] = None,
                  image_orientation: Optional[str] = None,
                  decode_images: bool = True,
                  progress: bool = False,
                  priors: Optional[str] = 'auto',
                  prior_channels: Sequence[str] = PRIOR_CHANNELS,
                  label_level=None) -> DatasetReport:
    """Check a dataset on disk and count its class pixels.

    Args:
        data_root (str): Dataset root.
        layout (str): ``'pascal_part'`` or ``'person_part'``; gives the
            defaults of the following arguments.
        hierarchy (str | dict | ClassHierarchy, optional): Tree of the masks.
        splits (dict[str, str], optional): Split name -> split file (relative
            to ``data_root``).
        img_dir (str, optional): Image folder (relative to ``data_root``).
        mask_dir (str, optional): Mask folder.
        img_suffix (str, optional): Image suffix.
        mask_suffix (str, optional): Mask suffix.
        image_orientation (str, optional): EXIF orientation policy the
            masks are checked under (``'raw'``, the default, or ``'exif'``;
            see :mod:`mmhierseg.datasets.images`). Images carrying a tag are
            listed either way.
        decode_images (bool): Decode every image fully (finds truncated
            files); False reads only the header (size). Defaults to True.
        progress (bool): Show a tqdm progress bar.
        priors (str, optional): Prior folder, as LoadPoseAnnotations'
            ``prior_dir``; ``'auto'`` (default): ``priors`` when it exists;
            None: not checked. See :func:`check_prior_files`.
        prior_channels (Sequence[str]): Channels the priors must serve.
        label_level (str | int, optional): The level (name or index) whose
            class ids the masks hold, as the dataset's ``label_level`` (a
            split labelled only down to a coarse level, e.g. ``'body'``
            for person masks). Default: the leaf level.

    Returns:
        DatasetReport: Counts, shares and problems. The function itself
        raises only for a missing ``data_root``.
    """
    lay = get_layout(layout, img_dir=img_dir, mask_dir=mask_dir,
                     img_suffix=img_suffix, mask_suffix=mask_suffix,
                     splits=splits, hierarchy=hierarchy)
    tree = ClassHierarchy.build(lay['hierarchy'])
    lvl = resolve_label_level(tree, label_level)
    if not osp.isdir(data_root):
        raise FileNotFoundError(f'dataset root {data_root} not found')
    report = DatasetReport(
        data_root=data_root,
        hierarchy=tree,
        image_orientation=check_orientation(image_orientation),
        label_level=lvl,
        pixel_counts=[0] * tree.num_classes[lvl],
        images_per_class=[0] * tree.num_classes[lvl])
    img_root = osp.join(data_root, lay['img_dir'])
    mask_root = osp.join(data_root, lay['mask_dir'])
    report.problems += [f'{what} folder {folder} not found' for folder, what
                        in ((img_root, 'image'), (mask_root, 'mask'))
                        if not osp.isdir(folder)]

    # splits; owner: id -> its first split file, in listing order
    owner: Dict[str, str] = {}
    for name, fname in lay['splits'].items():
        path = osp.join(data_root, fname)
        try:
            ids = read_split_file(path)
        except (OSError, ValueError) as e:
            report.problems.append(str(e))
            report.split_counts[name] = 0
            continue
        report.split_counts[name] = len(ids)
        dups = sorted(i for i, n in Counter(ids).items() if n > 1)
        if dups:
            report.problems.append(
                f'split file {path} lists {len(dups)} id(s) more than once: '
                f'{dups[:10]}; keep each id once')
        for i in ids:
            if owner.setdefault(i, path) != path:
                report.problems.append(
                    f'id {i} is in both {owner[i]} and {path}; an image must '
                    'be in one split only (train/val leakage)')

    lower = []  # classes under a level-1 'lower_body' node, if any
    if lvl >= 1 and 'lower_body' in tree.classes(1):
        lower = np.flatnonzero(level_lut(tree, lvl, 1) == tree.classes(
            1).index('lower_body'))
    bg = tree.background_index(lvl)

    for img_id in tqdm(list(owner), desc='checking', unit='img',
                       disable=not progress):
        report.num_samples += 1
        where = f'[{osp.basename(owner[img_id])}: {img_id}]'
        img_path = osp.join(img_root, img_id + lay['img_suffix'])
        mask_path = osp.join(mask_root, img_id + lay['mask_suffix'])
        label, tag, problems = check_sample(img_path, mask_path, tree,
                                            image_orientation, decode_images,
                                            label_level=lvl)
        if tag != 1:
            report.oriented_images.append(f'{img_path} ({tag})')
        report.problems += [f'{where} {p}' for p in problems]
        if problems:
            continue
        report.num_valid += 1
        counts = np.bincount(label.ravel(), minlength=IGNORE_INDEX + 1)
        report.ignored_pixels += int(counts[IGNORE_INDEX])
        for k in range(tree.num_classes[lvl]):
            report.pixel_counts[k] += int(counts[k])
            report.images_per_class[k] += int(counts[k] > 0)
        if counts[:tree.num_classes[lvl]].sum() == counts[bg]:  # no fg
            report.no_person += 1
        elif len(lower) and counts[lower].sum() == 0:
            report.upper_body_only += 1

    report.priors = check_prior_files(
        [osp.join(img_root, i + lay['img_suffix']) for i in owner], priors,
        prior_channels, report.image_orientation, progress=progress)
    report.problems += report.priors.all_problems() if report.priors else []
    if osp.isdir(img_root):
        n = len(lay['img_suffix'])
        report.unlisted_images = sum(
            1 for f in os.listdir(img_root)
            if f.endswith(lay['img_suffix']) and f[:-n] not in owner)
    return report
