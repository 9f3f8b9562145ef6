# staged.py with 12-iteration stages: in a 300-iteration study they take the
# share of the budget (12 %) that 3 x 50 take of the demo's 1,300.
_base_ = '../../demo/hierseg_synthetic_cpu.py'
model = dict(
    decode_head=dict(layout='separate', cascade=False, coarse_channels=None))
custom_hooks = [dict(type='StagedUnfreezeHook', by='iter', stage_length=12)]
# staged: whole branches get no gradient in some stages, DDP must know
model_wrapper_cfg = dict(find_unused_parameters=True)
