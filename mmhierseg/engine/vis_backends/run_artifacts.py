"""A run's artifacts for :class:`HierMLflowVisBackend`: where they go, also
after the work dir moved, and which files of the work dir are logged.

MLflow records a run's artifact URI once, as an absolute path, and has no
call to change it. The work-dir store lives in the work dir, so after
``mv old new`` the store and the artifacts are in ``new`` while the URIs
still name ``old``. :func:`moved_artifact_dir` then addresses the run's
artifacts relative to the work dir (``<new>/mlartifacts/<the part after
mlartifacts/>``, where the earlier ones now are), and :class:`RunArtifacts`
writes there instead of through MLflow, so nothing is written outside the
work dir. The run's tag ``mmhierseg.artifacts`` names that folder.
"""
import os
import os.path as osp
import shutil
import tempfile
from pathlib import Path
from typing import Optional
from urllib.parse import unquote, urlparse

import numpy as np
from mmengine.logging import MessageHub, print_log
from mmengine.utils import scandir

__all__ = ['ARTIFACTS', 'moved_artifact_dir', 'RunArtifacts', 'run_files']

#: Folder of the work-dir store's artifacts, in the work dir.
ARTIFACTS = 'mlartifacts'


def moved_artifact_dir(artifact_uri: str, work_dir: str) -> Optional[str]:
    """Where a work-dir store's run keeps its artifacts, if the dir moved.

    Args:
        artifact_uri (str): The run's artifact URI, as MLflow recorded it.
        work_dir (str): The work dir the store is in now.

    Returns:
        str, optional: ``<work_dir>/mlartifacts/<the URI's part after
        mlartifacts/>`` when the URI names another folder's
        ``mlartifacts``; ``None`` when it is in ``work_dir`` (MLflow's own
        calls then write to the right place) or not a local one.
    """
    parsed = urlparse(artifact_uri)
    path, marker = unquote(parsed.path), f'/{ARTIFACTS}/'
    if parsed.scheme not in ('', 'file') or marker not in path:
        return None
    root = osp.join(osp.abspath(work_dir), ARTIFACTS)
    if osp.normpath(path).startswith(root + osp.sep):
        return None
    return osp.join(root, *path.rsplit(marker, 1)[1].split('/'))


class RunArtifacts:
    """Writes the artifacts of one run.

    Args:
        client (MlflowClient): Client of the run's store.
        run_id (str): The run.
        folder (str, optional): The run's artifact folder when the work dir
            moved (:func:`moved_artifact_dir`); ``None`` logs through
            ``client``.
    """

    def __init__(self, client, run_id: str, folder: Optional[str] = None):
        self.client, self.run_id, self.folder = client, run_id, folder

    @classmethod
    def for_run(cls, client, run, work_dir: Optional[str] = None):
        """The artifacts of ``run``, followed into a moved ``work_dir``.

        Args:
            client (MlflowClient): Client of the run's store.
            run (mlflow.entities.Run): The run.
            work_dir (str, optional): The work dir of a work-dir store (its
                artifacts in ``mlartifacts``); ``None`` for other stores.

        Returns:
            RunArtifacts: Writing through MLflow, or into the moved folder
            (then named by the run's tag ``mmhierseg.artifacts``).
        """
        uri, run_id = run.info.artifact_uri, run.info.run_id
        folder = moved_artifact_dir(uri, work_dir) if work_dir else None
        if folder:
            print_log(
                f'MLflow: the work dir moved; run {run_id} keeps its '
                f'artifacts in {folder} (MLflow recorded {uri}; run tag '
                'mmhierseg.artifacts)', logger='current', level=30)
            client.set_tag(run_id, 'mmhierseg.artifacts',
                           Path(folder).as_uri())
        return cls(client, run_id, folder)

    def log_file(self, path: str, artifact_path: Optional[str] = None):
        """Log the file ``path`` into the folder ``artifact_path``.

        Args:
            path (str): Local file.
            artifact_path (str, optional): Folder in the run's artifacts.
        """
        if self.folder is None:
            self.client.log_artifact(self.run_id, path, artifact_path)
            return
        dst = osp.join(self.folder, artifact_path or '')
        os.makedirs(dst, exist_ok=True)
        shutil.copyfile(path, osp.join(dst, osp.basename(path)))

    def log_text(self, text: str, name: str) -> None:
        """Log ``text`` as the artifact file ``name``.

        Args:
            text (str): The text.
            name (str): Artifact file (``a/b.txt``).
        """
        with tempfile.TemporaryDirectory() as tmp:
            path = osp.join(tmp, osp.basename(name))
            with open(path, 'w') as f:
                f.write(text)
            self.log_file(path, osp.dirname(name) or None)

    def log_image(self, image: np.ndarray, name: str) -> None:
        """Log an RGB image as the artifact file ``name``.

        Args:
            image (np.ndarray): RGB, ``uint8`` or floats in ``[0, 1]``.
            name (str): Artifact file (``a/b.png``; ``.png`` if none).
        """
        from PIL import Image
        image = np.asarray(image)
        if image.dtype != np.uint8:
            image = (np.clip(image, 0, 1) * 255).round().astype(np.uint8)
        name += '' if osp.splitext(name)[1] else '.png'
        with tempfile.TemporaryDirectory() as tmp:
            path = osp.join(tmp, osp.basename(name))
            Image.fromarray(image).save(path)
            self.log_file(path, osp.dirname(name) or None)


def run_files(log_dir: str, work_dir: str, suffix, skip: Optional[str],
              best_checkpoint: bool) -> list:
    """Files logged when a run ends.

    Args:
        log_dir (str): This start's log folder (``<work_dir>/<timestamp>``).
        work_dir (str): The work dir.
        suffix (str | tuple[str]): Endings of the files to log.
        skip (str, optional): A file of the work dir not to log.
        best_checkpoint (bool): Add the best checkpoints (message hub).

    Returns:
        list[tuple]: ``(file, artifact folder)``: the log folder's files
        under its name, the files at the top of the work dir, the best
        checkpoints under ``checkpoints``.
    """
    files = [(osp.join(log_dir, rel),
              osp.normpath(osp.join(osp.basename(log_dir), osp.dirname(rel))))
             for rel in scandir(log_dir, suffix, True)]
    files += [(osp.join(work_dir, name), None)
              for name in sorted(os.listdir(work_dir))
              if name.endswith(suffix) and name != skip
              and osp.isfile(osp.join(work_dir, name))]
    if best_checkpoint:
        info = MessageHub.get_current_instance().runtime_info
        files += [(path, 'checkpoints') for key, path in info.items()
                  if key.startswith('best_ckpt') and isinstance(path, str)
                  and osp.isfile(path)]
    return files
