"""Helpers of :class:`HierMLflowVisBackend` for the tracking store, on
MLflow's client API only: check a tracking server before training, open the
experiment and the run, turn a config into params, hold interrupts during
calls to a SQLite store."""
import getpass
import os.path as osp
import re
import signal
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Mapping
from contextlib import contextmanager
from typing import Optional

__all__ = [
    'check_tracking_server', 'open_experiment', 'open_run', 'config_params',
    'deferred_interrupts'
]


def check_tracking_server(uri: str, local_uri: str, timeout=5.0) -> None:
    """Raise ``ConnectionError`` at once if an http(s) server does not answer.

    Args:
        uri (str): The tracking URI (other schemes are not checked).
        local_uri (str): The local store to suggest instead.
        timeout (float): Seconds to wait for an answer.
    """
    if not uri.lower().startswith(('http://', 'https://')):
        return
    try:
        urllib.request.urlopen(uri.rstrip('/') + '/health', timeout=timeout)
    except urllib.error.HTTPError:
        return  # the server answered
    except OSError as e:
        raise ConnectionError(
            f'MLflow tracking server {uri} is not reachable '
            f'({getattr(e, "reason", e)}). Start it, or log to the local '
            f'store {local_uri}: set tracking_uri=None in the '
            'HierMLflowVisBackend config (default runtime: --cfg-options '
            'visualizer.vis_backends.1.tracking_uri=None) and unset '
            'MLFLOW_TRACKING_URI.') from None


def open_experiment(client, name: str, location: Optional[str]) -> str:
    """Id of experiment ``name``, created with ``location`` if missing.

    Args:
        client (MlflowClient): Client of the tracking store.
        name (str): Experiment name.
        location (str, optional): Artifact location of a new experiment.

    Returns:
        str: The experiment id.
    """
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    return client.create_experiment(name, location)


def open_run(client, experiment_id: str, run_id: Optional[str],
             run_name: str, tags: dict):
    """Reopen run ``run_id`` (``RUNNING`` again), or start a new run.

    Args:
        client (MlflowClient): Client of the tracking store.
        experiment_id (str): Experiment of a new run.
        run_id (str, optional): The run to reopen; ``None`` starts one.
        run_name (str): Name of a new run.
        tags (dict): Tags to set (both cases).

    Returns:
        mlflow.entities.Run: The run.
    """
    from mlflow.entities import RunTag
    tags = {k: str(v) for k, v in tags.items()}
    if run_id is None:
        tags.setdefault('mlflow.user', getpass.getuser())
        tags.setdefault('mlflow.source.name', osp.basename(sys.argv[0]))
        return client.create_run(experiment_id, tags=tags, run_name=run_name)
    client.update_run(run_id, 'RUNNING')
    client.log_batch(run_id, tags=[RunTag(k, v) for k, v in tags.items()])
    return client.get_run(run_id)


def _flatten(d: Mapping, prefix: str = '') -> dict:
    """mmengine's ``MLflowVisBackend`` flattening (dotted keys through dicts
    and lists of dicts), for keys of any type (``leaves={0: 'bg'}``)."""
    items = {}
    for k, v in d.items():
        key = f'{prefix}.{k}' if prefix else str(k)
        if isinstance(v, Mapping):
            items.update(_flatten(v, key))
        elif isinstance(v, list) and any(isinstance(x, Mapping) for x in v):
            items.update(_flatten(dict(enumerate(v)), key))
        else:
            items[key] = v
    return items


def config_params(cfg: Mapping, logged: Mapping) -> dict:
    """A config as MLflow params, without the keys already ``logged``.

    Args:
        cfg (Mapping): The config (or its tracked keys).
        logged (Mapping): Params the run has (a resumed run keeps them).

    Returns:
        dict: ``{key: value}``, keys made valid and values cut for MLflow.
    """
    from mlflow.utils.validation import MAX_PARAM_VAL_LENGTH
    flat = {re.sub(r'[^\w.\- /]', '_', k): str(v)[:MAX_PARAM_VAL_LENGTH]
            for k, v in _flatten(cfg).items()}
    return {k: v for k, v in flat.items() if k not in logged}


@contextmanager
def deferred_interrupts(uri: Optional[str]):
    """Hold SIGINT and SIGTERM until the calls to a SQLite store end.

    Ctrl-C or SIGTERM inside a SQLite transaction leaves the database locked
    for the rest of the process: the run could not be ended (``KILLED``) at
    exit. A signal that comes meanwhile is raised again right after the
    block, to the handler it would have met. Calls to a server are not held
    (an interrupted request leaves nothing behind).

    Args:
        uri (str, optional): The tracking URI.
    """
    if not (uri or '').startswith('sqlite:') or (
            threading.current_thread() is not threading.main_thread()):
        yield  # handlers can only be set in the main thread
        return
    held, old = [], {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(signum) is not None:  # None: not set from Python
            old[signum] = signal.signal(signum, lambda n, _: held.append(n))
    try:
        yield
    finally:
        for signum, handler in old.items():
            signal.signal(signum, handler)
        for signum in dict.fromkeys(held):
            signal.raise_signal(signum)
