"""EuroSAT-MS benchmark: AllSpark (MSI plugin) vs a random forest on per-band mean/std and a
from-scratch timm ResNet-18, same split (the data's train/ and test/ folders), one run.

    OMP_NUM_THREADS=1 python tools/benchmarks/eurosat.py [--work-dir work_dirs/bench_eurosat]

Writes ``results.json``, ``allspark_confusion.png`` and the AllSpark run's logs to the work dir.
Accuracy comes with a 95 % Wilson interval (the test set has 40 tiles).  Training wall time is
the whole ``runner.train()`` for AllSpark (file reading included) and the fit for the baselines
(arrays read beforehand; reading all 200 tiles takes about a second).  Throughput is test-set
inference in samples/s (batch 20, batches already in memory, one thread).
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
    gt, pred = [], []
    start = time.perf_counter()
    with torch.no_grad():
        for batch in batches:
            for out in model.test_step(batch):
                gt.append(int(out['gt_label']))
                pred.append(int(out['pred_label']))
    infer_s = time.perf_counter() - start
    gt, pred = np.asarray(gt), np.asarray(pred)
    return dict(metrics=metrics, train_s=train_s, throughput=len(gt) / infer_s,
                correct=int((gt == pred).sum()), total=len(gt),
                trainable_params=sum(p.numel() for p in model.parameters() if p.requires_grad),
                epochs=cfg.train_cfg.get('max_epochs'))


def load_arrays(data_root: str, split: str):
    from allspark_plugin_msi.dataset import EuroSATDataset

    ds = EuroSATDataset(data_root, split)
    xs, ys = [], []
    for i in range(len(ds)):
        s = ds.get_sample(i)
        xs.append(s['msi'])
        ys.append(s['gt_label'])
    return np.stack(xs), np.asarray(ys), ds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default='configs/msi_eurosat.py')
    parser.add_argument('--data-root', default='../shared/data/eurosat')
    parser.add_argument('--work-dir', default='work_dirs/bench_eurosat')
    parser.add_argument('--epochs', type=int, default=None, help='AllSpark epochs (config)')
    parser.add_argument('--baseline-epochs', type=int, default=25)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.work_dir, exist_ok=True)
    from allspark.engine.runner import setup
    setup()
    from allspark.baselines import predict_classifier as predict_torch
    from allspark.evaluation.statistics import wilson_interval
    from allspark_plugin_msi.baselines import band_stats_features, train_timm_classifier

    results = {}
    x_tr, y_tr, ds_tr = load_arrays(args.data_root, 'train')
    x_te, y_te, _ = load_arrays(args.data_root, 'test')
    classes = ds_tr.classes
    log(f'EuroSAT: {len(x_tr)} train / {len(x_te)} test tiles, {len(classes)} classes, '
        f'{x_tr.shape[1]} bands')

    # -- random forest on per-band mean / std -------------------------------------------------
    from sklearn.ensemble import RandomForestClassifier
    rf = RandomForestClassifier(n_estimators=500, random_state=args.seed, n_jobs=1)
    start = time.perf_counter()
    rf.fit(band_stats_features(x_tr), y_tr)
    rf_train_s = time.perf_counter() - start
    start = time.perf_counter()
    rf_pred = rf.predict(band_stats_features(x_te))
    rf_tp = len(x_te) / (time.perf_counter() - start)
    results['random_forest_band_stats'] = dict(correct=int((rf_pred == y_te).sum()),
                                               total=len(y_te), train_s=rf_train_s,
                                               throughput=rf_tp)
    log(f'random forest: {100 * np.mean(rf_pred == y_te):.1f}%')

    # -- ResNet-18 from scratch (timm), per-band normalisation from the training split ----------
    stats = ds_tr.stats()['inputs']['msi']
    mean = np.asarray(stats['mean'], np.float32)[:, None, None]
    std = np.asarray(stats['std'], np.float32)[:, None, None]
    log(f'ResNet-18 from scratch, {args.baseline_epochs} epochs')
    net, net_train_s = train_timm_classifier(
        'resnet18', (x_tr - mean) / std, y_tr, len(classes), epochs=args.baseline_epochs,
        seed=args.seed, log=log)
    net_pred, net_tp = predict_torch(net, ((x_te - mean) / std).astype(np.float32))
    results['resnet18_scratch'] = dict(correct=int((net_pred == y_te).sum()), total=len(y_te),
                                       train_s=net_train_s, throughput=net_tp,
                                       epochs=args.baseline_epochs)
    log(f'ResNet-18: {100 * np.mean(net_pred == y_te):.1f}% in {net_train_s:.0f} s')

    # -- AllSpark ---------------------------------------------------------------------------
    opts = {'randomness.seed': args.seed}
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        opts[f'{key}.dataset.data_root'] = args.data_root
    if args.epochs:
        opts.update({'train_cfg.max_epochs': args.epochs, 'train_cfg.val_interval': args.epochs})
    log(f'AllSpark: training {args.config}')
    results['allspark'] = run_allspark(args.config, os.path.join(args.work_dir, 'allspark'),
                                       opts)

    for name, r in results.items():
        r['accuracy'] = 100 * r['correct'] / r['total']
        r['accuracy_ci95_wilson'] = wilson_interval(r['correct'], r['total'])
    out = os.path.join(args.work_dir, 'results.json')
    with open(out, 'w') as f:
        json.dump(dict(dataset='EuroSAT-MS subset (16 train + 4 test per class)',
                       machine=f'{os.cpu_count()}-core CPU, load average {os.getloadavg()[0]:.1f} at start, 1 thread',
                       command=' '.join(sys.argv), results=results), f, indent=2, default=float)
    print(f'\n{"method":28s} {"acc %":>7s} {"95% CI":>15s} {"train s":>8s} {"samples/s":>10s}')
    for name, r in results.items():
        lo, hi = r['accuracy_ci95_wilson']
        print(f'{name:28s} {r["accuracy"]:7.1f} {f"[{lo:.1f}, {hi:.1f}]":>15s} '
              f'{r["train_s"]:8.1f} {r["throughput"]:10.1f}')
    print(f'written: {out}')


if __name__ == '__main__':
    main()
