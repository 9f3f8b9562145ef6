"""Time the hierarchical head layouts next to mmseg's plain ASPPHead.

Every head gets the same input: the last feature map of a ResNet34 at output
stride 8 for a ``--size`` image (``(batch, 512, size/8, size/8)``; the channel
count is read from the encoder, not assumed). One timed repetition is a
forward and a backward pass of the head alone (``sum of output means``
backward, or, with ``--loss``, the head's own training loss on random labels
at image resolution). The median over ``--reps`` repetitions after
``--warmup`` untimed ones is printed with its ratio to the ASPPHead baseline
(7 classes, same ASPP settings), all in the same process; the heads take
turns within each repetition.

Example::

    OMP_NUM_THREADS=2 python tools/benchmark_heads.py --threads 2
"""
import argparse
import statistics
import time

import torch


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument(
        '--size',
        type=int,
        default=256,
        help='image side; features are size/8')
    parser.add_argument(
        '--encoder',
        default='resnet34',
        help='smp encoder whose last-stage channels are used')
    parser.add_argument(
        '--channels',
        type=int,
        default=256,
        help='ASPP channels of every decoder')
    parser.add_argument('--reps', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=3)
    parser.add_argument(
        '--threads',
        type=int,
        default=None,
        help='torch CPU threads (default: torch decides)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument(
        '--loss',
        action='store_true',
        help='backward through each head\'s training loss')
    parser.add_argument('--hierarchy', default='pascal_part')
    return parser.parse_args()


def build_heads(in_channels, channels, hierarchy):
    """The baseline and the hierarchical variants, by display name."""
    from mmengine.config import ConfigDict
    from mmseg.registry import MODELS

    from mmhierseg import ClassHierarchy

    hier = ClassHierarchy.build(hierarchy)
    aspp = dict(
        type='ASPPHead',
        in_channels=in_channels,
        in_index=-1,
        channels=channels,
        dilations=(1, 12, 24, 36),
        dropout_ratio=0.1,
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False)
    heads = {
        f'ASPPHead ({hier.num_leaves} classes)':
        ConfigDict(
            aspp,
            num_classes=hier.num_leaves,
            loss_decode=dict(type='CrossEntropyLoss', avg_non_ignore=True)),
    }
    for layout in ('separate', 'shared'):
        for cascade in (False, True):
            name = f'hier {layout}' + (' + cascade' if cascade else '')
            heads[name] = ConfigDict(
                type='HierarchicalDecodeHead',
                hierarchy=hierarchy,
                layout=layout,
                cascade=cascade,
                decoder=aspp)
    return {name: MODELS.build(cfg) for name, cfg in heads.items()}, hier


def step(head, feats, labels, use_loss, sync):
    """Seconds of one forward + backward pass of ``head``."""
    head.zero_grad(set_to_none=True)
    sync()
    start = time.perf_counter()
    if use_loss:
        losses = head.loss(feats, labels, None)
        total = sum(v for k, v in losses.items() if 'loss' in k)
    else:
        out = head(feats)
        out = out if isinstance(out, (list, tuple)) else [out]
        total = sum(o.mean() for o in out)
    total.backward()
    sync()
    return time.perf_counter() - start


def time_heads(heads, feats, labels, args):
    """Median seconds per head; the heads take turns within every
    repetition, so load changes on a shared machine hit all of them."""
    sync = torch.cuda.synchronize if feats[0].is_cuda else (lambda: None)
    times = {name: [] for name in heads}
    for head in heads.values():
        head.train()
    for rep in range(args.warmup + args.reps):
        for name, head in heads.items():
            sec = step(head, feats, labels, args.loss, sync)
            if rep >= args.warmup:
                times[name].append(sec)
    return {name: statistics.median(t) for name, t in times.items()}


def main():
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from mmengine.registry import init_default_scope

    import mmhierseg  # noqa: F401  (before mmseg.models)
    import mmseg.models  # noqa: F401
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    from mmhierseg.models.backbones import SMPEncoder
    init_default_scope('mmseg')

    torch.manual_seed(0)
    enc = SMPEncoder(args.encoder, weights=None, output_stride=8)
    in_channels = enc.out_channels[-1]
    side = args.size // 8
    device = torch.device(args.device)
    feats = [torch.randn(args.batch, in_channels, side, side, device=device)]
    labels = [
        SegDataSample(
            gt_sem_seg=PixelData(
                data=torch.randint(
                    0, 7, (1, args.size, args.size), device=device)))
        for _ in range(args.batch)
    ]
    heads, hier = build_heads(in_channels, args.channels, args.hierarchy)
    print(f'input features {tuple(feats[0].shape)} ({args.encoder}, stride '
          f'8, {args.size}x{args.size} image), threads '
          f'{torch.get_num_threads()}, device {device}, '
          f'{"loss" if args.loss else "sum of outputs"} backward, median of '
          f'{args.reps} after {args.warmup} warm-up')
    for head in heads.values():
        head.to(device)
    medians = time_heads(heads, feats, labels, args)
    rows = [(name, sum(p.numel()
                       for p in head.parameters()) / 1e6, medians[name])
            for name, head in heads.items()]
    base = rows[0][2]
    print(f'{"head":<28}{"params (M)":>11}{"fwd+bwd (ms)":>14}'
          f'{"vs ASPPHead":>13}')
    for name, params, sec in rows:
        print(f'{name:<28}{params:>11.2f}{sec * 1e3:>14.1f}'
              f'{sec / base:>12.2f}x')


if __name__ == '__main__':
    main()
