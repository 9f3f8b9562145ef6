"""Seed studies: configs x seeds at one budget, each run in its own process.

Every run trains a config for ``iters`` iterations (its LR schedule ends
there), validates on the first ``test_images`` validation images at
``curve`` evenly spaced points of that one run (the last is the budget) and
then tests its final weights in ``independent`` decoding too. Results are
stored under a key of every setting that changes them, so a finished run is
never repeated and a changed setting is never read back as another's.
"""
import copy
import hashlib
import json
import os
import os.path as osp
import subprocess
import sys
import time
from typing import Dict, List, Optional

from mmengine.hooks import Hook

__all__ = ['StudySettings', 'resolve_config', 'run_key', 'train_one',
           'run_study']

#: where study configs live: ``configs/studies/<study>/<name>.py``
STUDIES_DIR = osp.join(osp.dirname(osp.dirname(osp.dirname(
    osp.abspath(__file__)))), 'configs', 'studies')


class StudySettings(dict):
    """What a study run depends on besides its config and seed.

    Args:
        iters (int): Training iterations (the budget).
        data_root (str): Dataset root.
        test_images (int, optional): Evaluate on the first N validation
            images; all when None.
        curve (int): Evaluation points of every run (``iters / curve`` apart).
        work_dir (str): Root of the study's runs.
        threads (int, optional): torch threads per run.
    """

    def __init__(self, iters: int, data_root: str,
                 test_images: Optional[int] = None, curve: int = 4,
                 work_dir: str = 'work_dirs/studies',
                 threads: Optional[int] = None):
        if iters < 1 or curve < 1 or curve > iters:
            raise ValueError(f'need iters >= curve >= 1, got iters={iters},'
                             f' curve={curve}')
        super().__init__(iters=iters, data_root=osp.abspath(data_root),
                         test_images=test_images, curve=curve,
                         work_dir=work_dir, threads=threads)


def resolve_config(name: str) -> str:
    """The config file of a study name (``design/flat_twin``) or a path.

    Args:
        name (str): ``<study>/<config>``, a bare config name found in exactly
            one study, or a path to a config file.

    Returns:
        str: The config's path.

    Raises:
        FileNotFoundError: When nothing (or more than one file) matches.
    """
    if osp.isfile(name):
        return name
    stem = name[:-3] if name.endswith('.py') else name
    if osp.isfile(osp.join(STUDIES_DIR, stem + '.py')):
        return osp.join(STUDIES_DIR, stem + '.py')
    found = sorted(osp.join(STUDIES_DIR, d, stem + '.py')
                   for d in os.listdir(STUDIES_DIR)
                   if osp.isfile(osp.join(STUDIES_DIR, d, stem + '.py')))
    if len(found) != 1:
        known = sorted(f'{d}/{f[:-3]}' for d in os.listdir(STUDIES_DIR)
                       if osp.isdir(osp.join(STUDIES_DIR, d))
                       for f in os.listdir(osp.join(STUDIES_DIR, d))
                       if f.endswith('.py'))
        why = 'names several' if found else 'is no file and names no'
        raise FileNotFoundError(
            f'{name!r} {why} study config; known: {", ".join(known)}')
    return found[0]


def run_key(config: str, settings: StudySettings) -> str:
    """A short hash of the config's full text and of the settings.

    Args:
        config (str): Config path.
        settings (StudySettings): The study's settings.

    Returns:
        str: 12 hex digits (the data's generator record is hashed too).
    """
    from mmengine.config import Config

    from .data import data_manifest
    keep = {k: v for k, v in settings.items()
            if k not in ('work_dir', 'threads')}  # these change no result
    keep['data'] = data_manifest(settings['data_root'])
    text = Config.fromfile(config).pretty_text + json.dumps(keep,
                                                            sort_keys=True)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def _name(config: str) -> str:
    return osp.splitext(osp.basename(config))[0]


class _MetricsRecorder(Hook):
    """Keeps every validation's metrics by iteration."""

    def __init__(self):
        self.curve = {}

    def after_val_epoch(self, runner, metrics=None):
        self.curve[runner.iter] = dict(metrics or {})


def study_cfg(config: str, seed: int, settings: StudySettings, work: str):
    """The config of one run: budget, evaluation points, no checkpoints.

    Args:
        config (str): Config path.
        seed (int): Training seed.
        settings (StudySettings): The study's settings.
        work (str): The run's work dir.

    Returns:
        mmengine.Config: The run's config.
    """
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    iters = settings['iters']
    cfg.work_dir, cfg.randomness = work, dict(seed=int(seed))
    cfg.train_cfg.max_iters = iters
    cfg.train_cfg.val_interval = iters // settings['curve']
    for sched in cfg.param_scheduler:  # the schedule ends at the budget
        sched.end = min(sched.end, iters)
        sched.begin = min(sched.begin, sched.end - 1)
    cfg.default_hooks.checkpoint = None
    cfg.custom_hooks = [h for h in cfg.get('custom_hooks', [])
                        if h['type'] != 'ValSamplesVisHook']  # no panels
    cfg.visualizer.vis_backends = [dict(type='LocalVisBackend')]
    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[split].dataset.data_root = settings['data_root']
    for split in ('val_dataloader', 'test_dataloader'):
        cfg[split] = copy.deepcopy(cfg.test_dataloader)
        if settings['test_images']:
            cfg[split].dataset.indices = settings['test_images']
    return cfg


