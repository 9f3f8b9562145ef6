"""MLflow tracking that lives in the work dir: :class:`HierMLflowVisBackend`.

MMEngine's ``MLflowVisBackend`` defaults to MLflow's file store, which
mlflow 3 rejects, and has no notion of resuming a run. This subclass:

- defaults the tracking store to ``sqlite:///<work_dir>/mlruns.db`` and the
  artifact location to ``<work_dir>/mlartifacts`` (the work dir is known
  only when the runner hands the backend its config); an explicit
  ``tracking_uri`` (a server, or another database; from the config, from
  ``--cfg-options visualizer.vis_backends.1.tracking_uri=...`` or from the
  ``MLFLOW_TRACKING_URI`` environment variable) is used as given;
- starts a new run and records its id in ``<work_dir>/mlflow_run.json``; a
  resumed training (``resume=True`` in the config, set by
  ``tools/train.py --resume``) reopens that run, so metrics continue in the
  same run instead of a disconnected one;
- logs the resolved config (as parameters and as ``config.py``), every
  scalar the runner logs (per-level losses, per-level metrics, the unfreeze
  stage), and at the end the log files and the best checkpoint;
- never leaves a run dangling: :meth:`close` accepts a status (the tools
  close with ``FAILED`` on an exception) and an ``atexit`` handler ends a
  run still open at interpreter exit (``FAILED`` after an uncaught
  exception, ``KILLED`` otherwise).
"""
import atexit
import json
import os
import os.path as osp
import re
import sys
import time
import weakref
from pathlib import Path
from typing import Optional, Sequence, Union

from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger
from mmengine.utils import scandir
from mmengine.visualization import MLflowVisBackend

from mmseg.registry import VISBACKENDS

__all__ = ['HierMLflowVisBackend', 'close_mlflow_backends', 'RUN_ID_FILE']

#: Name of the file (in the work dir) that records the run id for resuming.
RUN_ID_FILE = 'mlflow_run.json'

#: Backends whose run is open in this process (closed on failure/exit).
_OPEN_BACKENDS: 'weakref.WeakSet' = weakref.WeakSet()

_REMOTE_SCHEMES = ('http', 'https', 'databricks')
_MAX_PARAM_LEN = 6000
_MAX_KEY_LEN = 250


def _sanitize_key(key: str) -> str:
    """Make a string acceptable as an MLflow param/metric name."""
    key = re.sub(r'[^\w.\- /]', '_', str(key))
    key = re.sub(r'/+', '/', key).strip('/')
    key = key.replace('..', '__')
    return key[:_MAX_KEY_LEN] or '_'


