# The demo's recipe before the pretrained encoder, for the seed study of
# tools/benchmark_study.py (next to design/staged.py, which it inherits: the
# demo with full-width decoders and the staged schedule the demo had then):
# a random-init ResNet18 encoder (four stages, output stride 16) that trains,
# ImageNet mean/std, and the decoders' input channels to match; everything
# else (decoders, staged schedule, data, budget) is design/staged.py's.
_base_ = '../design/staged.py'
model = dict(
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375]),
    backbone=dict(
        name='resnet18',
        weights=None,
        depth=4,
        out_indices=(2, 3, 4),
        frozen=False),
    decode_head=dict(decoder=dict(in_channels=256, c1_in_channels=64)))
