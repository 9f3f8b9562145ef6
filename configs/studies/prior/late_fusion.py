# The demo model with late fusion: the encoder sees the image alone; the
# priors join the features the decoders read (PosePriorStem fusion='late':
# resized to each feature map, a zero-initialised 1x1 conv added per map), so
# no gradient crosses the frozen encoder. It reads whatever priors/ the study's
# --data-root holds (on the demo's set: keypoint masks and YOLO11n-like
# keypoint errors, what the offline pipeline makes on a photo).
_base_ = '../../demo/hierseg_synthetic_cpu.py'
model = dict(stem=dict(fusion='late'))
