"""ETH-UCY leave-one-scene-out protocol: AllSpark vs constant velocity and linear regression.

    allspark benchmark eth [--data-root ../shared/data/eth_ucy] [--folds eth univ zara2]
        [--seeds 0 1 2] [--config trajectory::eth.py] [--k1-config trajectory::eth_k1.py]
        [--skip-k1] [--max-iters N] [--out work_dirs/benchmarks/eth]

For every fold (a folder ``<data-root>/<fold>/{train,val,test}`` of ETH-UCY text files; default:
every fold present) the baselines (constant velocity; linear regression fitted on the fold's
training windows, and its rotation-equivariant form, the prior of
``trajectory::eth_linear_prior.py``) are fitted once, and for every training seed the K = 20
config (best-of-20 and hypothesis-0 ADE/FDE) and the K = 1 config are trained through
``build_runner`` and tested once on the fold's test scenes. A single-prediction baseline's
hypothesis-0 score is its only score, so ``ade_k1`` = ``ade`` for the baselines. Writes
``eth_benchmark.json`` (per fold: every run, mean / std / 95 % t interval over seeds, the
verdict of AllSpark's *mean* against the strongest baseline on ADE, FDE, ADE K=1, FDE K=1; the
mean over folds) and, per fold, ``tracks_<fold>.png`` (a few test pedestrians of the first seed,
titled with the fold).

Settings are the configs' (fixed beforehand) unless ``--select KEY=V1,V2 ...`` is given: then,
per fold, every combination is trained (first seed) and scored on the fold's ``val/`` scenes,
the held-out part of its training scenes, and the best on ADE (``--select-metric``) is what the
seeds train and test; every candidate's validation scores are in ``splits.<fold>.selection``.
Nothing is ever chosen on test data.
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
    add_selection_arguments,
    grid_candidates,
    parse_grid,
    prepare_allspark_config,
    select_on_validation,
    selection_record,
    set_threads,
    split_choices,
    throughput,
    train_and_test,
)

DEFAULT_ROOT = '../shared/data/eth_ucy'
METRICS = ('ade', 'fde', 'ade_k1', 'fde_k1')


def available_folds(root: str) -> list[str]:
    """Sub-folders of ``root`` laid out as an ETH-UCY fold (``train/`` and ``test/``)."""
    if not os.path.isdir(root):
        raise FileNotFoundError(f'ETH-UCY data root not found: {root}')
    return sorted(d for d in os.listdir(root)
                  if os.path.isdir(os.path.join(root, d, 'train'))
                  and os.path.isdir(os.path.join(root, d, 'test')))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='allspark benchmark eth',
                                     description=__doc__.splitlines()[0])
    add_common_arguments(parser, DEFAULT_ROOT, out='work_dirs/benchmarks/eth')
    parser.add_argument('--folds', nargs='+', help='folds to run (default: every fold present)')
    parser.add_argument('--config', default='trajectory::eth.py')
    parser.add_argument('--k1-config', default='trajectory::eth_k1.py')
    parser.add_argument('--skip-k1', action='store_true', help='train only the K = 20 config')
    parser.add_argument('--max-iters', type=int, default=None,
                        help='shorter AllSpark runs (the schedule is scaled with them)')
    parser.add_argument('--k1-max-iters', type=int, default=None)
    parser.add_argument('--no-plot', action='store_true')
    add_selection_arguments(parser)
    return parser


def _test_predictions(runner) -> tuple[np.ndarray, np.ndarray, list, float]:
    """``pred (W, K, H, 2)``, ``gt (W, H, 2)`` in the model's local frame, plot items and the
    inference seconds of the whole test loader."""
    import torch

    model = runner.model
    model.eval()
    preds, gts, items = [], [], []
    with Timer() as t, torch.no_grad():
        for batch in runner.test_dataloader:
            outs = model.test_step(batch)
            for obs, out in zip(batch['inputs']['trajectory']['obs'], outs):
                pred = np.asarray(out['pred_seq'], dtype=np.float64)
                preds.append(pred.reshape(-1, *pred.shape[-2:]))
                gts.append(np.asarray(out['gt_seq'], dtype=np.float64))
                items.append(dict(obs=obs.numpy(), gt=gts[-1], pred=preds[-1],
                                  rot=np.asarray(out['rot']), origin=np.asarray(out['origin']),
                                  title=f"{out['scene']} ped {int(out['ped_id'])} "
                                        f"frame {int(out['frame'])}"))
    return np.stack(preds), np.stack(gts), items, t.seconds


def run_allspark(config: str, fold_root: str, seed: int, max_iters: Optional[int],
                 smoke: bool, work_dir: str, cfg_options: Optional[dict] = None
                 ) -> tuple[dict, list]:
    from allspark_plugin_trajectory.metrics import trajectory_scores

    cfg = prepare_allspark_config(config, data_root=fold_root, seed=seed, max_iters=max_iters,
                                  smoke=smoke, cfg_options=cfg_options)
    run = train_and_test(cfg, work_dir, test=False)
    pred, gt, items, infer_s = _test_predictions(run['runner'])
    scores = trajectory_scores(pred, gt)
    scores.update(train_wall_s=run['train_s'], train_iters=int(cfg.train_cfg.max_iters),
                  batch_size=int(cfg.train_dataloader.batch_size),
                  infer_samples_per_s=throughput(len(pred), infer_s),
                  params_trainable=run['params_trainable'])
    return scores, items


def run_baselines(fold_root: str, config: str, cfg_options: Optional[dict] = None
                  ) -> tuple[dict, np.ndarray, dict]:
    """Constant velocity and linear regression on the fold's raw local windows (no canonical
    rotation), scored on its test windows."""
    from allspark.registry import DATASETS
    from allspark_plugin_trajectory.baselines import (
        EquivariantTrajectoryRegressor,
        LinearTrajectoryRegressor,
        constant_velocity,
        windows,
    )
    from allspark_plugin_trajectory.metrics import trajectory_scores

    cfg = prepare_allspark_config(config, data_root=fold_root, cfg_options=cfg_options)

    def build(split_cfg):
        c = dict(split_cfg)
        c['pipeline'] = []
        return DATASETS.build(c)

    train_ds, test_ds = build(cfg.train_dataloader.dataset), build(cfg.test_dataloader.dataset)
    info = dict(train_windows=len(train_ds), test_windows=len(test_ds),
                train_summary=train_ds.summary(), test_summary=test_ds.summary(),
                test_scenes=sorted(test_ds.scenes))
    obs_tr, gt_tr = windows(train_ds)
    obs_te, gt_te = windows(test_ds)
    results = {}
    with Timer() as t:
        cv = constant_velocity(obs_te, gt_te.shape[1])
    results['constant_velocity'] = dict(**trajectory_scores(cv, gt_te), train_wall_s=0.0,
                                        infer_samples_per_s=throughput(len(obs_te), t.seconds))
    with Timer() as t_fit:
        lin = LinearTrajectoryRegressor().fit(obs_tr, gt_tr)
    with Timer() as t:
        lp = lin.predict(obs_te)
    results['linear_regression'] = dict(**trajectory_scores(lp, gt_te),
                                        train_wall_s=t_fit.seconds,
                                        infer_samples_per_s=throughput(len(obs_te), t.seconds))
    # the prior of trajectory::eth_linear_prior.py on its own (x and y share the weights)
    with Timer() as t_fit:
        eq = EquivariantTrajectoryRegressor().fit(obs_tr, gt_tr)
    with Timer() as t:
        ep = eq.predict(obs_te)
    results['linear_regression_equivariant'] = dict(
        **trajectory_scores(ep, gt_te), train_wall_s=t_fit.seconds,
        infer_samples_per_s=throughput(len(obs_te), t.seconds))
    return results, cv, info


def select_for_fold(args, grid: dict, fold_root: str, work_dir: str) -> tuple[dict, dict]:
    """Choose the K = 20 config's ``--select`` values on the fold's ``val/`` scenes (the held-out
    part of its training scenes; the test scene is never seen), training with the first seed."""
    def evaluate(options: dict) -> dict:
        name = '_'.join(f'{k.split(".")[-1]}{v}' for k, v in options.items()) or 'default'
        cfg = prepare_allspark_config(
            args.config, data_root=fold_root, seed=args.seeds[0], smoke=args.smoke,
            max_iters=None if 'train_cfg.max_iters' in options else args.max_iters,
            cfg_options={**args.cfg_options, **options}, keep_validation=True)
        run = train_and_test(cfg, os.path.join(work_dir, name), test=False)
        return run['runner'].val()

    return select_on_validation(grid_candidates(grid), evaluate, args.select_metric or 'ade',
                                higher_is_better=False,
                                data="the fold's val/ scenes (held-out part of its training "
                                     'scenes)')


def plot_fold(path: str, label: str, items: list, cv: np.ndarray, k1_items: Optional[list]
              ) -> str:
    from allspark_plugin_trajectory.visualize import plot_tracks

    order = np.argsort([-np.linalg.norm(it['gt'][-1]) for it in items])  # movers first
    chosen = []
    for i in [int(i) for i in order[::max(1, len(order) // 6)][:6]]:
        it = dict(items[i])
        it['baseline'] = cv[i] @ it['rot']  # the raw local CV forecast in the model's frame
        if k1_items:
            it['k1'] = k1_items[i]['pred'][0]
        chosen.append(it)
    return plot_tracks(path, chosen, baseline_name='constant velocity',
                       title=f'{label} test: observed (blue), true (green), AllSpark K=20 (red: '
                             'best of 20, orange: others)' + (', AllSpark K=1 (purple)'
                                                              if k1_items else '')
                             + ', constant velocity (grey)')


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    set_threads(args.threads)
    folds = split_choices(args.folds, available_folds(args.data_root), 'ETH-UCY folds')
    os.makedirs(args.out, exist_ok=True)
    models = ['allspark_k20'] + ([] if args.skip_k1 else ['allspark_k1'])
    grid = parse_grid(args.select)
    report = BenchmarkReport(
        'eth', dataset='ETH-UCY (leave one scene out; observe 8, predict 12 steps)',
        data_root=args.data_root, split_kind='fold', seeds=args.seeds, argv=argv, out=args.out,
        smoke=args.smoke, threads=args.threads, primary_metric='ade', higher_is_better=False,
        verdict_metrics=list(METRICS), allspark=models,
        configs=dict(allspark_k20=args.config,
                     **({} if args.skip_k1 else dict(allspark_k1=args.k1_config))),
        max_iters=dict(allspark_k20=args.max_iters, allspark_k1=args.k1_max_iters),
        selection=selection_record(
            allspark=(f'K = 20: {sorted(grid)} chosen per fold on its validation split '
                      '(splits.<fold>.selection); the rest ' if grid else '')
            + 'the configs\' settings, fixed beforehand (chosen in earlier sessions on '
              'the ETH fold, see docs/results/trajectory.md)',
            baselines='no settings (constant velocity); linear regression and its '
                      'equivariant form: least squares with a fixed ridge of 1e-3, fitted on '
                      'the fold\'s training windows only'))
    for fold in folds:
        fold_root = os.path.join(args.data_root, fold)
        label = f'ETH-UCY {fold}'
        print(f'[eth] ==== {label} ({fold_root}) ====', flush=True)
        base, cv, info = run_baselines(fold_root, args.config, args.cfg_options)
        report.split(fold, label, data_root=os.path.abspath(fold_root), **info)
        for name, scores in base.items():
            report.add(fold, name, scores)
            print(f'[eth] {label} {name}: ADE {scores["ade"]:.3f} FDE {scores["fde"]:.3f}',
                  flush=True)
        k20_options = dict(args.cfg_options)
        if grid:
            chosen, record = select_for_fold(args, grid, fold_root,
                                             os.path.join(args.out, fold, 'select'))
            report.split(fold, label, selection=record)
            k20_options.update(chosen)
            print(f'[eth] {label}: chosen on validation {chosen}', flush=True)
        for seed in args.seeds:
            work = os.path.join(args.out, fold, f'seed{seed}')
            k20, items = run_allspark(args.config, fold_root, seed,
                                      None if 'train_cfg.max_iters' in k20_options
                                      else args.max_iters, args.smoke,
                                      os.path.join(work, 'k20'), k20_options)
            report.add(fold, 'allspark_k20', k20, seed)
            print(f'[eth] {label} seed {seed} K=20: ADE {k20["ade"]:.3f} / K=1 head '
                  f'{k20["ade_k1"]:.3f}', flush=True)
            k1_items = None
            if not args.skip_k1:
                k1, k1_items = run_allspark(args.k1_config, fold_root, seed,
                                            args.k1_max_iters or args.max_iters, args.smoke,
                                            os.path.join(work, 'k1'), args.cfg_options)
                report.add(fold, 'allspark_k1', k1, seed)
                print(f'[eth] {label} seed {seed} K=1: ADE {k1["ade"]:.3f}', flush=True)
            if seed == args.seeds[0] and not args.no_plot:
                png = plot_fold(os.path.join(args.out, f'tracks_{fold}.png'), label, items, cv,
                                k1_items)
                report.split(fold, label, plot=png)
    path = report.write(os.path.join(args.out, 'eth_benchmark.json'))
    print(report.table())
    print(f'[eth] wrote {path}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
