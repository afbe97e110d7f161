"""PRSA air quality, random and chronological split: AllSpark vs gradient boosting.

    allspark benchmark prsa [--data-root ../shared/data/prsa] [--splits random chronological]
        [--seeds 0 1 2] [--max-iters N] [--gbm-iters 500] [--out DIR]

Splits: ``random`` (``table::prsa.py``: a seeded 40 % / 60 % split of the rows with a PM2.5
value) and ``chronological`` (``table::prsa_chronological.py``: the earlier rows train, the
later test); ``--config SPLIT=CONFIG`` replaces either.  For every split scikit-learn's
HistGradientBoostingRegressor (``--gbm-iters`` iterations, no early stopping: deterministic) is
fitted once on the training rows and features, and for every training seed the AllSpark config
is trained through ``build_runner`` and tested once.  The AllSpark test may use a seeded
subsample of the test split (the config's ``subsample``): the baseline is scored on the same
rows and, for reference, on the full test split.  Reported: RMSE / MAE / R² (µg/m³), training
wall time and inference throughput (rows/s).  Writes ``prsa_benchmark.json``.
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
    log_to,
    prepare_allspark_config,
    selection_record,
    set_threads,
    split_choices,
    throughput,
    train_and_test,
)

DEFAULT_ROOT = '../shared/data/prsa'
CONFIGS = {'random': 'table::prsa.py', 'chronological': 'table::prsa_chronological.py'}
LABELS = {'random': 'PRSA random split (40 % train)',
          'chronological': 'PRSA chronological split (earlier rows train, later test)'}
log = log_to('prsa')


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='allspark benchmark prsa',
                                     description=__doc__.splitlines()[0])
    add_common_arguments(parser, DEFAULT_ROOT, out='work_dirs/benchmarks/prsa')
    parser.add_argument('--splits', nargs='+', help='random and/or chronological (default: both)')
    parser.add_argument('--config', nargs='+', default=[], metavar='SPLIT=CONFIG')
    parser.add_argument('--max-iters', type=int, default=None, help='AllSpark iterations')
    parser.add_argument('--gbm-iters', type=int, default=500)
    parser.add_argument('--skip-allspark', action='store_true')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    set_threads(args.threads)
    from allspark.evaluation.regression import regression_scores
    from allspark.registry import DATASETS
    from allspark_plugin_table.baselines import baseline_matrix, fit_gradient_boosting
    from allspark_plugin_table.dataset import TARGET

    configs = dict(CONFIGS)
    for item in args.config:
        split, sep, config = item.partition('=')
        if not sep or split not in CONFIGS:
            raise ValueError(f'--config expects SPLIT=CONFIG with SPLIT in {list(CONFIGS)}, '
                             f'got {item!r}')
        configs[split] = config
    splits = split_choices(args.splits, list(CONFIGS), 'PRSA splits')
    os.makedirs(args.out, exist_ok=True)
    gbm_iters = 5 if args.smoke else args.gbm_iters
    report = BenchmarkReport(
        'prsa', dataset='PRSA Beijing multi-site air quality (hourly PM2.5 regression)',
        data_root=args.data_root, split_kind='split', seeds=args.seeds, argv=argv, out=args.out,
        smoke=args.smoke, threads=args.threads, primary_metric='rmse', higher_is_better=False,
        verdict_metrics=['rmse', 'mae'], allspark='allspark',
        configs={s: configs[s] for s in splits},
        selection=selection_record(
            allspark='the configs\' settings, fixed beforehand (docs/results/table.md); this '
                     'run chooses nothing',
            baselines=f'HistGradientBoostingRegressor, {gbm_iters} iterations, scikit-learn '
                      'defaults otherwise, fixed beforehand'))
    for split in splits:
        label = LABELS[split]
        max_iters = 2 if args.smoke and not args.max_iters else args.max_iters
        base_cfg = prepare_allspark_config(configs[split], data_root=args.data_root,
                                           cfg_options=args.cfg_options)
        train_set = DATASETS.build(base_cfg.train_dataloader.dataset)
        test_set = DATASETS.build(base_cfg.test_dataloader.dataset)
        full_df = test_set.full_split_frame()
        report.split(split, label, config=configs[split], split_mode=train_set.split_mode,
                     train_rows=len(train_set), test_rows=len(test_set),
                     test_rows_full=len(full_df))
        log(f'==== {label}: {len(train_set)} train / {len(test_set)} test rows')

        train_df, test_df = train_set.baseline_frame(), test_set.baseline_frame()
        with Timer() as t_fit:
            model, vocab = fit_gradient_boosting(train_df, max_iter=gbm_iters, seed=0)
        x_test = baseline_matrix(test_df, vocab)
        with Timer() as t_pred:
            pred = model.predict(x_test)
        gbm = dict(**regression_scores(pred, test_df[TARGET].to_numpy(dtype=np.float64)),
                   train_wall_s=t_fit.seconds, test_wall_s=t_pred.seconds,
                   infer_samples_per_s=throughput(len(test_df), t_pred.seconds),
                   max_iter=gbm_iters, test_rows=len(test_df))
        if len(full_df) != len(test_df):  # AllSpark is tested on a subsample: score both
            full = model.predict(baseline_matrix(full_df, vocab))
            report.split(split, label, gradient_boosting_full_test=dict(
                **regression_scores(full, full_df[TARGET].to_numpy(dtype=np.float64)),
                test_rows=len(full_df)))
        report.add(split, 'gradient_boosting', gbm)
        log(f'{label} gradient boosting: RMSE {gbm["rmse"]:.2f}')
        if args.skip_allspark:
            continue
        for seed in args.seeds:
            cfg = prepare_allspark_config(configs[split], data_root=args.data_root, seed=seed,
                                          cfg_options=args.cfg_options,
                                          max_iters=max_iters, smoke=args.smoke)
            run = train_and_test(cfg, os.path.join(args.out, split, f'seed{seed}'))
            m = run['metrics']
            r = dict(**{k: float(v) for k, v in m.items() if isinstance(v, (int, float))},
                     train_wall_s=run['train_s'], test_wall_s=run['test_s'],
                     infer_samples_per_s=throughput(len(test_set), run['test_s']),
                     iters=cfg.train_cfg.get('max_iters'),
                     batch_size=int(cfg.train_dataloader.batch_size))
            report.add(split, 'allspark', r, seed)
            log(f'{label} seed {seed} AllSpark: RMSE {r["rmse"]:.2f}')
    path = report.write(os.path.join(args.out, 'prsa_benchmark.json'))
    print(report.table())
    log(f'wrote {path}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
