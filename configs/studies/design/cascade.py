# Full-width decoders per level, each finer level conditioned on the coarser
# level's probabilities (zero-initialised 1x1 conv): coarse-to-fine.
_base_ = '../../demo/hierseg_synthetic_cpu.py'
model = dict(
    decode_head=dict(layout='separate', cascade=True, coarse_channels=None))
