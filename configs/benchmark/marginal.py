# Benchmark candidate: one leaf decoder; every coarser level is the log of the
# summed leaf probabilities under its classes, with a loss at every level
# (consistent by construction, the cost of a flat model). See separate.py.
_base_ = '../demo/hierseg_synthetic_cpu.py'
candidate = dict(layout='marginal', cascade=False)
model = dict(decode_head=candidate)
custom_hooks = []
