"""Walk a config down to its datasets and their pipelines: the one place
that knows how a config nests datasets (preflight, the prior tools)."""
from typing import Iterator, Sequence, Tuple

__all__ = ['walk_datasets']


def _leaves(key: str, ds) -> Iterator[Tuple[str, dict]]:
    if not isinstance(ds, dict):
        return
    if isinstance(ds.get('dataset'), dict):  # RepeatDataset, ...
        yield from _leaves(f'{key}.dataset', ds['dataset'])
    elif ds.get('datasets'):  # ConcatDataset
        for i, sub in enumerate(ds['datasets']):
            yield from _leaves(f'{key}.datasets.{i}', sub)
    else:
        yield key, ds


def walk_datasets(
        cfg,
        splits: Sequence[str] = ('train', 'val', 'test')
) -> Iterator[Tuple[str, str, dict, list]]:
    """The datasets that the dataloaders of ``splits`` build, wrappers
    (``dataset=...``, ``datasets=[...]``) opened, in order.

    Args:
        cfg (Config | dict): A full config.
        splits (Sequence[str]): Dataloader prefixes (``'train'`` for
            ``train_dataloader``); one without a dataloader gives nothing.

    Returns:
        Iterator[tuple[str, str, dict, list]]: ``(split, key, dataset
        config, pipeline)``; ``key`` is where the dataset is in the config
        (e.g. ``'train_dataloader.dataset.datasets.0'``), ``pipeline`` its
        list of transform configs.
    """
    for split in splits:
        loader = cfg.get(f'{split}_dataloader') or {}
        for key, ds in _leaves(f'{split}_dataloader.dataset',
                               loader.get('dataset')):
            yield split, key, ds, list(ds.get('pipeline') or [])
