# The flat twin of the demo model, for tools/benchmark.py --full: one 7-class
# decoder (the demo's), trained on the leaf loss alone; its coarse levels are
# derived from the leaf through the tree (layout='marginal' with zero weight
# on the coarse levels is exactly that: the same network and cost as a plain
# mmseg head, and the same data, schedule and budget as every candidate).
_base_ = '../demo/hierseg_synthetic_cpu.py'
candidate = dict(
    layout='marginal',
    cascade=False,
    loss_decode=dict(level_weights=[0.0, 0.0, 1.0]))  # body, half, part
model = dict(decode_head=candidate)
custom_hooks = []
