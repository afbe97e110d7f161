"""ModelNet40: AllSpark vs PointNet with the same training time, same official split.

    allspark benchmark modelnet40 [--data-root ../shared/data/modelnet40] [--seeds 0 1 2]
        [--config pointcloud::modelnet40_cpu.py] [--epochs N]
        [--baseline-time same] [--baseline-batch-size 16] [--out DIR]

The data has one protocol split (the official train / test membership of the objects present).
For every training seed both models train on the same training objects with the same
augmentation (the config's training pipeline) and are tested once on the same test objects
(1,024 points, no augmentation).  PointNet gets the same wall-clock training budget as that
seed's AllSpark run took (``--baseline-time same``; its cosine schedule follows the elapsed
fraction of the budget, since the shared CPU's speed changes from minute to minute), or a fixed
number of seconds, or ``none`` (all ``--baseline-epochs``).  Reported: OA with its 95 % Wilson
interval, mean class accuracy, kappa, training wall time (data loading included) and inference
throughput (batch 64); AllSpark's test set is evaluated twice (the second pass reads the
encoder's FPS/kNN grouping cache).  Writes ``modelnet40_benchmark.json`` and the confusion
matrices (PNG) into ``--out``.
"""
from __future__ import annotations

import argparse
import os
from typing import Optional, Sequence

from allspark.benchmarking import (
    BenchmarkReport,
    Timer,
    add_common_arguments,
    classification_summary,
    labelled_inputs,
    log_to,
    predict_classifier,
    prepare_allspark_config,
    selection_record,
    set_threads,
    train_and_test,
    wilson_ci,
)

DEFAULT_ROOT = '../shared/data/modelnet40'
log = log_to('modelnet40')


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='allspark benchmark modelnet40',
                                     description=__doc__.splitlines()[0])
    add_common_arguments(parser, DEFAULT_ROOT, out='work_dirs/benchmarks/modelnet40')
    parser.add_argument('--config', default='pointcloud::modelnet40_cpu.py')
    parser.add_argument('--epochs', type=int, default=None, help='AllSpark epochs')
    parser.add_argument('--baseline-epochs', type=int, default=200,
                        help='at most this many epochs (see --baseline-time)')
    parser.add_argument('--baseline-time', default='same',
                        help="PointNet's training budget in seconds, 'same' (as long as that "
                             "seed's AllSpark training) or 'none' (run all epochs)")
    parser.add_argument('--baseline-batch-size', type=int, default=16)
    parser.add_argument('--baseline-lr', type=float, default=1e-3)
    parser.add_argument('--skip-allspark', action='store_true')
    parser.add_argument('--skip-baseline', action='store_true')
    return parser


def run_allspark(args, seed: int, work_dir: str, png: str) -> dict:
    cfg = prepare_allspark_config(args.config, data_root=args.data_root, seed=seed,
                                  max_epochs=1 if args.smoke and not args.epochs
                                  else args.epochs, smoke=args.smoke,
                                  cfg_options=args.cfg_options)
    cfg.test_evaluator.confusion_png = png
    cfg.test_evaluator.confusion_title = f'AllSpark, ModelNet40 ({args.data_root}), seed {seed}'
    run = train_and_test(cfg, work_dir)
    runner, metrics = run['runner'], run['metrics']
    with Timer() as warm:  # the grouping cache is warm now
        metrics_warm = runner.test()
    grouper = runner.model.encoders['pointcloud'].grouper
    n_train, n_test = len(runner.train_dataloader.dataset), len(runner.test_dataloader.dataset)
    epochs = cfg.train_cfg.max_epochs
    correct = int(round(metrics['accuracy'] * n_test / 100.0))
    return dict(accuracy=metrics['accuracy'], mean_class_accuracy=metrics['mean_class_accuracy'],
                kappa=metrics['kappa'], correct=correct, total=n_test,
                accuracy_ci95_wilson=wilson_ci(correct, n_test),
                same_metrics_with_cache={k: float(v) for k, v in metrics_warm.items()}
                == {k: float(v) for k, v in metrics.items()},
                epochs=epochs, batch_size=cfg.train_dataloader.batch_size,
                train_time_s=run['train_s'], train_samples_per_s=n_train * epochs / run['train_s'],
                inference_samples_per_s_cold=n_test / run['test_s'],
                inference_samples_per_s=n_test / warm.seconds,
                grouping_cache_hits=grouper.cache_hits, grouping_cache_misses=grouper.cache_misses,
                params_trainable=run['params_trainable'], params_total=run['params_total'],
                confusion_png=png)


