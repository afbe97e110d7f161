"""METR-LA traffic: AllSpark vs last value, time-of-day average and ridge, same split.

    allspark benchmark metr_la [--data-root ../shared/data/metr_la] [--seeds 0 1 2]
        [--config graph::metr_la.py] [--max-iters N] [--out work_dirs/benchmarks/metr_la]

The data has one protocol split: the config's chronological train / val / test split of the
windows (70 / 10 / 20 %).  The baselines (last value; time-of-day average of the training
days; ridge regression on each sensor's 12 lags) are fitted once on the training windows, and
for every training seed the config is trained through ``build_runner`` and tested once.
Reported: masked MAE / RMSE / MAPE at horizons 3, 6, 12 and on average, training wall time and
inference throughput (windows/s); per metric the verdict of AllSpark's *mean* over seeds against
the strongest baseline.  Writes ``metr_la_benchmark.json`` and ``metr_la_forecast.png`` (a few
sensors' test forecasts of the first seed at horizons 3 and 12).
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
    throughput,
    train_and_test,
)

DEFAULT_ROOT = '../shared/data/metr_la'
log = log_to('metr_la')


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='allspark benchmark metr_la',
                                     description=__doc__.splitlines()[0])
    add_common_arguments(parser, DEFAULT_ROOT, out='work_dirs/benchmarks/metr_la')
    parser.add_argument('--config', default='graph::metr_la.py')
    parser.add_argument('--max-iters', type=int, default=None, help='AllSpark iterations')
    parser.add_argument('--no-plot', action='store_true')
    return parser


def plot(path: str, data: dict, preds: dict, sensors, sensor_ids, title: str,
         horizon_steps=(3, 12)) -> str:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(sensors), len(horizon_steps), figsize=(11, 2.6 * len(sensors)),
                             squeeze=False)
    for r, n in enumerate(sensors):
        for c, h in enumerate(horizon_steps):
            ax = axes[r, c]
            ax.plot(data['y'][:, n, h - 1], color='k', lw=1.2, label='true')
            for name, p in preds.items():
                ax.plot(p[:, n, h - 1], lw=0.9, label=name)
            ax.set_title(f'sensor {sensor_ids[n]}, horizon {h} ({5 * h} min)', fontsize=9)
            ax.set_ylabel('mph')
    axes[0, 0].legend(fontsize=7)
    axes[-1, 0].set_xlabel('test window (5-minute steps)')
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=70)
    plt.close(fig)
    return path


def _allspark_predictions(runner) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Absolute test forecasts ``(W, N, H)``, truth, mask, inference seconds."""
    import torch

    model = runner.model
    model.eval()
    out_pred, out_gt, out_mask = [], [], []
    with Timer() as t, torch.no_grad():
        for batch in runner.test_dataloader:
            for o in model.test_step(batch):
                pr = np.asarray(o['pred_seq'], dtype=np.float64)[:, 0, :, 0]  # (N, H)
                anchor = np.asarray(o['anchor'], dtype=np.float64)
                out_pred.append(pr + anchor)
                out_gt.append(np.asarray(o['gt_seq'], dtype=np.float64)[..., 0] + anchor)
                out_mask.append(np.asarray(o['gt_mask'], dtype=bool)[..., 0])
    return np.stack(out_pred), np.stack(out_gt), np.stack(out_mask), t.seconds


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    set_threads(args.threads)
    from allspark.registry import DATASETS
    from allspark_plugin_graph.baselines import (
        PerSensorRidge,
        TimeOfDayAverage,
        collect,
        last_value,
    )
    from allspark_plugin_graph.metrics import traffic_scores

    os.makedirs(args.out, exist_ok=True)
    cfg = prepare_allspark_config(args.config, data_root=args.data_root,
                                  cfg_options=args.cfg_options)
    split = 'chronological'
    label = 'METR-LA (Los-loop subset), chronological 70/10/20 split'
    metrics = [f'{m}{h}' for m in ('mae', 'rmse', 'mape') for h in ('', '_h3', '_h6', '_h12')]
    report = BenchmarkReport(
        'metr_la', dataset='METR-LA traffic speed (5-minute steps, 12 in -> 12 out)',
        data_root=args.data_root, split_kind='split', seeds=args.seeds, argv=argv, out=args.out,
        smoke=args.smoke, threads=args.threads, primary_metric='mae', higher_is_better=False,
        verdict_metrics=metrics, allspark='allspark', config=args.config,
        selection=selection_record(
            allspark=f'{args.config}\'s settings, chosen on the validation windows (cut from '
                     'the training period, before the test windows) in an earlier session '
                     '(docs/results/graph.md); this run chooses nothing',
            baselines='last value and time-of-day average: no settings; ridge: alpha 1.0, '
                      'fixed beforehand'))
    train_ds = DATASETS.build(dict(cfg.train_dataloader.dataset))
    test_ds = DATASETS.build(dict(cfg.test_dataloader.dataset))
    report.split(split, label, train=train_ds.summary(), test=test_ds.summary())
    dtr, dte = collect(train_ds), collect(test_ds)
    horizon, n_test = dte['y'].shape[-1], len(dte['y'])
    preds = {}
    with Timer() as t:
        preds['last value'] = last_value(dte, horizon)
    report.add(split, 'last_value', dict(**traffic_scores(preds['last value'], dte['y'],
                                                          dte['mask']), train_wall_s=0.0,
                                         infer_samples_per_s=throughput(n_test, t.seconds)))
    with Timer() as t_fit:
        tod = TimeOfDayAverage().fit(train_ds)
    with Timer() as t:
        p = tod.predict(dte)
    report.add(split, 'time_of_day_average', dict(
        **traffic_scores(p, dte['y'], dte['mask']), train_wall_s=t_fit.seconds,
        infer_samples_per_s=throughput(n_test, t.seconds)))
    with Timer() as t_fit:
        ridge = PerSensorRidge(alpha=1.0).fit(dtr)
    with Timer() as t:
        preds['ridge (12 lags)'] = ridge.predict(dte)
    report.add(split, 'ridge', dict(**traffic_scores(preds['ridge (12 lags)'], dte['y'],
                                                     dte['mask']),
                                    train_wall_s=t_fit.seconds,
                                    infer_samples_per_s=throughput(n_test, t.seconds)))
    max_iters = 2 if args.smoke and not args.max_iters else args.max_iters
    for seed in args.seeds:
        cfg = prepare_allspark_config(args.config, data_root=args.data_root, seed=seed,
                                      max_iters=max_iters, smoke=args.smoke,
                                      cfg_options=args.cfg_options)
        run = train_and_test(cfg, os.path.join(args.out, f'seed{seed}'), test=False)
        pred, gt, mask, infer_s = _allspark_predictions(run['runner'])
        if not np.allclose(gt, dte['y'], atol=1e-3):
            raise RuntimeError('metr_la: the AllSpark test windows differ from the baselines\'')
        scores = dict(**traffic_scores(pred, gt, mask), train_wall_s=run['train_s'],
                      train_iters=int(cfg.train_cfg.max_iters),
                      batch_size=int(cfg.train_dataloader.batch_size),
                      infer_samples_per_s=throughput(len(pred), infer_s))
        report.add(split, 'allspark', scores, seed)
        log(f'seed {seed}: AllSpark MAE {scores["mae"]:.3f}')
        if seed == args.seeds[0] and not args.no_plot:
            rng = np.random.default_rng(0)
            sensors = sorted(rng.choice(pred.shape[1], min(3, pred.shape[1]),
                                        replace=False).tolist())
            png = plot(os.path.join(args.out, 'metr_la_forecast.png'), dte,
                       {'AllSpark': pred, **preds}, sensors, test_ds.sensor_ids,
                       f'{label}: test forecasts, seed {seed}')
            report.split(split, label, plot=png)
    path = report.write(os.path.join(args.out, 'metr_la_benchmark.json'))
    print(report.table())
    log(f'wrote {path}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
