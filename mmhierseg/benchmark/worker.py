"""One study run in its own process: ``python -m mmhierseg.benchmark.worker
CONFIG SEED SETTINGS_JSON`` (started by :func:`run_study`)."""
import json
import os.path as osp
import sys


def main(argv=None) -> None:
    """Train one run and write ``seed<SEED>.json`` next to its work dir.

    Args:
        argv (list[str], optional): ``[config, seed, settings JSON]``.
    """
    config, seed, settings = argv or sys.argv[1:]
    import torch

    from mmhierseg.utils import register_all_modules, set_offline_env
    from .study import StudySettings, _name, run_key, train_one
    set_offline_env()
    register_all_modules()
    settings = StudySettings(**json.loads(settings))
    if settings['threads']:
        torch.set_num_threads(settings['threads'])
    result = train_one(config, int(seed), settings)
    out = osp.join(settings['work_dir'], _name(config),
                   run_key(config, settings), f'seed{seed}.json')
    with open(out + '.tmp', 'w') as f:
        json.dump(result, f)
    import os
    os.replace(out + '.tmp', out)


if __name__ == '__main__':
    main()
