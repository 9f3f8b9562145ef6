"""HierarchyCheckHook: a model tree that differs from the data's fails at
start-up, naming both trees (through a real runner)."""
import pytest

import mmhierseg  # noqa: F401  (before mmseg: mmcv-lite placeholder)
from mmengine.config import Config  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from tests.engine._tiny import make_tiny_pascal_part, tiny_cfg  # noqa: E402


@pytest.fixture(scope='module')
def box_data(tmp_path_factory):
    """32-pixel box people for runner tests (conftest's ``tiny_data`` holds
    photo-sized synthetic images with priors)."""
    return make_tiny_pascal_part(str(tmp_path_factory.mktemp('check_data')))


def _cfg(work_dir, data, model_tree):
    cfg = tiny_cfg(work_dir, data, max_iters=2, val_interval=1)
    cfg['model']['hierarchy'] = model_tree
    cfg['default_hooks']['hierarchy_check'] = dict(type='HierarchyCheckHook')
    return cfg


@pytest.mark.slow  # a real runner
def test_model_tree_differing_from_dataset_tree_fails_before_training(
        box_data, tmp_path):
    # same classes and levels, another leaf id order: trains and scores
    # silently wrong without the check
    runner = Runner.from_cfg(Config(_cfg(
        str(tmp_path / 'w'), box_data, 'pascal_person_part')))
    with pytest.raises(ValueError) as err:
        runner.train()
    msg = str(err.value)
    assert "the model's label tree differs from the train dataset's" in msg
    assert ("model:   ClassHierarchy(body=2, half=3, part=7; leaves "
            "['background', 'head', 'torso'") in msg
    assert ("dataset: ClassHierarchy(body=2, half=3, part=7; leaves "
            "['background', 'low_hand', 'torso'") in msg
    assert 'PascalPartDataset' in msg
    assert runner.iter == 0


@pytest.mark.slow
def test_mismatch_fails_before_testing_and_same_tree_passes(
        box_data, tmp_path):
    cfg = _cfg(str(tmp_path / 'w'), box_data, 'pascal_person_part')
    runner = Runner.from_cfg(Config(cfg))
    with pytest.raises(ValueError, match="differs from the test dataset's"):
        runner.test()
    ok = Runner.from_cfg(Config(_cfg(str(tmp_path / 'ok'), box_data,
                                     'pascal_part')))
    ok.train()
    assert ok.iter == 2
