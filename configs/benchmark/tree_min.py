# Benchmark candidate: separate branches plus the HSSN tree-min loss
# (HierarchicalLoss.tree_min_weight; 0.2 keeps it on the scale of the
# weighted cross-entropies at initialisation; not tuned). See separate.py.
_base_ = '../demo/hierseg_synthetic_cpu.py'
candidate = dict(
    layout='separate',
    cascade=False,
    coarse_channels=None,
    loss_decode=dict(tree_min_weight=0.2))
model = dict(decode_head=candidate)
custom_hooks = []
