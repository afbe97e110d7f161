"""UC Merced benchmark: AllSpark (RGB plugin, CPU default: small ViT from scratch) vs a
from-scratch timm ResNet-18, on the same seeded split, one run.

    OMP_NUM_THREADS=1 python tools/benchmarks/ucmerced.py [--work-dir work_dirs/bench_ucmerced]

Protocol on the 240-image copy in ../shared/data/ucmerced (15 classes x 4 images, six few-shot
novel classes x 30): all 21 classes, a seeded (``--seed 0``) stratified 50 % split per class ->
120 train / 120 test images (2 + 2 per base class, 15 + 15 per novel class); the split is written
to the work dir (``split_train.txt``, ``split_test.txt``).  Images are resized to 96 px.
Reported: overall accuracy with a 95 % Wilson interval, mean class accuracy (AA; the test set is
imbalanced), training wall time (AllSpark: the whole ``runner.train()``; ResNet-18: the fit on
arrays read beforehand) and test-set inference throughput (samples/s, batch 20, one thread).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault('OMP_NUM_THREADS', '1')
os.environ.setdefault('MKL_NUM_THREADS', '1')

import numpy as np  # noqa: E402
import torch  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)


def log(msg: str) -> None:
    print(f'[{time.strftime("%H:%M:%S")}] {msg}', flush=True)


def run_allspark(config: str, work_dir: str, cfg_options: dict) -> dict:
    """Train the config through ``build_runner``, test it, time inference on the test set."""
    from allspark.engine.runner import build_runner, load_config

    cfg = load_config(config, cfg_options)
    cfg.test_evaluator = dict(cfg.test_evaluator,
                              confusion_png=os.path.join(work_dir, 'allspark_confusion.png'))
    runner = build_runner(cfg, work_dir=work_dir)
    start = time.perf_counter()
    runner.train()
    train_s = time.perf_counter() - start
    metrics = runner.test()
    model = runner.model
    model.eval()
    batches = list(runner.test_dataloader)
    gt, pred, paths = [], [], []
    start = time.perf_counter()
    with torch.no_grad():
        for batch in batches:
            for out in model.test_step(batch):
                gt.append(int(out['gt_label']))
                pred.append(int(out['pred_label']))
                paths.append(out.get('img_path'))
    infer_s = time.perf_counter() - start
    gt, pred = np.asarray(gt), np.asarray(pred)
    return dict(metrics=metrics, train_s=train_s, throughput=len(gt) / infer_s,
                correct=int((gt == pred).sum()), total=len(gt),
                predictions=dict(img_path=paths, gt=gt.tolist(), pred=pred.tolist()),
                trainable_params=sum(p.numel() for p in model.parameters() if p.requires_grad),
                epochs=cfg.train_cfg.get('max_epochs'))


#: The six classes of the standard UC Merced few-shot test split (the AllSpark paper's novel
#: classes); in ../shared/data/ucmerced they have 30 images each, the 15 others 4.
NOVEL_CLASSES = ('beach', 'golfcourse', 'mobilehomepark', 'river', 'sparseresidential',
                 'tenniscourt')


def group_accuracy(gt: np.ndarray, pred: np.ndarray, classes: list) -> dict:
    """Accuracy on the novel-class (30 images each) and base-class (4 each) test images."""
    novel = np.isin(np.asarray(classes)[gt], NOVEL_CLASSES)
    out = {}
    for name, mask in (('novel_6_classes', novel), ('base_classes', ~novel)):
        if mask.any():
            out[name] = dict(correct=int((gt[mask] == pred[mask]).sum()), total=int(mask.sum()))
    return out


def load_arrays(data_root: str, split: str, img_size: int, seed: int, train_ratio: float,
                classes=None):
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


def mean_class_accuracy(gt: np.ndarray, pred: np.ndarray) -> float:
    return 100 * float(np.mean([np.mean(pred[gt == c] == c) for c in np.unique(gt)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default='configs/rgb_ucmerced.py')
    parser.add_argument('--data-root', default='../shared/data/ucmerced')
    parser.add_argument('--work-dir', default='work_dirs/bench_ucmerced')
    parser.add_argument('--epochs', type=int, default=None, help='AllSpark epochs (config)')
    parser.add_argument('--baseline-epochs', type=int, default=25)
    parser.add_argument('--img-size', type=int, default=96)
    parser.add_argument('--train-ratio', type=float, default=0.5)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--classes', default='all',
                        help="'all' (21 classes), 'novel' (the six few-shot novel classes, 30 "
                             "images each) or a comma-separated list")
    args = parser.parse_args()
    classes = None if args.classes == 'all' else list(NOVEL_CLASSES) \
        if args.classes == 'novel' else args.classes.split(',')
    torch.set_num_threads(1)
    os.makedirs(args.work_dir, exist_ok=True)
    from allspark.engine.runner import setup
    setup()
    from allspark.baselines import predict_classifier as predict_torch
    from allspark.evaluation.statistics import wilson_interval
    from allspark_plugin_rgb.baselines import train_timm_classifier

    results = {}
    x_tr, y_tr, ds_tr = load_arrays(args.data_root, 'train', args.img_size, args.seed,
                                    args.train_ratio, classes)
    x_te, y_te, ds_te = load_arrays(args.data_root, 'test', args.img_size, args.seed,
                                    args.train_ratio, classes)
    for split, names in ds_tr.split_lists().items():
        if split in ('train', 'test'):
            with open(os.path.join(args.work_dir, f'split_{split}.txt'), 'w') as f:
                f.write('\n'.join(names) + '\n')
    classes_all = ds_tr.classes
    log(f'UC Merced: {len(x_tr)} train / {len(x_te)} test images, {len(classes_all)} classes')

    stats = ds_tr.stats()['inputs']['rgb']
    mean = np.asarray(stats['mean'], np.float32)[:, None, None]
    std = np.asarray(stats['std'], np.float32)[:, None, None]
    log(f'ResNet-18 from scratch, {args.baseline_epochs} epochs')
    net, net_train_s = train_timm_classifier(
        'resnet18', (x_tr - mean) / std, y_tr, len(classes_all), epochs=args.baseline_epochs,
        seed=args.seed, log=log)
    net_pred, net_tp = predict_torch(net, ((x_te - mean) / std).astype(np.float32))
    results['resnet18_scratch'] = dict(
        correct=int((net_pred == y_te).sum()), total=len(y_te), train_s=net_train_s,
        throughput=net_tp, epochs=args.baseline_epochs,
        mean_class_accuracy=mean_class_accuracy(y_te, net_pred),
        predictions=dict(img_path=[r['img_path'] for r in ds_te.samples], gt=y_te.tolist(),
                         pred=net_pred.tolist()))
    log(f'ResNet-18: {100 * np.mean(net_pred == y_te):.1f}% in {net_train_s:.0f} s')

    opts = {'randomness.seed': args.seed}
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts[f'{key}.dataset.data_root'] = args.data_root
        opts[f'{key}.dataset.seed'] = args.seed
        opts[f'{key}.dataset.train_ratio'] = args.train_ratio
        if classes:
            opts[f'{key}.dataset.classes'] = classes
    opts.update({'val_evaluator.classes': classes_all, 'test_evaluator.classes': classes_all})
    if classes:
        opts.update({'model.head.num_classes': len(classes),
                     'val_evaluator.num_classes': len(classes),
                     'test_evaluator.num_classes': len(classes)})
    if args.epochs:
        opts.update({'train_cfg.max_epochs': args.epochs, 'train_cfg.val_interval': args.epochs})
    log(f'AllSpark: training {args.config}')
    r = run_allspark(args.config, os.path.join(args.work_dir, 'allspark'), opts)
    r['mean_class_accuracy'] = r['metrics'].get('mean_class_accuracy')
    results['allspark'] = r

    for name, r in results.items():
        r['accuracy'] = 100 * r['correct'] / r['total']
        r['accuracy_ci95_wilson'] = wilson_interval(r['correct'], r['total'])
        p = r['predictions']
        r['groups'] = group_accuracy(np.asarray(p['gt']), np.asarray(p['pred']), classes_all)
        for g in r['groups'].values():
            g['accuracy'] = 100 * g['correct'] / g['total']
            g['accuracy_ci95_wilson'] = wilson_interval(g['correct'], g['total'])
    out = os.path.join(args.work_dir, 'results.json')
    with open(out, 'w') as f:
        json.dump(dict(dataset=f'UC Merced subset, classes={args.classes} '
                               f'({len(classes_all)}), seeded stratified '
                               f'{args.train_ratio:.0%} split, seed {args.seed}',
                       machine=f'{os.cpu_count()}-core CPU, load average {os.getloadavg()[0]:.1f} at start, 1 thread',
                       command=' '.join(sys.argv), results=results), f, indent=2, default=float)
    print(f'\n{"method":20s} {"OA %":>6s} {"95% CI":>15s} {"AA %":>6s} {"train s":>8s} '
          f'{"samples/s":>10s}')
    for name, r in results.items():
        lo, hi = r['accuracy_ci95_wilson']
        print(f'{name:20s} {r["accuracy"]:6.1f} {f"[{lo:.1f}, {hi:.1f}]":>15s} '
              f'{r["mean_class_accuracy"]:6.1f} {r["train_s"]:8.1f} {r["throughput"]:10.1f}')
        for gname, g in r['groups'].items():
            lo, hi = g['accuracy_ci95_wilson']
            print(f'    {gname:16s} {g["accuracy"]:6.1f} {f"[{lo:.1f}, {hi:.1f}]":>15s} '
                  f'({g["correct"]}/{g["total"]})')
    print(f'written: {out}')


if __name__ == '__main__':
    main()
