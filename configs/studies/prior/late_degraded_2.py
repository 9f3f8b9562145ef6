# degraded_2.py with late fusion: the encoder sees the image alone; the priors join
# the features the decoders read (PosePriorStem fusion='late': resized to each
# feature map, a zero-initialised 1x1 conv added per map), so no gradient
# crosses the frozen encoder.
_base_ = './degraded_2.py'
model = dict(stem=dict(fusion='late'))