def run_baseline(args, seed: int, budget: Optional[float], png: str) -> dict:
    from allspark.evaluation.classification import confusion_matrix, save_confusion_png
    from allspark.registry import DATASETS
    from allspark_plugin_pointcloud.baselines import train_pointnet

    cfg = prepare_allspark_config(args.config, data_root=args.data_root,
                                  cfg_options=args.cfg_options)
    train_set = DATASETS.build(cfg.train_dataloader.dataset)
    test_set = DATASETS.build(cfg.test_dataloader.dataset)
    classes = train_set.classes
    epochs = 1 if args.smoke else args.baseline_epochs
    log(f'PointNet seed {seed}: at most {epochs} epochs' + (f' or {budget:.0f} s' if budget
                                                             else ''))
    model, info = train_pointnet(train_set, len(classes), epochs,
                                 batch_size=args.baseline_batch_size, lr=args.baseline_lr,
                                 seed=seed, time_budget_s=budget, log=log)
    with Timer() as t:
        out = predict_classifier(model, test_set, to_xy=labelled_inputs('pointcloud'))
    scores = classification_summary(out['gt'], out['pred'], len(classes))
    save_confusion_png(confusion_matrix(out['gt'], out['pred'], len(classes)), classes, png,
                       title=f'PointNet (no T-nets), ModelNet40 {len(test_set)} test objects, '
                             f'seed {seed}')
    return dict(**scores, epochs=info['epochs'], iterations=info['iters'],
                time_budget_s=budget, batch_size=args.baseline_batch_size,
                train_time_s=info['train_time_s'],
                train_samples_per_s=info['samples_seen'] / info['train_time_s'],
                inference_samples_per_s=len(out['gt']) / t.seconds,
                params_trainable=sum(p.numel() for p in model.parameters()), confusion_png=png)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    set_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    split = 'official'
    report = BenchmarkReport(
        'modelnet40', dataset='ModelNet40 (1,024-point clouds, official split membership)',
        data_root=args.data_root, split_kind='split', seeds=args.seeds, argv=argv, out=args.out,
        smoke=args.smoke, threads=args.threads, primary_metric='accuracy',
        higher_is_better=True, verdict_metrics=['accuracy', 'mean_class_accuracy'],
        allspark='allspark', config=args.config, baseline_time=args.baseline_time,
        selection=selection_record(
            allspark=f'{args.config}\'s settings, fixed beforehand (docs/results/'
                     'pointcloud.md); this run chooses nothing',
            baselines=f'PointNet without T-nets, Adam lr {args.baseline_lr}, batch '
                      f'{args.baseline_batch_size}, budget {args.baseline_time}, fixed '
                      'beforehand'))
    report.split(split, 'ModelNet40, official train/test split (objects present)')
    for seed in args.seeds:
        r = None
        if not args.skip_allspark:
            r = run_allspark(args, seed, os.path.join(args.out, f'seed{seed}'),
                             os.path.join(args.out, f'confusion_allspark_seed{seed}.png'))
            report.add(split, 'allspark', r, seed)
            log(f'seed {seed}: AllSpark OA {r["accuracy"]:.2f}% ({r["train_time_s"]:.0f} s)')
        if not args.skip_baseline:
            budget = None
            if args.baseline_time == 'same':
                budget = r['train_time_s'] if r else None
            elif args.baseline_time != 'none':
                budget = float(args.baseline_time)
            b = run_baseline(args, seed, budget,
                             os.path.join(args.out, f'confusion_pointnet_seed{seed}.png'))
            report.add(split, 'pointnet', b, seed)
            log(f'seed {seed}: PointNet OA {b["accuracy"]:.2f}%')
    runs = report.data['splits'][split]['runs']
    report.split(split, report.data['splits'][split]['label'],
                 test_objects=next(iter(runs.values()))[0]['total'] if runs else None)
    path = report.write(os.path.join(args.out, 'modelnet40_benchmark.json'))
    print(report.table())
    log(f'wrote {path}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
