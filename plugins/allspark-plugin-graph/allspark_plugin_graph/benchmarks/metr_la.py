"""METR-LA (Los-loop subset) benchmark: AllSpark graph model vs classic baselines, in one run.

Trains ``configs/graph_metr_la.py`` through ``build_runner``, fits the baselines on the same
chronological split (last value, time-of-day average, ridge regression on each sensor's 12 lags),
and writes masked MAE/RMSE/MAPE at horizons 3, 6, 12 and on average, training wall time and
inference throughput (windows/s) of each to ``<work-dir>/metr_la_benchmark.json``, plus
``metr_la_forecast.png`` (a few sensors' test forecasts at horizon 3 and 12).

    OMP_NUM_THREADS=1 python tools/benchmarks/metr_la.py [--work-dir work_dirs/bench_metr_la]
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

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from allspark.engine.runner import build_runner, load_config  # noqa: E402
from allspark.registry import DATASETS  # noqa: E402


def timed(fn, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def plot(path: str, data: dict, preds: dict, sensors, sensor_ids, horizon_steps=(3, 12)) -> str:
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
    fig.tight_layout()
    fig.savefig(path, dpi=70)
    plt.close(fig)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default='configs/graph_metr_la.py')
    parser.add_argument('--work-dir', default='work_dirs/bench_metr_la')
    parser.add_argument('--data-root', default=None)
    parser.add_argument('--max-iters', type=int, default=None)
    parser.add_argument('--cfg-options', nargs='*', default=[],
                        help='key=value config overrides (e.g. for a dry run)')
    args = parser.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.work_dir, exist_ok=True)

    from allspark_plugin_graph.baselines import (PerSensorRidge, TimeOfDayAverage, collect,
                                                 last_value)
    from allspark_plugin_graph.metrics import traffic_scores

    opts = {}
    if args.data_root:
        opts = {f'{k}_dataloader.dataset.data_root': args.data_root
                for k in ('train', 'val', 'test')}
    if args.max_iters:
        opts.update({'train_cfg.max_iters': args.max_iters,
                     'train_cfg.val_interval': args.max_iters})
    for item in args.cfg_options:
        key, _, value = item.partition('=')
        opts[key] = json.loads(value) if value[:1] in '[{0123456789-' else value
    cfg = load_config(args.config, opts)
    results = {'machine': f'{os.cpu_count()}-core CPU, load average {os.getloadavg()[0]:.1f} at start, 1 thread per process'}

    # ---------------------------------------------------------------- baselines
    train_ds = DATASETS.build(dict(cfg.train_dataloader.dataset))
    test_ds = DATASETS.build(dict(cfg.test_dataloader.dataset))
    results['windows'] = dict(train=train_ds.summary(), test=test_ds.summary())
    print(results['windows'], flush=True)
    dtr, dte = collect(train_ds), collect(test_ds)
    horizon = dte['y'].shape[-1]
    n_test = len(dte['y'])
    preds = {}
    p, s = timed(last_value, dte, horizon)
    preds['last value'] = p
    results['last_value'] = dict(**traffic_scores(p, dte['y'], dte['mask']), train_wall_s=0.0,
                                 infer_samples_per_s=round(n_test / max(s, 1e-9)))
    tod, fit_s = timed(TimeOfDayAverage().fit, train_ds)
    p, s = timed(tod.predict, dte)
    preds['time-of-day avg'] = p
    results['time_of_day_average'] = dict(**traffic_scores(p, dte['y'], dte['mask']),
                                          train_wall_s=round(fit_s, 3),
                                          infer_samples_per_s=round(n_test / max(s, 1e-9)))
    ridge, fit_s = timed(PerSensorRidge(alpha=1.0).fit, dtr)
    p, s = timed(ridge.predict, dte)
    preds['ridge (12 lags)'] = p
    results['ridge'] = dict(**traffic_scores(p, dte['y'], dte['mask']),
                            train_wall_s=round(fit_s, 3),
                            infer_samples_per_s=round(n_test / max(s, 1e-9)))
    for k in ('last_value', 'time_of_day_average', 'ridge'):
        print(k, json.dumps(results[k]), flush=True)

    # ---------------------------------------------------------------- AllSpark
    runner = build_runner(cfg, work_dir=os.path.join(args.work_dir, 'allspark'))
    t0 = time.perf_counter()
    runner.train()
    train_s = time.perf_counter() - t0
    model = runner.model
    model.eval()
    out_pred, out_gt, out_mask = [], [], []
    t0 = time.perf_counter()
    with torch.no_grad():
        for batch in runner.test_dataloader:
            for o in model.test_step(batch):
                pr = np.asarray(o['pred_seq'], dtype=np.float64)[:, 0, :, 0]  # (N, H)
                anchor = np.asarray(o['anchor'], dtype=np.float64)
                out_pred.append(pr + anchor)
                out_gt.append(np.asarray(o['gt_seq'], dtype=np.float64)[..., 0] + anchor)
                out_mask.append(np.asarray(o['gt_mask'], dtype=bool)[..., 0])
    infer_s = time.perf_counter() - t0
    pred = np.stack(out_pred)
    scores = traffic_scores(pred, np.stack(out_gt), np.stack(out_mask))
    scores.update(train_wall_s=round(train_s, 1), train_iters=int(cfg.train_cfg.max_iters),
                  batch_size=int(cfg.train_dataloader.batch_size),
                  infer_samples_per_s=round(len(pred) / infer_s, 2), config=args.config)
    results['allspark'] = scores
    print('allspark', json.dumps(scores), flush=True)
    assert np.allclose(np.stack(out_gt), dte['y'], atol=1e-3), 'test windows differ'

    # ---------------------------------------------------------------- verdict + picture
    beat = {}
    for base in ('last_value', 'time_of_day_average', 'ridge'):
        for key in [k for k in scores if k.startswith(('mae', 'rmse', 'mape'))]:
            beat[f'{key}<{base}'] = bool(scores[key] < results[base][key])
    results['allspark_beats'] = beat
    preds = {'AllSpark': pred, **{k: v for k, v in preds.items() if k != 'time-of-day avg'}}
    rng = np.random.default_rng(0)
    sensors = sorted(rng.choice(pred.shape[1], 3, replace=False).tolist())
    results['png'] = plot(os.path.join(args.work_dir, 'metr_la_forecast.png'), dte, preds,
                          sensors, test_ds.sensor_ids)
    out = os.path.join(args.work_dir, 'metr_la_benchmark.json')
    with open(out, 'w') as f:
        json.dump(results, f, indent=1)
    print(json.dumps(results, indent=1))
    print('written', out)


if __name__ == '__main__':
    main()
