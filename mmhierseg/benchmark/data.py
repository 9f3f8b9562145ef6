"""The data every study and benchmark runs on: made once, checked always."""
import json
import os
import os.path as osp
from typing import Dict, Optional

import numpy as np

__all__ = ['DEGRADE_LEVELS', 'STUDY_DATA', 'prepare_study_data',
           'data_manifest', 'degrade_prior_folder']

#: the synthetic set of the studies: the demo's (``make demo``)
STUDY_DATA = dict(num_train=800, num_val=200, seed=0)

#: prior folders with pose-model errors, made from the oracle ``priors/``:
#: keypoint jitter (std, share of the person's box diagonal), share of
#: dropped joints, share of missed people. The configs under
#: ``configs/studies/prior/`` read them by folder name.
#:
#: ``priors_yolo11n_like`` / ``priors_yolo11x_like``: the levels whose COCO
#: keypoint AP against the oracle (mAP@OKS 0.50:0.95 and AP50, on the 200
#: validation images of :data:`STUDY_DATA`; OKS area: the true mask in the
#: person's box; person score: mean keypoint confidence) is closest to the
#: published COCO val2017 figures of YOLO11n-pose (50.0 / 81.0: these give
#: 50.4 / 82.5) and YOLO11x-pose (69.5 / 91.1: these give 69.7 / 92.4);
#: ``tools/benchmark_prior.py calibrate``. AP does not see ``drop`` (OKS
#: ignores keypoint confidences): it is set equal to ``miss``.
#: ``priors_degraded_1`` / ``_2`` (uncalibrated, kept for earlier results)
#: are harsher than either: AP 28.6 / 0.0.
DEGRADE_LEVELS: Dict[str, dict] = {
    'priors_degraded_1': dict(jitter=0.03, drop=0.15, miss=0.15),
    'priors_degraded_2': dict(jitter=0.08, drop=0.3, miss=0.3),
    'priors_yolo11n_like': dict(jitter=0.02, drop=0.15, miss=0.15),
    'priors_yolo11x_like': dict(jitter=0.015, drop=0.05, miss=0.05),
}

_MANIFEST = 'synthetic.json'


def prepare_study_data(data_root: str,
                       num_train: int = STUDY_DATA['num_train'],
                       num_val: int = STUDY_DATA['num_val'],
                       seed: int = STUDY_DATA['seed'],
                       degraded: Optional[Dict[str, dict]] = None) -> dict:
    """Make the synthetic study set where ``data_root`` is empty; make the
    degraded prior folders where it has oracle ``priors/`` (not on a set
    whose ``priors/`` the generator already degraded, such as the demo's).

    A set the generator made records its settings (``synthetic.json``);
    tools print them and study results are keyed by them, so a study never
    runs on another set without saying so. A folder without that record (a
    real dataset) is used as it is.

    Args:
        data_root (str): The dataset root.
        num_train (int): Training images of a new set.
        num_val (int): Validation images of a new set.
        seed (int): Seed of a new set.
        degraded (dict[str, dict], optional): Degraded prior folders to make
            (name -> :func:`degrade_prior_folder` levels). Defaults to
            :data:`DEGRADE_LEVELS`.

    Returns:
        dict: The generator's record of the set, or ``{}`` for other data.
    """
    if not osp.isdir(data_root) or not os.listdir(data_root):
        from mmhierseg.testing.synthetic import make_synthetic_dataset
        make_synthetic_dataset(data_root, num_train, num_val, seed=seed)
    made = data_manifest(data_root)
    if made.get('prior_degrade') or \
            made.get('prior_mask', 'oracle') != 'oracle':
        # priors/ already holds a pose model's errors (the demo's set):
        # degrading them again would stand for no pose model
        return made
    if osp.isdir(osp.join(data_root, 'priors')):
        for name, levels in (DEGRADE_LEVELS if degraded is None
                             else degraded).items():
            degrade_prior_folder(data_root, name, **levels)
    return data_manifest(data_root)


def data_manifest(data_root: str) -> dict:
    """The generator's record of a synthetic set (``{}`` for other data).

    Args:
        data_root (str): The dataset root.

    Returns:
        dict: Its settings (``num_train``, ``num_val``, ``seed``, ...).
    """
    path = osp.join(data_root, _MANIFEST)
    if not osp.isfile(path):
        return {}
    with open(path) as f:
        return json.load(f)


def degrade_prior_folder(data_root: str, name: str, jitter: float,
                         drop: float, miss: float) -> str:
    """Write ``<data_root>/<name>/`` from the oracle ``priors/``, once.

    Each file has its own fixed random stream (its sorted position), so
    every seed and config of a study reads the same degraded priors. A
    folder made with other levels is refused.

    Args:
        data_root (str): The dataset root (with ``priors/``).
        name (str): The folder to write.
        jitter (float): Keypoint noise (share of the box diagonal).
        drop (float): Share of dropped joints.
        miss (float): Share of missed people.

    Returns:
        str: The folder.
    """
    from mmhierseg.priors import load_priors, save_priors
    from mmhierseg.testing.synthetic_priors import degrade_priors
    levels = dict(jitter=jitter, drop=drop, miss=miss)
    oracle, out = osp.join(data_root, 'priors'), osp.join(data_root, name)
    stamp = osp.join(out, 'degrade.json')
    if osp.isfile(stamp):
        with open(stamp) as f:
            made = json.load(f)
        if made != levels:
            raise ValueError(
                f'{out} was made with {made}, not {levels}: delete it to '
                'make it again')
    for k, file in enumerate(sorted(os.listdir(oracle))):
        if file.endswith('.npz') and not osp.isfile(osp.join(out, file)):
            people, source = load_priors(osp.join(oracle, file))
            worse = degrade_priors(people, np.random.default_rng([7, k]),
                                   **levels)
            save_priors(osp.join(out, file), worse,
                        dict(source, degrade=levels))
    with open(stamp, 'w') as f:
        json.dump(levels, f)
    return out
