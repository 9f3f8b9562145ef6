# Full-width decoders per level trained in stages (StagedUnfreezeHook: each
# level's modules alone on its own loss for 50 iterations, then all levels
# jointly), the demo's former schedule.
_base_ = '../../demo/hierseg_synthetic_cpu.py'
model = dict(
    decode_head=dict(layout='separate', cascade=False, coarse_channels=None))
custom_hooks = [dict(type='StagedUnfreezeHook', by='iter', stage_length=50)]
# staged: whole branches get no gradient in some stages, DDP must know
model_wrapper_cfg = dict(find_unused_parameters=True)
