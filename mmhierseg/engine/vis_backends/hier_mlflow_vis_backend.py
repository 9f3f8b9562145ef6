"""MLflow tracking in the work dir: mmengine's ``MLflowVisBackend`` extended at
its public methods, on ``mlflow.MlflowClient`` (no global MLflow state):

- the run starts on the first ``add_*`` call: store
  ``sqlite:///<work_dir>/mlruns.db``, artifacts in ``<work_dir>/mlartifacts``
  (mlflow 3 refuses mmengine's file store), a server checked first;
  ``resume=True`` reopens the run recorded in ``<work_dir>/mlflow_run.json``,
  also in a moved work dir (its artifacts are then addressed relative to the
  work dir, see :mod:`.run_artifacts`);
- :meth:`add_config`: keys of any type; a resumed run adds only new params;
- :meth:`close`: the one place a run ends: by mmengine when ``train`` or
  ``test`` completes, or at exit if still open (``FAILED`` after an uncaught
  exception, else ``KILLED``: Ctrl-C, SIGTERM).
"""
import atexit
import functools
import inspect
import json
import os
import os.path as osp
import sys
import time
from pathlib import Path
from typing import Optional

import numpy as np
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.visualization import MLflowVisBackend

from mmseg.registry import VISBACKENDS
from .mlflow_store import (check_tracking_server, config_params,
                           deferred_interrupts, open_experiment, open_run)
from .run_artifacts import ARTIFACTS, RunArtifacts, run_files

__all__ = ['HierMLflowVisBackend', 'RUN_ID_FILE']

#: File (in the work dir) that records the run id for resuming.
RUN_ID_FILE = 'mlflow_run.json'


