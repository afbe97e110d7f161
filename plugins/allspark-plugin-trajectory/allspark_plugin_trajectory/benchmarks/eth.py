"""ETH-UCY (ETH fold) benchmark: AllSpark trajectory model vs classic baselines, in one run.

Trains ``configs/trajectory_eth.py`` (K = 20 hypotheses, best-of-20 and hypothesis 0) and
``configs/trajectory_eth_k1.py`` (K = 1) through ``build_runner``, fits the baselines (constant
velocity, linear regression on the training windows) on the same windows, and writes ADE/FDE,
training wall time and inference throughput of all of them to ``<work-dir>/eth_benchmark.json``,
plus ``eth_tracks.png`` (observed, true and predicted tracks of a few ETH pedestrians).

    OMP_NUM_THREADS=1 python tools/benchmarks/eth.py [--work-dir work_dirs/bench_eth]
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


def train_allspark(config: str, work_dir: str, cfg_options: dict) -> dict:
    """Train through ``build_runner``, then predict the test windows; returns metrics+timings."""
    from allspark_plugin_trajectory.metrics import trajectory_scores

    cfg = load_config(config, cfg_options)
    runner = build_runner(cfg, work_dir=work_dir)
    t0 = time.perf_counter()
    runner.train()
    train_s = time.perf_counter() - t0
    model = runner.model
    model.eval()
    preds, gts, items = [], [], []
    t0 = time.perf_counter()
    with torch.no_grad():
        for batch in runner.test_dataloader:
            outs = model.test_step(batch)
            obs = batch['inputs']['trajectory']['obs']
            for o, out in zip(obs, outs):
                preds.append(np.asarray(out['pred_seq'], dtype=np.float64))
                gts.append(np.asarray(out['gt_seq'], dtype=np.float64))
                items.append(dict(obs=o.numpy(), gt=gts[-1], pred=preds[-1],
                                  rot=np.asarray(out['rot']), origin=np.asarray(out['origin']),
                                  title=f"{out['scene']} ped {int(out['ped_id'])} "
                                        f"frame {int(out['frame'])}"))
    infer_s = time.perf_counter() - t0
    scores = trajectory_scores(np.stack(preds), np.stack(gts))
    scores.update(train_wall_s=round(train_s, 1), train_iters=int(cfg.train_cfg.max_iters),
                  batch_size=int(cfg.train_dataloader.batch_size),
                  infer_samples_per_s=round(len(preds) / infer_s, 1), config=config)
    return dict(scores=scores, items=items)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default='configs/trajectory_eth.py')
    parser.add_argument('--k1-config', default='configs/trajectory_eth_k1.py')
    parser.add_argument('--work-dir', default='work_dirs/bench_eth')
    parser.add_argument('--data-root', default=None, help='override the configs\' data_root')
    parser.add_argument('--max-iters', type=int, default=None)
    parser.add_argument('--k1-max-iters', type=int, default=None)
    parser.add_argument('--skip-k1', action='store_true')
    args = parser.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.work_dir, exist_ok=True)

    from allspark_plugin_trajectory.baselines import (LinearTrajectoryRegressor,
                                                      constant_velocity, windows)
    from allspark_plugin_trajectory.metrics import trajectory_scores
    from allspark_plugin_trajectory.visualize import plot_tracks

    opts = {}
    if args.data_root:
        opts = {f'{k}_dataloader.dataset.data_root': args.data_root
                for k in ('train', 'val', 'test')}
    cfg = load_config(args.config, opts)
    results = {'machine': f'{os.cpu_count()}-core CPU, load average {os.getloadavg()[0]:.1f} at start, 1 thread per process'}

    # ---------------------------------------------------------------- baselines
    def build(split_cfg):
        c = dict(split_cfg)
        c['pipeline'] = []  # baselines see the raw local frame (no canonical rotation)
        return DATASETS.build(c)

    train_ds, test_ds = build(cfg.train_dataloader.dataset), build(cfg.test_dataloader.dataset)
    results['windows'] = dict(train=len(train_ds), test=len(test_ds),
                              train_summary=train_ds.summary(), test_summary=test_ds.summary())
    print(train_ds.summary(), '\n', test_ds.summary(), flush=True)
    obs_tr, gt_tr = windows(train_ds)
    obs_te, gt_te = windows(test_ds)
    t0 = time.perf_counter()
    cv = constant_velocity(obs_te, gt_te.shape[1])
    cv_s = time.perf_counter() - t0
    results['constant_velocity'] = dict(**trajectory_scores(cv, gt_te), train_wall_s=0.0,
                                        infer_samples_per_s=round(len(obs_te) / max(cv_s, 1e-9)))
    t0 = time.perf_counter()
    lin = LinearTrajectoryRegressor().fit(obs_tr, gt_tr)
    lin_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    lp = lin.predict(obs_te)
    lin_s = time.perf_counter() - t0
    results['linear_regression'] = dict(**trajectory_scores(lp, gt_te),
                                        train_wall_s=round(lin_fit, 3),
                                        infer_samples_per_s=round(len(obs_te) / max(lin_s, 1e-9)))
    print(json.dumps({k: results[k] for k in ('constant_velocity', 'linear_regression')},
                     indent=1), flush=True)

    # ---------------------------------------------------------------- AllSpark
    k20_opts = dict(opts)
    if args.max_iters:
        k20_opts['train_cfg.max_iters'] = args.max_iters
        k20_opts['train_cfg.val_interval'] = args.max_iters
    k20 = train_allspark(args.config, os.path.join(args.work_dir, 'k20'), k20_opts)
    results['allspark_k20'] = k20['scores']
    print(json.dumps(results['allspark_k20'], indent=1), flush=True)
    if not args.skip_k1:
        k1_opts = dict(opts)
        if args.k1_max_iters:
            k1_opts['train_cfg.max_iters'] = args.k1_max_iters
            k1_opts['train_cfg.val_interval'] = args.k1_max_iters
        k1 = train_allspark(args.k1_config, os.path.join(args.work_dir, 'k1'), k1_opts)
        results['allspark_k1'] = k1['scores']
        print(json.dumps(results['allspark_k1'], indent=1), flush=True)

    # ---------------------------------------------------------------- picture
    items = k20['items']
    # the baseline's prediction in the model's local frame: rotate the raw local CV forecast
    order = np.argsort([-np.linalg.norm(it['gt'][-1]) for it in items])  # movers first
    pick = [int(i) for i in order[::max(1, len(order) // 6)][:6]]
    chosen = []
    for i in pick:
        it = dict(items[i])
        it['baseline'] = cv[i] @ it['rot']
        if not args.skip_k1:
            it['k1'] = k1['items'][i]['pred'][0]
        chosen.append(it)
    png = plot_tracks(os.path.join(args.work_dir, 'eth_tracks.png'), chosen,
                      title='ETH test: observed (blue), true (green), AllSpark K=20 (red: best '
                            'of 20, orange: others), AllSpark K=1 (purple), constant velocity '
                            '(grey)',
                      baseline_name='constant velocity')
    results['png'] = png
    out = os.path.join(args.work_dir, 'eth_benchmark.json')
    with open(out, 'w') as f:
        json.dump(results, f, indent=1)
    print(json.dumps(results, indent=1))
    print('written', out)


if __name__ == '__main__':
    main()
