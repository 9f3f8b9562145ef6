# Benchmark candidate: separate branches, but the coarse levels' decoders
# (body, half) at a quarter of the leaf decoder's width (the head's
# coarse_channels); the leaf decoder is the full one. The coarse levels are
# the easy ones, and the decoders are what the hierarchy adds to the cost.
# `candidate` (tools/benchmark.py cost rows, on the base model's ASPPHead with
# 256 channels) and the demo model below (DepthwiseSeparableASPPHead with 64)
# both use a quarter.
_base_ = './separate.py'
candidate = dict(layout='separate', cascade=False, coarse_channels=64)
model = dict(decode_head=dict(coarse_channels=16))