def _in_run(method):
    """Run ``method`` in the run (started if needed), SIGINT and SIGTERM held
    while it calls a SQLite store (:func:`deferred_interrupts`)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        self._open()
        with deferred_interrupts(self.tracking_uri):
            return method(self, *args, **kwargs)

    return wrapper


@VISBACKENDS.register_module()
class HierMLflowVisBackend(MLflowVisBackend):
    """MLflow backend with a work-dir SQLite store and resumable runs.

    Args:
        save_dir (str): Set by the runner: ``<work_dir>/<timestamp>/vis_data``.
        run_id_file (str, optional): File in the work dir recording the run
            id, reopened when the config says ``resume=True``; ``None``
            records nothing and never resumes (test runs).
        log_best_checkpoint (bool): Log the best checkpoint at the end.
        **kwargs: ``MLflowVisBackend``'s arguments; ``exp_name`` defaults to
            the config's file name, ``tracking_uri`` to ``MLFLOW_TRACKING_URI``
            or the work-dir store, ``artifact_location`` (of a new
            experiment) to ``<work_dir>/mlartifacts`` for that store.
    """

    def __init__(self, save_dir: str, run_id_file: Optional[str] = RUN_ID_FILE,
                 log_best_checkpoint: bool = True, **kwargs):
        super().__init__(save_dir, **kwargs)
        # own copy of the arguments: mmengine's fields are its implementation
        args = inspect.signature(MLflowVisBackend).bind(save_dir, **kwargs)
        args.apply_defaults()
        self._args = dict(args.arguments)
        suffix = self._args['artifact_suffix']
        self._args['artifact_suffix'] = suffix if isinstance(
            suffix, str) else tuple(suffix)
        self.run_id_file = run_id_file
        self.log_best_checkpoint = log_best_checkpoint
        self.cfg: Optional[Config] = None
        self.client = None  #: ``MlflowClient`` of the store, once started
        self.run_id: Optional[str] = None
        self.tracking_uri: Optional[str] = None
        self.resumed = False
        self.artifacts: Optional[RunArtifacts] = None

    @property
    def experiment(self):
        """``MlflowClient``: the store's client (the run is :attr:`run_id`)."""
        self._open()
        return self.client

    def add_config(self, config: Config, **kwargs) -> None:
        """Log the config as parameters and as ``config.py``.

        Args:
            config (Config): The runner's config; its ``work_dir``,
                ``resume`` and file name are read when the run starts.
        """
        self.cfg = config
        self._log_config()

    @_in_run
    def _log_config(self) -> None:
        cfg, keys = self.cfg.to_dict(), self._args['tracked_config_keys']
        if keys is not None:
            cfg = {k: cfg[k] for k in keys if k in cfg}
        self._log_params(cfg)
        self.artifacts.log_text(
            self.cfg.pretty_text, 'config.py' if not self.resumed else
            f'config_resume_{time.strftime("%Y%m%d_%H%M%S")}.py')

    @_in_run
    def add_image(self, name: str, image: np.ndarray, step: int = 0,
                  **kwargs) -> None:
        """Log an RGB image as the artifact ``name`` (e.g. ``a/b.png``).

        Args:
            name (str): Artifact file, with an image extension.
            image (np.ndarray): The image, RGB (floats in ``[0, 1]``).
            step (int): Unused (the step is in the name of mmhierseg's).
        """
        self.artifacts.log_image(image, name)

    def add_scalar(self, name: str, value, step: int = 0, **kwargs) -> None:
        """Log one metric (a number); see :meth:`add_scalars`."""
        self.add_scalars({name: value}, step)

    @_in_run
    def add_scalars(self, scalar_dict: dict, step: int = 0,
                    file_path: Optional[str] = None, **kwargs) -> None:
        """Log metrics.

        Args:
            scalar_dict (dict): ``{key: number}``.
            step (int): Step of the values.
            file_path (str, optional): Unused (interface of mmengine's).
        """
        from mlflow.entities import Metric
        assert 'step' not in scalar_dict, 'pass the step as `step`'
        now = int(time.time() * 1000)
        self.client.log_batch(self.run_id, metrics=[
            Metric(k, float(v), now, int(step))
            for k, v in scalar_dict.items()])

    def close(self, status: str = 'FINISHED') -> None:
        """Log the artifacts and end the run.

        Args:
            status (str): ``'FINISHED'``, ``'FAILED'`` or ``'KILLED'``.
        """
        if self.run_id is None:
            return
        atexit.unregister(self._end_at_exit)
        with deferred_interrupts(self.tracking_uri):
            try:
                for path, folder in run_files(
                        osp.dirname(osp.abspath(self._args['save_dir'])),
                        self._work_dir(), self._args['artifact_suffix'],
                        self.run_id_file, self.log_best_checkpoint):
                    self.artifacts.log_file(path, folder)
            finally:
                self.client.set_terminated(self.run_id, status)
            print_log(f'MLflow: run {self.run_id} ended ({status})',
                      logger='current')
            self.run_id = None  # a reused visualizer starts anew

    def _work_dir(self) -> str:
        if self.cfg is not None and self.cfg.get('work_dir'):
            return osp.abspath(self.cfg.work_dir)
        return osp.dirname(osp.dirname(osp.abspath(self._args['save_dir'])))

    def _recorded_run_id(self, work_dir: str) -> Optional[str]:
        """The recorded run id if this start resumes and the store has it."""
        path = osp.join(work_dir, self.run_id_file or '')
        if not (self.run_id_file and osp.isfile(path) and self.cfg is not None
                and self.cfg.get('resume', False)):
            return None
        with open(path) as f:
            run_id = json.load(f).get('run_id')
        try:
            return self.client.get_run(run_id).info.run_id
        except Exception:  # noqa: BLE001 - not in this store
            print_log(f'MLflow: run {run_id} recorded in {path} is not in '
                      f'{self.tracking_uri}; starting a new run',
                      logger='current', level=30)
            return None

    def _open(self) -> None:
        """Open the store, then start the run or reopen the recorded one."""
        if self.run_id is not None:
            return
        os.makedirs(self._args['save_dir'], exist_ok=True)
        work_dir = self._work_dir()
        local_uri = 'sqlite:///' + osp.join(work_dir, 'mlruns.db')
        self.tracking_uri = (self._args['tracking_uri']
                             or os.getenv('MLFLOW_TRACKING_URI') or local_uri)
        check_tracking_server(self.tracking_uri, local_uri)
        with deferred_interrupts(self.tracking_uri):
            self._start(work_dir, self.tracking_uri == local_uri)

    def _start(self, work_dir: str, local: bool) -> None:
        from mlflow import MlflowClient
        args = self._args
        # the work-dir store keeps its artifacts in the work dir, moved or not
        in_work_dir = local and not args['artifact_location']
        self.client = MlflowClient(tracking_uri=self.tracking_uri)
        exp_name = args['exp_name'] or osp.splitext(osp.basename(
            getattr(self.cfg, 'filename', None) or 'mmhierseg'))[0]
        exp_id = open_experiment(
            self.client, exp_name, args['artifact_location']
            or (Path(work_dir, ARTIFACTS).as_uri() if in_work_dir else None))
        run_id = self._recorded_run_id(work_dir)
        self.resumed = run_id is not None
        run = open_run(
            self.client, exp_id, run_id, args['run_name'] or '{}_{}'.format(
                osp.basename(work_dir), time.strftime('%Y%m%d_%H%M%S')),
            dict(args['tags'] or {},
                 **({'mmhierseg.resumed': 'true'} if run_id else {})))
        self.run_id = run.info.run_id
        atexit.register(self._end_at_exit)
        print_log(f'MLflow: {"resumed" if run_id else "started"} run '
                  f'{self.run_id} at {self.tracking_uri}', logger='current')
        self.artifacts = RunArtifacts.for_run(
            self.client, run, work_dir if in_work_dir else None)
        if self.run_id_file:
            with open(osp.join(work_dir, self.run_id_file), 'w') as f:
                json.dump(dict(run_id=self.run_id, experiment_id=exp_id,
                               experiment_name=exp_name,
                               tracking_uri=self.tracking_uri), f, indent=2)
        if args['params']:
            self._log_params(args['params'])

    def _log_params(self, params: dict) -> None:
        """Log params; a resumed run keeps its first values."""
        from mlflow.entities import Param
        logged = self.client.get_run(self.run_id).data.params
        self.client.log_batch(self.run_id, params=[
            Param(k, v) for k, v in config_params(params, logged).items()])

    def _end_at_exit(self) -> None:
        # an interrupt can surface as another error (Config.pretty_text)
        error = getattr(sys, 'last_value', None)
        failed = error is not None
        while error is not None and failed:
            failed = not isinstance(error, KeyboardInterrupt)
            error = error.__context__
        self.close('FAILED' if failed else 'KILLED')
