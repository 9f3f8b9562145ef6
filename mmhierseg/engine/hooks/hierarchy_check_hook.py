"""Start-up check that model and data share one label tree."""
from mmengine.hooks import Hook
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmseg.registry import HOOKS

from ...hierarchy import ClassHierarchy

__all__ = ['HierarchyCheckHook']


@HOOKS.register_module()
class HierarchyCheckHook(Hook):
    """Fail before the first iteration when the model's label tree differs
    from the tree of a dataset it trains, validates or tests on.

    The model takes its tree from ``model.hierarchy``; the metric and the
    visualizer take theirs from the dataset's metainfo. Two different trees
    would train one and score another without a word, so the check runs in
    ``before_train`` (training and validation datasets), ``before_val`` and
    ``before_test``. Datasets without a ``'hierarchy'`` entry are skipped.
    """

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        """Check the training and (if any) the validation dataset."""
        self._check(runner, runner.train_loop, 'train')
        if runner.val_loop is not None:
            self._check(runner, runner.val_loop, 'val')

    def before_val(self, runner) -> None:
        """Check the validation dataset."""
        self._check(runner, runner.val_loop, 'val')

    def before_test(self, runner) -> None:
        """Check the test dataset."""
        self._check(runner, runner.test_loop, 'test')

    @staticmethod
    def _check(runner, loop, split: str) -> None:
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        if isinstance(model, BaseTTAModel):
            model = model.module
        tree = getattr(model, 'hierarchy', None) or getattr(
            getattr(model, 'decode_head', None), 'hierarchy', None)
        dataset = loop.dataloader.dataset
        data_tree = (getattr(dataset, 'metainfo', None) or {}).get(
            'hierarchy')
        if tree is None or data_tree is None:
            return
        data_tree = ClassHierarchy.build(data_tree)
        if data_tree != tree:
            raise ValueError(
                f"the model's label tree differs from the {split} dataset's "
                f'({type(dataset).__name__}, data_root '
                f'{getattr(dataset, "data_root", None)!r}):\n'
                f'  model:   {tree!r}\n  dataset: {data_tree!r}\n'
                'Name the tree once in the config (`hierarchy = ...`) and '
                'pass it to both model.hierarchy and the datasets.')
