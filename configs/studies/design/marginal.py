# One leaf decoder; every coarser level is the log of the summed leaf
# probabilities under its classes, with a loss at every level (consistent by
# construction, the cost of a flat model).
_base_ = '../../demo/hierseg_synthetic_cpu.py'
model = dict(decode_head=dict(layout='marginal', cascade=False))
