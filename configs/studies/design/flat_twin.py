# The flat twin of the demo model: one 7-class decoder (the demo's leaf
# decoder) trained on the leaf loss alone; its coarse levels are derived from
# the leaf through the tree. layout='marginal' with zero weight on the coarse
# levels is exactly that: the network and cost of a plain mmseg head, with the
# same data, schedule and budget as every other model of the study.
_base_ = '../../demo/hierseg_synthetic_cpu.py'
model = dict(
    decode_head=dict(
        layout='marginal',
        cascade=False,
        loss_decode=dict(level_weights=dict(body=0.0, half=0.0, part=1.0))))
