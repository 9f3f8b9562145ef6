# 40k iterations, SGD + poly LR (mmseg's schedule_40k); checkpoints and
# hooks as in schedule_hier_20k.py.
_base_ = ['./schedule_hier_20k.py']
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=40000,
        by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40000, val_interval=4000)
default_hooks = dict(checkpoint=dict(interval=4000))
