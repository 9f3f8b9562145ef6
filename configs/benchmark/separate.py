# Benchmark candidate: one full decoder per tree level (the layout of the
# project's base model). Like every candidate here it is the demo recipe
# (configs/demo/hierseg_synthetic_cpu.py: frozen pretrained encoder, same
# decoder, data, schedule and budget) trained jointly, all levels from step
# 0; `staged.py` is the staged schedule. `candidate` is the decode-head delta
# that tools/benchmark.py also applies to the base model for its cost rows.
_base_ = '../demo/hierseg_synthetic_cpu.py'
candidate = dict(layout='separate', cascade=False)
model = dict(decode_head=candidate)
custom_hooks = []
