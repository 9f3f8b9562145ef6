"""What :class:`HierarchicalIoUMetric` costs next to the inference it scores."""
import time

import numpy as np
import torch

__all__ = ['metric_cost']


def _clock():
    return np.array([time.perf_counter(), time.process_time()])


def metric_cost(model, hierarchy, num_images: int = 707, side: int = 500,
                subset: int = 6, device: str = 'cpu') -> dict:
    """Metric time over a validation set of Pascal-part's size against the
    time ``model`` takes to infer it (timed on ``subset`` images of the same
    sizes and scaled); wall and CPU seconds.

    The predictions scored are the ground truth with 20 % of the pixels
    replaced by random leaves, each coarse level derived from the leaf.

    Args:
        model (nn.Module): A segmentor in eval mode.
        hierarchy (ClassHierarchy): The label tree.
        num_images (int): Validation images (Pascal-part's person val: 707).
        side (int): Their long side (short side drawn in 0.6..1 of it).
        subset (int): Images whose inference is timed.
        device (str): Where the model runs.

    Returns:
        dict: ``metric_s``, ``metric_cpu_s``, ``inference_s``,
        ``inference_cpu_s``, ``share`` and ``cpu_share``.
    """
    from mmengine.evaluator import Evaluator
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    rng = np.random.default_rng(0)
    short = rng.integers(side * 3 // 5, side + 1, size=num_images)
    sizes = [(int(s), side) if i % 3 else (side, int(s))
             for i, s in enumerate(short)]
    evaluator = Evaluator([dict(type='HierarchicalIoUMetric')])
    evaluator.dataset_meta = hierarchy.metainfo()
    spent = np.zeros(2)
    for i, hw in enumerate(sizes):
        g = torch.Generator().manual_seed(i)
        gt = torch.randint(0, hierarchy.num_leaves, (1, *hw), generator=g)
        wrong = torch.rand(gt.shape, generator=g) < 0.2
        leaf = torch.where(wrong, torch.randint_like(gt, hierarchy.num_leaves),
                           gt)
        sample = SegDataSample(gt_sem_seg=PixelData(data=gt),
                               pred_sem_seg=PixelData(data=leaf),
                               metainfo=dict(img_shape=hw, ori_shape=hw))
        for lvl in range(hierarchy.leaf_level):
            sample.set_data({hierarchy.field(lvl, 'pred_sem_seg'): PixelData(
                data=hierarchy.to_level(leaf, lvl, check=False))})
        t = _clock()
        evaluator.process([sample])
        spent += _clock() - t
    t = _clock()
    evaluator.evaluate(len(sizes))
    spent += _clock() - t
    t = _clock()
    for i, (h, w) in enumerate(sizes[:subset]):
        img = torch.randint(0, 256, (3, h, w), dtype=torch.uint8)
        batch = dict(inputs=[img], data_samples=[SegDataSample(
            metainfo=dict(img_shape=(h, w), ori_shape=(h, w)))])
        with torch.no_grad():
            model.test_step(batch)
    if str(device).startswith('cuda'):
        torch.cuda.synchronize()
    infer = (_clock() - t) * len(sizes) / subset
    return dict(metric_s=spent[0], metric_cpu_s=spent[1],
                inference_s=infer[0], inference_cpu_s=infer[1],
                share=spent[0] / infer[0], cpu_share=spent[1] / infer[1])
