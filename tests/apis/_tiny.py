"""A small random-weight hierarchical model (config file + checkpoint) and
real photos of people that ship inside installed packages."""
import os.path as osp

import torch

#: Config of a tiny HierEncoderDecoder (ResNet18 stages 1-4, FCN branches).
CONFIG = '''
default_scope = 'mmseg'
custom_imports = dict(imports=['mmhierseg'], allow_failed_imports=False)
hierarchy = 'pascal_part'
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='HierEncoderDecoder',
    hierarchy=hierarchy,
    decode='{decode}',
    stem={stem},
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255,
        size_divisor=16,
        test_cfg=dict(size_divisor=16)),
    backbone=dict(type='SMPEncoder', name='resnet18', weights=None, depth=4,
                  output_stride=16, out_indices=(4, ), frozen=False),
    decode_head=dict(
        type='HierarchicalDecodeHead',
        layout='separate',
        decoder=dict(type='FCNHead', in_channels=256, in_index=-1,
                     channels=8, num_convs=1, concat_input=False,
                     dropout_ratio=0.0, norm_cfg=norm_cfg,
                     align_corners=False)),
    test_cfg=dict(mode='whole'))
test_pipeline = [
    dict(type='LoadHierImageFromFile'),
    dict(type='Resize', scale=(320, 160), keep_ratio=True),
    dict(type='PackSegInputs'),
]
'''


def write_model(folder, decode='consistent', stem=None, seed=0):
    """Write ``cfg.py`` and ``model.pth`` (random weights) into ``folder``.

    Args:
        folder (pathlib.Path): Target folder.
        decode (str): The model's decode mode.
        stem (str): Python source of the stem config (``'None'``: none).
        seed (int): Weight seed.

    Returns:
        tuple[str, str]: Config and checkpoint paths.
    """
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    folder.mkdir(parents=True, exist_ok=True)
    cfg_path = str(folder / 'cfg.py')
    with open(cfg_path, 'w') as f:
        f.write(CONFIG.format(decode=decode, stem=stem or 'None'))
    init_default_scope('mmseg')
    torch.manual_seed(seed)
    model = MODELS.build(Config.fromfile(cfg_path).model)
    if getattr(model, 'stem', None) is not None:
        # the stem's fusion starts as the identity on RGB, zero on priors:
        # random weights make the priors count
        torch.nn.init.normal_(model.stem.fuse.weight, std=0.2)
    ckpt = str(folder / 'model.pth')
    # no `meta` entry, as in exported checkpoints
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    return cfg_path, ckpt


def photos():
    """Photos of people shipped in installed packages (path list)."""
    import matplotlib
    import ultralytics
    assets = osp.join(osp.dirname(ultralytics.__file__), 'assets')
    found = [osp.join(assets, 'bus.jpg'), osp.join(assets, 'zidane.jpg'),
             osp.join(osp.dirname(matplotlib.__file__), 'mpl-data',
                      'sample_data', 'grace_hopper.jpg')]
    return [p for p in found if osp.isfile(p)]
