# Benchmark candidate: one full-width decoder per tree level (the default
# until light_coarse.py, which narrows the coarse levels', matched it at
# less cost). Like every candidate here it is the demo recipe
# (configs/demo/hierseg_synthetic_cpu.py: frozen pretrained encoder, same
# decoder, data, schedule and budget) trained jointly, all levels from step
# 0; `staged.py` is the staged schedule. `candidate` is the decode-head delta
# that tools/benchmark.py also applies to the base model for its cost rows.
_base_ = '../demo/hierseg_synthetic_cpu.py'
candidate = dict(layout='separate', cascade=False, coarse_channels=None)
model = dict(decode_head=candidate)
custom_hooks = []
