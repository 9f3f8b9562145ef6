# One decoder trunk cut at its classifier (`cls_seg`), one 1x1 classifier
# per level on its features.
_base_ = '../../demo/hierseg_synthetic_cpu.py'
model = dict(decode_head=dict(layout='shared', cascade=False))
