"""Tables of a seed study: mean +- std over seeds, differences beyond noise."""
import statistics
from typing import Dict, List, Optional

__all__ = ['summarize', 'format_table', 'format_curve']


def _std(xs: List[float]) -> float:
    return statistics.stdev(xs) if len(xs) > 1 else 0.0


def _keys(metrics: dict) -> List[str]:
    levels = sorted((k for k in metrics
                     if k.startswith('mIoU') and k[4:].isdigit()),
                    key=lambda k: int(k[4:]))
    return levels + [k for k in ('consistency', ) if k in metrics]


def _cell(xs: List[float], base: Optional[List[float]]) -> dict:
    """Mean, std, values and, against ``base``, the difference and whether
    it exceeds twice its standard error ``sqrt(s_a^2/n_a + s_b^2/n_b)``
    (never with one run on either side: no standard error)."""
    cell = dict(mean=statistics.mean(xs), std=_std(xs), values=xs)
    if base:
        se = (_std(xs)**2 / len(xs) + _std(base)**2 / len(base))**0.5
        diff = cell['mean'] - statistics.mean(base)
        cell.update(diff=diff, beyond_noise=bool(
            min(len(xs), len(base)) > 1 and abs(diff) > 2 * se))
    return cell


def summarize(results: Dict[str, List[dict]],
              baseline: Optional[str] = None) -> Dict[str, dict]:
    """One row per config and decoding; differences to ``baseline``'s row
    of the same decoding (its consistent row where it has only that).

    Args:
        results (dict[str, list[dict]]): Runs by config, as
            :func:`run_study` returns them.
        baseline (str, optional): The config every difference is taken
            against.

    Returns:
        dict[str, dict]: ``{'<config> <decoding>': {metric: cell},
        'train_s': mean, 'n': runs}``; a cell has ``mean``, ``std``,
        ``values`` and, with a baseline, ``diff`` and ``beyond_noise``.
    """
    base_runs = results.get(baseline, [])
    table = {}
    for config, runs in results.items():
        for decode in ('consistent', 'independent'):
            if decode not in runs[0]:
                continue
            row = dict(train_s=statistics.mean(r['train_s'] for r in runs),
                       n=len(runs))
            ref = decode if base_runs and decode in base_runs[0] \
                else 'consistent'
            for k in _keys(runs[0][decode]):
                base = [r[ref][k] for r in base_runs] \
                    if config != baseline else None
                row[k] = _cell([r[decode][k] for r in runs], base)
            table[f'{config} {decode}'] = row
    return table


def format_table(table: Dict[str, dict], baseline: Optional[str],
                 header: str) -> str:
    """The table as text: ``mean +- std [diff*]``, ``*`` beyond 2 SE.

    Args:
        table (dict): :func:`summarize`'s table.
        baseline (str, optional): Named in the legend.
        header (str): First line (the settings).

    Returns:
        str: The lines.
    """
    keys = [k for k in next(iter(table.values())) if k not in
            ('train_s', 'n')]
    lines = [header, f'mean +- std over seeds; [difference to {baseline}, '
             '* = beyond 2 SE]' if baseline else 'mean +- std over seeds',
             f'{"model":<30}' + ''.join(f'{k:>24}' for k in keys) +
             f'{"train (s)":>10}{"n":>3}']
    for name, row in table.items():
        cells = []
        for k in keys:
            c = row[k]
            text = f'{c["mean"]:5.1f} +- {c["std"]:3.1f}'
            if 'diff' in c:
                text += f' [{c["diff"]:+5.1f}{"*" if c["beyond_noise"] else " "}]'
            cells.append(text)
        lines.append(f'{name:<30}' + ''.join(f'{c:>24}' for c in cells) +
                     f'{row["train_s"]:>10.0f}{row["n"]:>3}')
    return '\n'.join(lines)


def format_curve(results: Dict[str, List[dict]]) -> str:
    """Each level's mean +- std at every evaluation point of the runs.

    Args:
        results (dict[str, list[dict]]): Runs by config.

    Returns:
        str: One block per metric, a row per config, a column per
        iteration.
    """
    first = next(iter(results.values()))[0]['curve']
    iters = sorted(first, key=int)
    lines = []
    for k in _keys(first[iters[-1]]):
        lines.append(f'\n{k} during training (iteration: mean +- std)')
        lines.append(f'{"model":<30}' + ''.join(f'{i:>14}' for i in iters))
        for config, runs in results.items():
            cells = []
            for i in iters:
                xs = [r['curve'][i][k] for r in runs if i in r['curve']]
                cells.append(f'{statistics.mean(xs):5.1f} +- {_std(xs):3.1f}'
                             if xs else '-')
            lines.append(f'{config:<30}' + ''.join(f'{c:>14}' for c in cells))
    return '\n'.join(lines)
