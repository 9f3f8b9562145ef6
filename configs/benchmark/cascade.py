# Benchmark candidate: separate branches, each finer level conditioned on the
# coarser level's probabilities (zero-initialised 1x1 conv). See separate.py.
_base_ = '../demo/hierseg_synthetic_cpu.py'
candidate = dict(layout='separate', cascade=True, coarse_channels=None)
model = dict(decode_head=candidate)
custom_hooks = []
