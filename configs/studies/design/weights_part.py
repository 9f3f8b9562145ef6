# Full-width decoders per level, the loss weight moved to the parts level
# (body 0.15, half 0.15, part 0.7; the default 0.34 / 0.25 / 0.4; both sum
# to about 1, so the learning rate means the same).
_base_ = '../../demo/hierseg_synthetic_cpu.py'
model = dict(
    decode_head=dict(
        layout='separate',
        cascade=False,
        coarse_channels=None,
        loss_decode=dict(level_weights=dict(body=0.15, half=0.15, part=0.7))))
