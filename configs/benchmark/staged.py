# Benchmark candidate: separate branches trained in stages (StagedUnfreezeHook:
# each level's modules alone on its own loss for 50 iterations, then all
# levels jointly), the demo's schedule until the study showed joint training
# better (README "Performance"). See separate.py.
_base_ = '../demo/hierseg_synthetic_cpu.py'
candidate = dict(layout='separate', cascade=False, coarse_channels=None)
model = dict(decode_head=candidate)
custom_hooks = [dict(type='StagedUnfreezeHook', by='iter', stage_length=50)]
