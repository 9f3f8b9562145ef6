"""Helpers of :class:`HierMLflowVisBackend` for the tracking store: check a
tracking server before training; open the experiment, following a local
store that moved with its work dir."""
import sqlite3
import urllib.error
import urllib.request
from contextlib import closing
from typing import Optional

from mmengine.logging import print_log

__all__ = ['check_tracking_server', 'open_experiment', 'relocate_artifacts']


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


def relocate_artifacts(db_uri: str, old: str, new: str) -> None:
    """Point the artifact URIs of a moved SQLite store into its new folder.

    MLflow stores absolute URIs and has no call to change them; after
    ``mv work_dir new_dir`` the artifacts are in ``new_dir/mlartifacts``.

    Args:
        db_uri (str): ``sqlite:///<path>`` of the store.
        old (str): Artifact location recorded in the store.
        new (str): Where those artifacts are now.
    """
    print_log(f'MLflow: the work dir was moved; artifact URIs {old} -> {new}',
              logger='current', level=30)
    with closing(sqlite3.connect(db_uri[len('sqlite:///'):])) as db, db:
        for table, col in (('experiments', 'artifact_location'),
                           ('runs', 'artifact_uri')):
            db.execute(
                f'UPDATE {table} SET {col} = ? || substr({col}, ?) '
                f'WHERE substr({col}, 1, ?) = ?',
                (new, len(old) + 1, len(old), old))


def open_experiment(mlflow, name: str, location: Optional[str],
                    follow_move: bool = False) -> str:
    """Id of experiment ``name``, created with ``location`` if missing.

    Args:
        mlflow (module): The ``mlflow`` module (tracking URI set).
        name (str): Experiment name.
        location (str, optional): Artifact location of a new experiment.
        follow_move (bool): The store lives in the work dir: if its artifacts
            were recorded under another ``.../mlartifacts`` (the work dir
            moved), point them to ``location``.

    Returns:
        str: The experiment id.
    """
    exp = mlflow.get_experiment_by_name(name)
    if exp is None:
        return mlflow.create_experiment(name, location)
    old = exp.artifact_location
    if follow_move and old != location and old.endswith('/mlartifacts'):
        relocate_artifacts(mlflow.get_tracking_uri(), old, location)
    return exp.experiment_id
