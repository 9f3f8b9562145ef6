# The default head, written out: one decoder per level, the coarse levels'
# (body, half) at a quarter of the leaf decoder's 64 channels; joint training.
_base_ = '../../demo/hierseg_synthetic_cpu.py'
model = dict(
    decode_head=dict(layout='separate', cascade=False, coarse_channels=16))