@VISBACKENDS.register_module()
class HierMLflowVisBackend(MLflowVisBackend):
    """MLflow backend with a work-dir SQLite store and resumable runs.

    Args:
        save_dir (str): Folder of the visualizer's files (set by the
            runner: ``<work_dir>/<timestamp>/vis_data``).
        exp_name (str, optional): Experiment name. Defaults to the config's
            file name, else ``'mmhierseg'``.
        run_name (str, optional): Run name. Defaults to the work dir's name
            and the start time.
        tags (dict, optional): Tags for the run.
        params (dict, optional): Extra parameters for the run.
        tracking_uri (str, optional): A tracking server / database URI.
            Defaults to the ``MLFLOW_TRACKING_URI`` environment variable,
            else ``sqlite:///<work_dir>/mlruns.db``.
        artifact_suffix (Sequence[str] | str): Suffixes of the work-dir files
            logged as artifacts at the end.
        tracked_config_keys (Sequence[str], optional): Top-level config keys
            to log as parameters (default: all).
        artifact_location (str, optional): Artifact location of a new
            experiment. Defaults to ``<work_dir>/mlartifacts`` unless
            ``tracking_uri`` is a server (which then decides).
        run_id_file (str, optional): File (relative to the work dir) where
            the run id is recorded for resuming; ``None`` records nothing
            and never resumes (``tools/test.py`` uses this).
        resume_run (bool, optional): Reopen the run recorded in
            ``run_id_file``. Defaults to the config's ``resume``.
        log_best_checkpoint (bool): Log the best checkpoint (as recorded by
            ``CheckpointHook(save_best=...)``) as an artifact at the end.
        work_dir (str, optional): The work dir; by default taken from the
            config the runner passes to :meth:`add_config`.
    """

    def __init__(self,
                 save_dir: str,
                 exp_name: Optional[str] = None,
                 run_name: Optional[str] = None,
                 tags: Optional[dict] = None,
                 params: Optional[dict] = None,
                 tracking_uri: Optional[str] = None,
                 artifact_suffix: Union[str, Sequence[str]] = ('.json',
                                                               '.log', '.py',
                                                               'yaml'),
                 tracked_config_keys: Optional[Sequence[str]] = None,
                 artifact_location: Optional[str] = None,
                 run_id_file: Optional[str] = RUN_ID_FILE,
                 resume_run: Optional[bool] = None,
                 log_best_checkpoint: bool = True,
                 work_dir: Optional[str] = None):
        super().__init__(
            save_dir,
            exp_name=exp_name,
            run_name=run_name,
            tags=tags,
            params=params,
            tracking_uri=tracking_uri,
            artifact_suffix=artifact_suffix,
            tracked_config_keys=tracked_config_keys,
            artifact_location=artifact_location)
        self._run_id_file = run_id_file
        self._resume_run = resume_run
        self._log_best_checkpoint = log_best_checkpoint
        self._work_dir = work_dir
        self._run_id: Optional[str] = None
        self._resumed = False
        self._closed = False
        self._atexit = None

    # ------------------------------------------------------------ locations
    @property
    def work_dir(self) -> str:
        """str: The work dir (config's ``work_dir``, else from save_dir)."""
        if self._work_dir is not None:
            return osp.abspath(self._work_dir)
        cfg = getattr(self, 'cfg', None)
        if cfg is not None and cfg.get('work_dir'):
            return osp.abspath(cfg['work_dir'])
        # save_dir = <work_dir>/<timestamp>/vis_data
        return osp.dirname(osp.dirname(osp.abspath(self._save_dir)))

    @property
    def tracking_uri(self) -> str:
        """str: The tracking URI in use (explicit or the work-dir SQLite)."""
        if self._tracking_uri:
            return self._tracking_uri
        if os.environ.get('MLFLOW_TRACKING_URI'):
            return os.environ['MLFLOW_TRACKING_URI']
        return 'sqlite:///' + osp.join(self.work_dir, 'mlruns.db')

    @property
    def artifact_dir(self) -> Optional[str]:
        """str | None: Local artifact folder for new experiments."""
        if self._artifact_location:
            return self._artifact_location
        scheme = self.tracking_uri.split(':', 1)[0].lower()
        if scheme in _REMOTE_SCHEMES:
            return None
        return osp.join(self.work_dir, 'mlartifacts')

    @property
    def run_id(self) -> Optional[str]:
        """str | None: Id of the MLflow run (None before the first log)."""
        return self._run_id

    @property
    def resumed(self) -> bool:
        """bool: Whether this backend reopened an earlier run."""
        return self._resumed

    def _run_id_path(self) -> Optional[str]:
        if not self._run_id_file:
            return None
        return osp.join(self.work_dir, self._run_id_file)

    def _want_resume(self) -> bool:
        if self._run_id_file is None:
            return False
        if self._resume_run is not None:
            return bool(self._resume_run)
        cfg = getattr(self, 'cfg', None)
        return bool(cfg is not None and cfg.get('resume', False))

    def _recorded_run_id(self) -> Optional[str]:
        """The run id recorded by an earlier run with the same store."""
        candidates = [self._run_id_path()]
        cfg = getattr(self, 'cfg', None)
        load_from = cfg.get('load_from') if cfg is not None else None
        if load_from and self._run_id_file:
            candidates.append(
                osp.join(osp.dirname(osp.abspath(load_from)),
                         self._run_id_file))
        for path in candidates:
            if not path or not osp.isfile(path):
                continue
            try:
                with open(path) as f:
                    info = json.load(f)
            except (OSError, ValueError):
                continue
            if info.get('tracking_uri') == self.tracking_uri and info.get(
                    'run_id'):
                return info['run_id']
        return None

    # ------------------------------------------------------------- start-up
    def _init_env(self):
        """Open the store, then start (or reopen) the run."""
        os.makedirs(self._save_dir, exist_ok=True)
        try:
            import mlflow
        except ImportError:  # pragma: no cover - mlflow is a dependency
            raise ImportError('Please run "pip install mlflow" to use '
                              'HierMLflowVisBackend')
        self._mlflow = mlflow
        logger = MMLogger.get_current_instance()
        # importing mlflow may close the stream of MMLogger's file handler
        for handler in logger.handlers:
            if getattr(handler, 'baseFilename', None) and (
                    handler.stream is None or handler.stream.closed):
                handler.stream = open(handler.baseFilename, 'a')

        os.makedirs(self.work_dir, exist_ok=True)
        mlflow.set_tracking_uri(self.tracking_uri)
        cfg = getattr(self, 'cfg', None)
        if self._exp_name is None:
            filename = cfg.filename if cfg is not None else None
            self._exp_name = osp.splitext(osp.basename(filename))[0] \
                if filename else 'mmhierseg'
        experiment = mlflow.get_experiment_by_name(self._exp_name)
        if experiment is None:
            artifact_dir = self.artifact_dir
            location = Path(artifact_dir).absolute().as_uri() \
                if artifact_dir and '://' not in artifact_dir \
                else artifact_dir
            experiment_id = mlflow.create_experiment(
                self._exp_name, artifact_location=location)
        else:
            experiment_id = experiment.experiment_id
        mlflow.set_experiment(experiment_id=experiment_id)

        active = mlflow.active_run()
        if active is not None:
            logger.warning(f'HierMLflowVisBackend: ending MLflow run '
                           f'{active.info.run_id} left open in this process')
            mlflow.end_run()

        run_id = self._recorded_run_id() if self._want_resume() else None
        if run_id is not None:
            try:
                mlflow.get_run(run_id)
            except Exception:  # noqa: BLE001 - any lookup failure
                logger.warning(f'HierMLflowVisBackend: recorded run {run_id} '
                               'is not in the store; starting a new run')
                run_id = None
        if run_id is not None:
            run = mlflow.start_run(run_id=run_id)
            self._resumed = True
            logger.info(f'MLflow: resumed run {run_id} at '
                        f'{self.tracking_uri}')
        else:
            run_name = self._run_name or '{}_{}'.format(
                osp.basename(self.work_dir), time.strftime('%Y%m%d_%H%M%S'))
            run = mlflow.start_run(
                experiment_id=experiment_id, run_name=run_name)
            logger.info(f'MLflow: started run {run.info.run_id} '
                        f'(experiment {self._exp_name!r}) at '
                        f'{self.tracking_uri}')
        self._run_id = run.info.run_id
        self._closed = False
        # from here on the run is ended whatever happens (see close())
        _OPEN_BACKENDS.add(self)
        ref = weakref.ref(self)
        self._atexit = lambda: _close_at_exit(ref)
        atexit.register(self._atexit)
        path = self._run_id_path()
        if path is not None:
            with open(path, 'w') as f:
                json.dump(
                    dict(
                        run_id=self._run_id,
                        experiment_id=experiment_id,
                        experiment_name=self._exp_name,
                        tracking_uri=self.tracking_uri), f, indent=2)
        if self._tags is not None:
            mlflow.set_tags(self._tags)
        if self._resumed:
            mlflow.set_tag('mmhierseg.resumed', 'true')
        if self._params is not None:
            self._log_params(self._params)

    # -------------------------------------------------------------- logging
    def _log_params(self, params: dict) -> None:
        """Log params; on a resumed run skip keys already logged."""
        flat = {
            _sanitize_key(k): str(v)[:_MAX_PARAM_LEN]
            for k, v in self._flatten(params).items()
        }
        if self._resumed:
            existing = self._mlflow.get_run(self._run_id).data.params
            changed = sorted(k for k, v in flat.items()
                             if k in existing and existing[k] != v)
            flat = {k: v for k, v in flat.items() if k not in existing}
            if changed:
                MMLogger.get_current_instance().info(
                    'MLflow: config values changed on resume (params keep '
                    f'their first value): {changed[:20]}')
        items = list(flat.items())
        for i in range(0, len(items), 100):
            self._mlflow.log_params(dict(items[i:i + 100]))

    def add_config(self, config: Config, **kwargs) -> None:
        """Log the resolved config as parameters and as ``config.py``.

        Args:
            config (Config): The runner's config.
        """
        self.cfg = config
        if self._closed:
            # the visualizer (a global instance) is reused by a new runner
            self._env_initialized = False
            self._resumed = False
        if not getattr(self, '_env_initialized', False):
            self._init_env()
            self._env_initialized = True
        cfg_dict = config.to_dict()
        if self._tracked_config_keys is not None:
            cfg_dict = {
                k: cfg_dict[k]
                for k in self._tracked_config_keys if k in cfg_dict
            }
        self._log_params(cfg_dict)
        name = 'config.py' if not self._resumed else \
            f'config_resume_{time.strftime("%Y%m%d_%H%M%S")}.py'
        self._mlflow.log_text(config.pretty_text, name)

    def add_scalar(self, name: str, value, step: int = 0, **kwargs) -> None:
        """Log one scalar.

        Args:
            name (str): Metric name.
            value (int | float | Tensor | ndarray): The value.
            step (int): Global step. Defaults to 0.
        """
        self.add_scalars({name: value}, step=step)

    def add_scalars(self,
                    scalar_dict: dict,
                    step: int = 0,
                    file_path: Optional[str] = None,
                    **kwargs) -> None:
        """Log numeric scalars (non-numeric values are skipped).

        Args:
            scalar_dict (dict): Name -> value.
            step (int): Global step. Defaults to 0.
            file_path (str, optional): Unused (interface compatibility).
        """
        if self._closed:
            MMLogger.get_current_instance().warning(
                f'MLflow: run {self._run_id} is closed; scalars '
                f'{sorted(scalar_dict)} at step {step} are not logged')
            return
        if not getattr(self, '_env_initialized', False):
            self._init_env()
            self._env_initialized = True
        metrics = {}
        for key, value in scalar_dict.items():
            if hasattr(value, 'item') and getattr(value, 'size',
                                                  1) in (1, None):
                try:
                    value = value.item()
                except (ValueError, RuntimeError):
                    continue
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            metrics[_sanitize_key(key)] = float(value)
        if metrics:
            self._mlflow.log_metrics(metrics, step=int(step))

    # ---------------------------------------------------------------- close
    def _artifact_files(self) -> dict:
        """Files to log at the end: path -> artifact sub-folder.

        This run's log folder (``<work_dir>/<timestamp>/``: log, scalars,
        visualizer config) and the files directly in the work dir (the
        dumped config), with ``artifact_suffix``; not the folders of other
        runs (a test run in a training work dir does not re-upload the
        training logs), not the artifact store, not the run-id file.
        """
        work_dir = self.work_dir
        log_dir = osp.dirname(osp.abspath(self._save_dir))
        files = {}
        if osp.isdir(log_dir):
            for rel in scandir(log_dir, self._artifact_suffix, True):
                sub = osp.join(osp.basename(log_dir), osp.dirname(rel))
                files[osp.join(log_dir, rel)] = sub.rstrip('/')
        for name in sorted(os.listdir(work_dir)):
            path = osp.join(work_dir, name)
            if not osp.isfile(path) or name == self._run_id_file:
                continue
            if name.endswith(tuple(self._artifact_suffix) if not isinstance(
                    self._artifact_suffix, str) else self._artifact_suffix):
                files[path] = ''
        return files

    def _best_checkpoints(self) -> list:
        """Paths of the best checkpoints recorded by ``CheckpointHook``
        (``save_best``) in this runner's message hub."""
        try:
            info = MessageHub.get_current_instance().runtime_info
        except Exception:  # noqa: BLE001 - no hub in this process
            return []
        paths = [
            value for key, value in info.items()
            if key.startswith('best_ckpt') and isinstance(value, str)
        ]
        return [p for p in paths if osp.isfile(p)]

    def close(self, status: str = 'FINISHED') -> None:
        """Log the work-dir files and the best checkpoint, end the run.

        Args:
            status (str): Final MLflow status: ``'FINISHED'``, ``'FAILED'``
                or ``'KILLED'``. Defaults to ``'FINISHED'``.
        """
        if not hasattr(self, '_mlflow') or self._closed:
            return
        self._closed = True
        _OPEN_BACKENDS.discard(self)
        if self._atexit is not None:
            atexit.unregister(self._atexit)
            self._atexit = None
        mlflow = self._mlflow
        logger = MMLogger.get_current_instance()
        try:
            active = mlflow.active_run()
            if active is None or active.info.run_id != self._run_id:
                mlflow.start_run(run_id=self._run_id)
            for path, sub in self._artifact_files().items():
                mlflow.log_artifact(path, sub or None)
            if self._log_best_checkpoint:
                for path in self._best_checkpoints():
                    mlflow.log_artifact(path, 'checkpoints')
        except Exception as e:  # noqa: BLE001 - the run must still end
            logger.warning(f'MLflow: logging artifacts failed: {e!r}')
            try:
                mlflow.set_tag('mmhierseg.artifact_error', repr(e)[:500])
            except Exception:  # noqa: BLE001
                pass
        finally:
            mlflow.end_run(status=status)
        logger.info(f'MLflow: run {self._run_id} ended ({status}); store '
                    f'{self.tracking_uri}')


