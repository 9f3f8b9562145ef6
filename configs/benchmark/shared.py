# Benchmark candidate: the decoder built once and cut at its classifier
# (`cls_seg`), one 1x1 classifier per level on its features. See separate.py.
_base_ = '../demo/hierseg_synthetic_cpu.py'
candidate = dict(layout='shared', cascade=False)
model = dict(decode_head=candidate)
custom_hooks = []
