"""MLflow tracking in the work dir: mmengine's ``MLflowVisBackend`` with

- :meth:`_init_env`: store ``sqlite:///<work_dir>/mlruns.db``, artifacts in
  ``<work_dir>/mlartifacts`` (mlflow 3 refuses mmengine's file store), a
  server checked first; ``resume=True`` reopens the run recorded in
  ``<work_dir>/mlflow_run.json``, also in a moved work dir;
- :meth:`add_config`: keys of any type; a resumed run adds only new params;
- :meth:`close`: the one place a run ends: by mmengine when ``train`` or
  ``test`` completes, or at exit if still open (``FAILED`` after an uncaught
  exception, else ``KILLED``: Ctrl-C, SIGTERM).
"""
import atexit
import json
import os
import os.path as osp
import re
import sys
import time
from pathlib import Path
from typing import Optional

from mmengine.config import Config
from mmengine.logging import MessageHub, print_log
from mmengine.utils import scandir
from mmengine.visualization import MLflowVisBackend
from mmengine.visualization.vis_backend import force_init_env

from mmseg.registry import VISBACKENDS
from .mlflow_store import check_tracking_server, open_experiment

__all__ = ['HierMLflowVisBackend', 'RUN_ID_FILE']

#: File (in the work dir) that records the run id for resuming.
RUN_ID_FILE = 'mlflow_run.json'


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
            or the work-dir store.
    """

    def __init__(self, save_dir: str, run_id_file: Optional[str] = RUN_ID_FILE,
                 log_best_checkpoint: bool = True, **kwargs):
        super().__init__(save_dir, **kwargs)
        self._run_id_file = run_id_file
        self._log_best_checkpoint = log_best_checkpoint
        self.run_id: Optional[str] = None
        self.resumed = False

    def _work_dir(self) -> str:
        cfg = getattr(self, 'cfg', None)
        if cfg is not None and cfg.get('work_dir'):
            return osp.abspath(cfg.work_dir)
        return osp.dirname(osp.dirname(osp.abspath(self._save_dir)))

    def _recorded_run_id(self, work_dir: str) -> Optional[str]:
        """The recorded run id if this start resumes and the store has it."""
        path = osp.join(work_dir, self._run_id_file or '')
        if not (self._run_id_file and osp.isfile(path)
                and getattr(self, 'cfg', {}).get('resume', False)):
            return None
        with open(path) as f:
            run_id = json.load(f).get('run_id')
        try:
            return self._mlflow.get_run(run_id).info.run_id
        except Exception:  # noqa: BLE001 - not in this store
            print_log(f'MLflow: run {run_id} recorded in {path} is not in '
                      f'{self._tracking_uri}; starting a new run',
                      logger='current', level=30)
            return None

    def _init_env(self):
        """Open the store, then start the run or reopen the recorded one."""
        import mlflow
        self._mlflow = mlflow
        os.makedirs(self._save_dir, exist_ok=True)
        work_dir = self._work_dir()
        local_uri = 'sqlite:///' + osp.join(work_dir, 'mlruns.db')
        local = not (self._tracking_uri or os.getenv('MLFLOW_TRACKING_URI'))
        self._tracking_uri = local_uri if local else (
            self._tracking_uri or os.environ['MLFLOW_TRACKING_URI'])
        check_tracking_server(self._tracking_uri, local_uri)
        mlflow.set_tracking_uri(self._tracking_uri)
        if local:  # mlflow exports it: the next backend would take it as set
            os.environ.pop('MLFLOW_TRACKING_URI', None)
        if self._exp_name is None:
            name = getattr(getattr(self, 'cfg', None), 'filename', None)
            self._exp_name = osp.splitext(osp.basename(name or 'mmhierseg'))[0]
        # the work-dir store keeps its artifacts in the work dir, moved or not
        exp_id = open_experiment(
            mlflow, self._exp_name, self._artifact_location
            or (Path(work_dir, 'mlartifacts').as_uri() if local else None),
            follow_move=local and self._artifact_location is None)
        run_id = self._recorded_run_id(work_dir)
        self.resumed = run_id is not None
        run = mlflow.start_run(
            run_id=run_id, experiment_id=None if run_id else exp_id,
            run_name=None if run_id else self._run_name or '{}_{}'.format(
                osp.basename(work_dir), time.strftime('%Y%m%d_%H%M%S')),
            tags=dict(self._tags or {}, **(
                {'mmhierseg.resumed': 'true'} if run_id else {})))
        self.run_id = run.info.run_id
        atexit.register(self._end_at_exit)
        print_log(f'MLflow: {"resumed" if run_id else "started"} run '
                  f'{self.run_id} at {self._tracking_uri}', logger='current')
        if self._run_id_file:
            with open(osp.join(work_dir, self._run_id_file), 'w') as f:
                json.dump(dict(run_id=self.run_id, experiment_id=exp_id,
                               experiment_name=self._exp_name,
                               tracking_uri=self._tracking_uri), f, indent=2)
        if self._params:
            self._log_params(self._params)

    def _flatten(self, d, parent_key='', sep='.') -> dict:
        """mmengine's flattening, for keys of any type (``{0: 'bg'}``)."""
        return super()._flatten({str(k): v for k, v in d.items()},
                                parent_key, sep)

    def _log_params(self, params: dict) -> None:
        """Log flattened params; a resumed run keeps its first values."""
        from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH
        logged = self._mlflow.get_run(self.run_id).data.params
        flat = {re.sub(r'[^\w.\- /]', '_', k): str(v)[:MAX_PARAM_VAL_LENGTH]
                for k, v in self._flatten(params).items()}
        self._mlflow.log_params(
            {k: v for k, v in flat.items() if k not in logged})

    def add_config(self, config: Config, **kwargs) -> None:
        """Log the config as parameters and as ``config.py``.

        Args:
            config (Config): The runner's config; its ``work_dir``,
                ``resume`` and file name are read when the run starts.
        """
        self.cfg = config
        self._log_config()

    @force_init_env
    def _log_config(self) -> None:
        cfg = self.cfg.to_dict()
        if self._tracked_config_keys is not None:
            cfg = {k: cfg[k] for k in self._tracked_config_keys if k in cfg}
        self._log_params(cfg)
        self._mlflow.log_text(
            self.cfg.pretty_text, 'config.py' if not self.resumed else
            f'config_resume_{time.strftime("%Y%m%d_%H%M%S")}.py')

    def _artifact_files(self) -> list:
        """(file, artifact folder): this run's log folder, the files at the
        top of the work dir and the best checkpoints."""
        log_dir = osp.dirname(osp.abspath(self._save_dir))
        work_dir = self._work_dir()
        suffix = self._artifact_suffix if isinstance(
            self._artifact_suffix, str) else tuple(self._artifact_suffix)
        files = [(osp.join(log_dir, rel),
                  osp.normpath(osp.join(osp.basename(log_dir),
                                        osp.dirname(rel))))
                 for rel in scandir(log_dir, suffix, True)]
        files += [(osp.join(work_dir, name), None)
                  for name in sorted(os.listdir(work_dir))
                  if name.endswith(suffix) and name != self._run_id_file
                  and osp.isfile(osp.join(work_dir, name))]
        if self._log_best_checkpoint:
            info = MessageHub.get_current_instance().runtime_info
            files += [(path, 'checkpoints') for key, path in info.items()
                      if key.startswith('best_ckpt') and isinstance(path, str)
                      and osp.isfile(path)]
        return files

    def close(self, status: str = 'FINISHED') -> None:
        """Log the artifacts and end the run.

        Args:
            status (str): ``'FINISHED'``, ``'FAILED'`` or ``'KILLED'``.
        """
        if self.run_id is None:
            return
        atexit.unregister(self._end_at_exit)
        try:
            for path, folder in self._artifact_files():
                self._mlflow.log_artifact(path, folder)
        finally:
            self._mlflow.end_run(status=status)
            print_log(f'MLflow: run {self.run_id} ended ({status})',
                      logger='current')
            self.run_id = None
            self._env_initialized = False  # a reused visualizer starts anew

    def _end_at_exit(self) -> None:
        # an interrupt can surface as another error (Config.pretty_text)
        error = getattr(sys, 'last_value', None)
        failed = error is not None
        while error is not None and failed:
            failed = not isinstance(error, KeyboardInterrupt)
            error = error.__context__
        self.close('FAILED' if failed else 'KILLED')
