"""UC Merced: AllSpark (small ViT from scratch) vs a from-scratch ResNet-18, same split.

    allspark benchmark ucmerced [--data-root ../shared/data/ucmerced] [--seeds 0 1 2]
        [--split-seed 0] [--train-ratio 0.5] [--classes all|novel|a,b,c]
        [--config rgb::ucmerced.py] [--epochs N] [--baseline-epochs 25] [--out DIR]

Protocol on the 240-image copy in ../shared/data/ucmerced (15 classes x 4 images, six few-shot
novel classes x 30): the chosen classes, a stratified ``--train-ratio`` split per class seeded
by ``--split-seed`` (the same for every training seed; written to ``split_train.txt`` /
``split_test.txt``).  Images are resized to 96 px.  For every training seed both models train
on the training images and are tested once.  Reported: OA with its 95 % Wilson interval, mean
class accuracy (the test set is imbalanced), the accuracy on the novel-class and base-class test
images, training wall time and test throughput (samples/s, batch 20).  Writes
``ucmerced_benchmark.json``.
"""
from __future__ import annotations

import argparse
import os
from typing import Optional, Sequence

import numpy as np

from allspark.benchmarking import (
    BenchmarkReport,
    add_common_arguments,
    classification_summary,
    log_to,
    predict_classifier,
    predict_test_labels,
    prepare_allspark_config,
    selection_record,
    set_threads,
    throughput,
    train_and_test,
    wilson_ci,
)

DEFAULT_ROOT = '../shared/data/ucmerced'
#: The six classes of the standard UC Merced few-shot test split (the AllSpark paper's novel
#: classes); in ../shared/data/ucmerced they have 30 images each, the 15 others 4.
NOVEL_CLASSES = ('beach', 'golfcourse', 'mobilehomepark', 'river', 'sparseresidential',
                 'tenniscourt')
log = log_to('ucmerced')


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='allspark benchmark ucmerced',
                                     description=__doc__.splitlines()[0])
    add_common_arguments(parser, DEFAULT_ROOT, out='work_dirs/benchmarks/ucmerced')
    parser.add_argument('--config', default='rgb::ucmerced.py')
    parser.add_argument('--epochs', type=int, default=None, help='AllSpark epochs')
    parser.add_argument('--baseline-epochs', type=int, default=25)
    parser.add_argument('--img-size', type=int, default=96)
    parser.add_argument('--train-ratio', type=float, default=0.5)
    parser.add_argument('--split-seed', type=int, default=0)
    parser.add_argument('--classes', default='all',
                        help="'all', 'novel' (the six few-shot novel classes) or a "
                             "comma-separated list")
    return parser


def group_accuracy(gt: np.ndarray, pred: np.ndarray, classes: list) -> dict:
    """Accuracy on the novel-class and base-class test images (with Wilson intervals)."""
    novel = np.isin(np.asarray(classes)[gt], NOVEL_CLASSES)
    out = {}
    for name, mask in (('novel_6_classes', novel), ('base_classes', ~novel)):
        if mask.any():
            correct, total = int((gt[mask] == pred[mask]).sum()), int(mask.sum())
            out[f'{name}_accuracy'] = 100.0 * correct / total
            out[f'{name}_ci95_wilson'] = wilson_ci(correct, total)
    return out


def load_arrays(data_root: str, split: str, img_size: int, seed: int, train_ratio: float,
                classes=None):
    import torch
    import torch.nn.functional as F

    from allspark_plugin_rgb.dataset import UCMercedDataset

    ds = UCMercedDataset(data_root, split, train_ratio=train_ratio, seed=seed, classes=classes)
    xs, ys = [], []
    for i in range(len(ds)):
        s = ds.get_sample(i)
        x = torch.from_numpy(s['rgb'])[None]
        xs.append(F.interpolate(x, size=(img_size, img_size), mode='bilinear',
                                align_corners=False)[0].numpy())
        ys.append(s['gt_label'])
    return np.stack(xs), np.asarray(ys), ds


