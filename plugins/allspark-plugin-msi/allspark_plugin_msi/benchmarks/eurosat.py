"""EuroSAT-MS: AllSpark vs a random forest and a from-scratch ResNet-18, same split.

    allspark benchmark eurosat [--data-root ../shared/data/eurosat] [--seeds 0 1 2]
        [--config msi::eurosat.py] [--epochs N] [--baseline-epochs 25] [--out DIR]

The data's ``train/`` and ``test/`` folders are the split.  For every training seed: a random
forest (500 trees) on per-band mean/std, a timm ResNet-18 from scratch (per-band normalisation
from the training split, flips and 90-degree rotations, the core's baseline loop) and the
AllSpark config (through ``build_runner``), each tested once.  Accuracy comes with its 95 %
Wilson interval (the test set is small); the mean and spread are over the seeds.  Training
wall time: the whole ``runner.train()`` for AllSpark (file reading included), the fit for the
baselines (arrays read beforehand).  Throughput: test-set inference in samples/s.  Writes
``eurosat_benchmark.json`` and AllSpark's confusion matrix per seed.
"""
from __future__ import annotations

import argparse
import os
from typing import Optional, Sequence

import numpy as np

from allspark.benchmarking import (
    BenchmarkReport,
    Timer,
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
)

DEFAULT_ROOT = '../shared/data/eurosat'
log = log_to('eurosat')


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='allspark benchmark eurosat',
                                     description=__doc__.splitlines()[0])
    add_common_arguments(parser, DEFAULT_ROOT, out='work_dirs/benchmarks/eurosat')
    parser.add_argument('--config', default='msi::eurosat.py')
    parser.add_argument('--epochs', type=int, default=None, help='AllSpark epochs')
    parser.add_argument('--baseline-epochs', type=int, default=25)
    return parser


def load_arrays(data_root: str, split: str):
    from allspark_plugin_msi.dataset import EuroSATDataset

    ds = EuroSATDataset(data_root, split)
    samples = [ds.get_sample(i) for i in range(len(ds))]
    return (np.stack([s['msi'] for s in samples]),
            np.asarray([s['gt_label'] for s in samples]), ds)


def run_allspark(args, seed: int, work_dir: str) -> dict:

    cfg = prepare_allspark_config(args.config, data_root=args.data_root, seed=seed,
                                  max_epochs=1 if args.smoke and not args.epochs
                                  else args.epochs, smoke=args.smoke,
                                  cfg_options=args.cfg_options)
    cfg.test_evaluator = dict(cfg.test_evaluator, confusion_png=os.path.join(
        work_dir, 'allspark_confusion.png'),
        confusion_title=f'AllSpark, EuroSAT ({args.data_root}), seed {seed}')
    run = train_and_test(cfg, work_dir)
    gt, pred, seconds = predict_test_labels(run['runner'])
    k = int(cfg.model.head.num_classes)
    return dict(**classification_summary(gt, pred, k),
                train_s=run['train_s'], throughput=throughput(len(gt), seconds),
                trainable_params=run['params_trainable'],
                epochs=cfg.train_cfg.get('max_epochs'),
                confusion_png=cfg.test_evaluator['confusion_png'])


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    set_threads(args.threads)
    from sklearn.ensemble import RandomForestClassifier

    from allspark.engine.runner import setup
    from allspark_plugin_msi.baselines import band_stats_features, train_timm_classifier

    setup()
    os.makedirs(args.out, exist_ok=True)
    x_tr, y_tr, ds_tr = load_arrays(args.data_root, 'train')
    x_te, y_te, _ = load_arrays(args.data_root, 'test')
    classes = ds_tr.classes
    split = 'train_test_folders'
    label = f'EuroSAT-MS subset ({len(x_tr)} train / {len(x_te)} test tiles, ' \
            f'{len(classes)} classes)'
    log(label)
    baseline_epochs = 1 if args.smoke else args.baseline_epochs
    trees = 20 if args.smoke else 500
    report = BenchmarkReport(
        'eurosat', dataset='EuroSAT-MS (13-band Sentinel-2 GeoTIFF tiles)',
        data_root=args.data_root, split_kind='split', seeds=args.seeds, argv=argv, out=args.out,
        smoke=args.smoke, threads=args.threads, primary_metric='accuracy',
        higher_is_better=True, allspark='allspark', config=args.config,
        selection=selection_record(
            allspark=f'{args.config}\'s settings, fixed beforehand (docs/results/msi.md); this '
                     'run chooses nothing',
            baselines=f'random forest {trees} trees on band mean/std; ResNet-18 from scratch, '
                      f'{baseline_epochs} epochs, AdamW lr 1e-3: fixed beforehand'))
    report.split(split, label, train_tiles=len(x_tr), test_tiles=len(x_te), classes=classes)
    stats = ds_tr.stats()['inputs']['msi']
    mean = np.asarray(stats['mean'], np.float32)[:, None, None]
    std = np.asarray(stats['std'], np.float32)[:, None, None]
    for seed in args.seeds:
        rf = RandomForestClassifier(n_estimators=trees, random_state=seed, n_jobs=1)
        with Timer() as t_fit:
            rf.fit(band_stats_features(x_tr), y_tr)
        with Timer() as t_pred:
            rf_pred = rf.predict(band_stats_features(x_te))
        report.add(split, 'random_forest_band_stats', dict(
            **classification_summary(y_te, rf_pred, len(classes)), train_s=t_fit.seconds,
            throughput=throughput(len(x_te), t_pred.seconds)), seed)
        net, net_train_s = train_timm_classifier(
            'resnet18', (x_tr - mean) / std, y_tr, len(classes), epochs=baseline_epochs,
            seed=seed, log=log)
        out = predict_classifier(net, (((x_te - mean) / std).astype(np.float32), y_te),
                                 batch_size=20)
        report.add(split, 'resnet18_scratch', dict(
            **classification_summary(y_te, out['pred'], len(classes)), train_s=net_train_s,
            throughput=out['samples_per_s'], epochs=baseline_epochs), seed)
        r = run_allspark(args, seed, os.path.join(args.out, f'seed{seed}'))
        report.add(split, 'allspark', r, seed)
        log(f'seed {seed}: AllSpark {r["accuracy"]:.1f}%')
    path = report.write(os.path.join(args.out, 'eurosat_benchmark.json'))
    print(report.table())
    log(f'wrote {path}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
