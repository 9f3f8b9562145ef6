# Benchmark candidate and the default (configs/_base_/models and the demo):
# separate branches, the coarse levels' decoders (body, half) at a quarter of
# the leaf decoder's width (the head's coarse_channels); the leaf decoder is
# the full one. The coarse levels are the easy ones, and the decoders are
# what the hierarchy adds to a flat model's cost. `candidate` (the cost rows
# of tools/benchmark.py, on the base model's 256-channel ASPPHead) and the
# demo model below (64-channel DepthwiseSeparableASPPHead) both use a
# quarter. See separate.py.
_base_ = '../demo/hierseg_synthetic_cpu.py'
candidate = dict(layout='separate', cascade=False, coarse_channels=64)
model = dict(decode_head=dict(candidate, coarse_channels=16))
custom_hooks = []