def run_allspark(args, seed: int, classes, classes_all, work_dir: str) -> dict:

    kwargs = dict(seed=args.split_seed, train_ratio=args.train_ratio)
    if classes:
        kwargs['classes'] = classes
    options = dict(args.cfg_options)
    options.update({'test_evaluator.classes': classes_all})
    if classes:
        options.update({'model.head.num_classes': len(classes),
                        'test_evaluator.num_classes': len(classes)})
    cfg = prepare_allspark_config(args.config, data_root=args.data_root, seed=seed,
                                  max_epochs=1 if args.smoke and not args.epochs
                                  else args.epochs, smoke=args.smoke, cfg_options=options,
                                  dataset_kwargs=kwargs)
    cfg.test_evaluator = dict(cfg.test_evaluator, confusion_png=os.path.join(
        work_dir, 'allspark_confusion.png'),
        confusion_title=f'AllSpark, UC Merced ({args.data_root}), seed {seed}')
    run = train_and_test(cfg, work_dir)
    gt, pred, seconds = predict_test_labels(run['runner'])
    k = max(len(classes_all), int(cfg.model.head.num_classes))
    return dict(**classification_summary(gt, pred, k),
                **group_accuracy(gt, pred, classes_all), train_s=run['train_s'],
                throughput=throughput(len(gt), seconds),
                trainable_params=run['params_trainable'],
                epochs=cfg.train_cfg.get('max_epochs'))


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    set_threads(args.threads)
    from allspark.engine.runner import setup
    from allspark_plugin_rgb.baselines import train_timm_classifier

    setup()
    classes = None if args.classes == 'all' else list(NOVEL_CLASSES) \
        if args.classes == 'novel' else args.classes.split(',')
    os.makedirs(args.out, exist_ok=True)
    x_tr, y_tr, ds_tr = load_arrays(args.data_root, 'train', args.img_size, args.split_seed,
                                    args.train_ratio, classes)
    x_te, y_te, _ = load_arrays(args.data_root, 'test', args.img_size, args.split_seed,
                                args.train_ratio, classes)
    for name, paths in ds_tr.split_lists().items():
        if name in ('train', 'test'):
            with open(os.path.join(args.out, f'split_{name}.txt'), 'w') as f:
                f.write('\n'.join(paths) + '\n')
    classes_all = ds_tr.classes
    split = f'classes_{args.classes}_split_seed{args.split_seed}'
    label = (f'UC Merced subset, classes={args.classes} ({len(classes_all)}), stratified '
             f'{args.train_ratio:.0%} split, split seed {args.split_seed}')
    log(f'{label}: {len(x_tr)} train / {len(x_te)} test images')
    baseline_epochs = 1 if args.smoke else args.baseline_epochs
    report = BenchmarkReport(
        'ucmerced', dataset='UC Merced land use (RGB)', data_root=args.data_root,
        split_kind='split', seeds=args.seeds, argv=argv, out=args.out, smoke=args.smoke,
        threads=args.threads, primary_metric='accuracy', higher_is_better=True,
        verdict_metrics=['accuracy', 'mean_class_accuracy'], allspark='allspark',
        config=args.config,
        selection=selection_record(
            allspark=f'{args.config}\'s settings, fixed beforehand (docs/results/rgb.md); this '
                     'run chooses nothing',
            baselines=f'ResNet-18 from scratch, {baseline_epochs} epochs, AdamW lr 1e-3, '
                      'fixed beforehand'))
    report.split(split, label, train_images=len(x_tr), test_images=len(x_te),
                 classes=classes_all, split_seed=args.split_seed, train_ratio=args.train_ratio,
                 split_files=[os.path.join(args.out, f'split_{s}.txt') for s in ('train',
                                                                                  'test')])
    stats = ds_tr.stats()['inputs']['rgb']
    mean = np.asarray(stats['mean'], np.float32)[:, None, None]
    std = np.asarray(stats['std'], np.float32)[:, None, None]
    for seed in args.seeds:
        net, net_train_s = train_timm_classifier(
            'resnet18', (x_tr - mean) / std, y_tr, len(classes_all), epochs=baseline_epochs,
            seed=seed, log=log)
        out = predict_classifier(net, (((x_te - mean) / std).astype(np.float32), y_te),
                                 batch_size=20)
        report.add(split, 'resnet18_scratch', dict(
            **classification_summary(y_te, out['pred'], len(classes_all)),
            **group_accuracy(y_te, out['pred'], classes_all), train_s=net_train_s,
            throughput=out['samples_per_s'], epochs=baseline_epochs), seed)
        r = run_allspark(args, seed, classes, classes_all, os.path.join(args.out, f'seed{seed}'))
        report.add(split, 'allspark', r, seed)
        log(f'seed {seed}: AllSpark {r["accuracy"]:.1f}%')
    path = report.write(os.path.join(args.out, 'ucmerced_benchmark.json'))
    print(report.table())
    log(f'wrote {path}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
