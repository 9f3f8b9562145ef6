# Full-width decoders per level plus the HSSN tree-min loss
# (HierarchicalLoss.tree_min_weight; 0.2 keeps it on the scale of the
# weighted cross-entropies at initialisation; not tuned).
_base_ = '../../demo/hierseg_synthetic_cpu.py'
model = dict(
    decode_head=dict(
        layout='separate',
        cascade=False,
        coarse_channels=None,
        loss_decode=dict(tree_min_weight=0.2)))
