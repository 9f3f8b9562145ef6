# One full-width decoder per tree level, joint training from step 0.
_base_ = '../../demo/hierseg_synthetic_cpu.py'
model = dict(
    decode_head=dict(layout='separate', cascade=False, coarse_channels=None))