def _close_at_exit(ref) -> None:
    """End a run still open at interpreter exit."""
    backend = ref()
    if backend is None or backend._closed:
        return
    failed = getattr(sys, 'last_value', None) is not None or getattr(
        sys, 'last_exc', None) is not None
    try:
        backend.close(status='FAILED' if failed else 'KILLED')
    except Exception:  # noqa: BLE001 - best effort at exit
        pass


def close_mlflow_backends(visualizer=None, status: str = 'FAILED') -> list:
    """End open MLflow runs with ``status``.

    Used by the tools when building the runner, training or testing raises,
    so the run is marked ``FAILED`` instead of staying ``RUNNING``.

    Args:
        visualizer (Visualizer, optional): Close this visualizer's MLflow
            backends. ``None``: every open :class:`HierMLflowVisBackend` of
            this process (e.g. when the runner failed half-built).
        status (str): Final status. Defaults to ``'FAILED'``.

    Returns:
        list[str]: Ids of the runs that were ended.
    """
    ended = []
    if visualizer is None:
        backends = list(_OPEN_BACKENDS)
    else:
        backends = list(
            (getattr(visualizer, '_vis_backends', None) or {}).values())
    for backend in backends:
        if isinstance(backend, HierMLflowVisBackend):
            if hasattr(backend, '_mlflow') and not backend._closed:
                backend.close(status=status)
                ended.append(backend.run_id)
        elif isinstance(backend, MLflowVisBackend) and hasattr(
                backend, '_mlflow'):
            active = backend._mlflow.active_run()
            if active is not None:
                backend._mlflow.end_run(status=status)
                ended.append(active.info.run_id)
    return ended