def train_one(config: str, seed: int, settings: StudySettings) -> dict:
    """Train one config with one seed in this process.

    Args:
        config (str): Config path.
        seed (int): Training seed.
        settings (StudySettings): The study's settings.

    Returns:
        dict: ``train_s``, ``curve`` (``{iteration: metrics}`` in the
        config's decoding), ``consistent`` and, unless the head derives its
        coarse levels from the leaf (``layout='marginal'``), ``independent``
        (metrics of the final weights).
    """
    from mmengine.runner import Runner
    work = osp.join(settings['work_dir'], _name(config),
                    run_key(config, settings), f'seed{seed}')
    cfg = study_cfg(config, seed, settings, work)
    t = time.perf_counter()
    runner = Runner.from_cfg(cfg)
    recorder = _MetricsRecorder()
    runner.register_hook(recorder, 'LOWEST')
    runner.train()
    result = dict(train_s=time.perf_counter() - t, curve=recorder.curve)
    result[cfg.model.get('decode', 'consistent')] = \
        recorder.curve[settings['iters']]
    if cfg.model.decode_head.get('layout') != 'marginal':
        missing = ({'consistent', 'independent'} - set(result)).pop()
        runner.save_checkpoint(work, 'final.pth')
        test_cfg = copy.deepcopy(cfg)
        test_cfg.model.decode = missing
        test_cfg.load_from = osp.join(work, 'final.pth')
        test_cfg.work_dir = osp.join(work, missing)
        result[missing] = Runner.from_cfg(test_cfg).test()
        os.remove(test_cfg.load_from)
    return result


def run_study(configs: List[str], seeds: int, settings: StudySettings,
              jobs: int = 1, report_only: bool = False,
              first_seed: int = 0) -> Dict[str, List[dict]]:
    """Run (or read back) every config x seed, ``jobs`` processes at once.

    Runs go seed by seed, so an interrupted study is even across configs.
    When this function leaves for any reason (an error, ``KeyboardInterrupt``
    or the ``SystemExit`` of a signal handler), its running children are
    terminated.

    Args:
        configs (list[str]): Config paths.
        seeds (int): How many seeds: ``first_seed .. first_seed + seeds - 1``.
        settings (StudySettings): The study's settings.
        jobs (int): Runs at once. Defaults to 1.
        report_only (bool): Only read back finished runs.
        first_seed (int): The first seed. Defaults to 0.

    Returns:
        dict[str, list[dict]]: Results by config name (finished runs only).

    Raises:
        RuntimeError: When a run fails (with the end of its log).
    """
    if seeds < 1 or jobs < 1 or first_seed < 0:
        raise ValueError('need seeds >= 1, jobs >= 1 and first_seed >= 0, '
                         f'got {seeds}, {jobs}, {first_seed}')
    seed_range = range(first_seed, first_seed + seeds)
    out = {c: osp.join(settings['work_dir'], _name(c), run_key(c, settings))
           for c in configs}
    todo = [(c, s) for s in seed_range for c in configs
            if not report_only and
            not osp.isfile(osp.join(out[c], f'seed{s}.json'))]
    running = []
    try:
        while todo or running:
            while todo and len(running) < jobs:
                config, seed = todo.pop(0)
                os.makedirs(out[config], exist_ok=True)
                with open(osp.join(out[config], 'settings.json'), 'w') as f:
                    json.dump(dict(settings, config=config), f, indent=1)
                log = open(osp.join(out[config], f'seed{seed}.log'), 'w')
                cmd = [sys.executable, '-m', 'mmhierseg.benchmark.worker',
                       config, str(seed), json.dumps(settings)]
                running.append((subprocess.Popen(
                    cmd, stdout=log, stderr=subprocess.STDOUT), log))
            time.sleep(0.5)
            for proc, log in [r for r in running if r[0].poll() is not None]:
                running.remove((proc, log))
                log.close()
                if proc.returncode:
                    with open(log.name) as f:
                        tail = ''.join(f.readlines()[-30:])
                    raise RuntimeError(
                        f'study run failed ({log.name}):\n{tail}')
    finally:
        for proc, log in running:
            proc.terminate()
        for proc, log in running:
            proc.wait()
            log.close()
    results = {}
    for config in configs:
        for s in seed_range:
            path = osp.join(out[config], f'seed{s}.json')
            if osp.isfile(path):
                with open(path) as f:
                    results.setdefault(_name(config), []).append(json.load(f))
    return results
