"""The prior files of a dataset's images: :func:`check_prior_files`.

For each image, its prior file (where
:class:`~mmhierseg.datasets.transforms.LoadPoseAnnotations` reads it) must
exist, be readable, record the image's size (from the image header, under
the dataset's EXIF orientation policy), hold a person mask when the
``mask`` channel is drawn, and record what made it
(:func:`~mmhierseg.priors.file_checks.check_prior_file`). Used by
:func:`~mmhierseg.datasets.check_dataset` (every file read whole) and by the
start-up check of training (:func:`~mmhierseg.utils.prior_checks
.check_priors`, the files' headers).
"""
import os.path as osp
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from tqdm import tqdm

from mmhierseg.priors import PRECOMPUTE_HINT, PRIOR_CHANNELS, prior_path
from mmhierseg.priors.file_checks import check_prior_file, describe_source
from .images import image_header, oriented_size

__all__ = ['PriorReport', 'check_prior_files']


@dataclass
class PriorReport:
    """Result of :func:`check_prior_files`.

    Attributes:
        prior_dir (str): The prior folder (of the first image).
        channels (tuple[str]): The channels checked for.
        num_images (int): Images looked up.
        missing (list[str]): Prior files not found.
        num_valid (int): Files without a problem.
        with_mask (int): Readable files holding a person mask.
        sources (dict[str, dict]): ``prior file -> source`` of the
            readable files.
        problems (list[str]): One line per bad file, naming it and the fix.
        note (str): Why nothing was checked (no prior folder), or ``''``.
    """
    prior_dir: str = ''
    channels: tuple = ()
    num_images: int = 0
    missing: List[str] = field(default_factory=list)
    num_valid: int = 0
    with_mask: int = 0
    sources: Dict[str, dict] = field(default_factory=dict)
    problems: List[str] = field(default_factory=list)
    note: str = ''

    def all_problems(self) -> List[str]:
        """One line for the missing files (if any), then :attr:`problems`."""
        missing = [
            f'{len(self.missing)} of {self.num_images} images have no prior '
            f'file (e.g. {self.missing[0]}); {PRECOMPUTE_HINT}'
        ] if self.missing else []
        return missing + self.problems

    def lines(self) -> List[str]:
        """Summary lines for a report (the problems are listed apart)."""
        if self.note:
            return [f'priors: {self.note}']
        made = Counter(describe_source(s) for s in self.sources.values())
        out = [
            f'priors ({self.prior_dir}): {self.num_images} images, '
            f'{len(self.missing)} without a file, {self.num_valid} files '
            f'usable, {len(self.problems)} bad; with a person mask: '
            f'{self.with_mask}; checked for channels '
            f"{', '.join(self.channels)}",
            '  made by: ' + (', '.join(f'{k} {v}' for k, v in
                                       made.most_common()) or '-')
        ]
        if len(made) > 1:
            out.append('  (several sources: training with any_source=False '
                       'refuses all files but those of model.stem)')
        return out


def check_prior_files(img_paths: Sequence[str],
                      prior_dir: Optional[str] = 'priors',
                      channels: Sequence[str] = PRIOR_CHANNELS,
                      image_orientation: Optional[str] = None,
                      full: bool = True,
                      progress: bool = False) -> Optional[PriorReport]:
    """Check the prior file of every image.

    Args:
        img_paths (Sequence[str]): The images.
        prior_dir (str, optional): As ``LoadPoseAnnotations``'s
            ``prior_dir`` (a folder name next to the image folder, or an
            absolute path); ``'auto'``: ``'priors'`` when that folder
            exists (else a report with a ``note`` only); None: no check.
        channels (Sequence[str]): The channels that will be drawn.
        image_orientation (str, optional): The dataset's EXIF policy.
        full (bool): Read every file whole (else only its header).
        progress (bool): Show a tqdm progress bar.

    Returns:
        PriorReport | None: None when ``prior_dir`` is None.
    """
    if prior_dir is None:
        return None
    first = prior_path(img_paths[0] if img_paths else 'x/x.jpg',
                       'priors' if prior_dir == 'auto' else prior_dir)
    report = PriorReport(osp.dirname(first), tuple(channels),
                         len(img_paths))
    if prior_dir == 'auto':
        if not osp.isdir(report.prior_dir):
            report.note = (f'not checked: no prior folder '
                           f'{report.prior_dir} (--priors DIR names one)')
            return report
        prior_dir = 'priors'
    for img_path in tqdm(img_paths, desc='priors', unit='file',
                         disable=not progress):
        path = prior_path(img_path, prior_dir)
        if not osp.isfile(path):
            report.missing.append(path)
            continue
        try:
            raw_hw, tag = image_header(img_path)
            size = oriented_size(raw_hw, tag, image_orientation)
        except Exception:  # reported by the image checks
            size = None
        header, problems = check_prior_file(path, size, channels, full,
                                            img_path)
        if header is not None:
            report.sources[path] = header.source
            report.with_mask += header.has_mask
        report.problems += problems
        report.num_valid += not problems
    return report
