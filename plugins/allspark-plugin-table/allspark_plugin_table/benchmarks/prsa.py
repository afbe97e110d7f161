"""PRSA (Beijing air quality) benchmark: AllSpark table plugin vs gradient boosting, one run.

    python tools/benchmarks/prsa.py configs/table_prsa.py [--work-dir DIR] [--cfg-options k=v]
    python tools/benchmarks/prsa.py configs/table_prsa_chronological.py

Trains the AllSpark config through ``build_runner`` and tests it on the test split, then fits
scikit-learn's HistGradientBoostingRegressor (500 iterations) on the same training rows and
features and scores it on the same test rows.  Prints and writes ``benchmark.json`` in the work
dir: RMSE / MAE / R² (µg/m³), training wall time and inference throughput (rows/s) for both.
Use one thread (``OMP_NUM_THREADS=1``), as on the shared 2-core machine.
"""
import argparse
import json
import os
import sys
import time

os.environ.setdefault('OMP_NUM_THREADS', '1')
os.environ.setdefault('MKL_NUM_THREADS', '1')

import numpy as np  # noqa: E402
import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from allspark.engine.runner import build_runner, load_config  # noqa: E402
from allspark.evaluation.regression import regression_scores  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--work-dir')
    parser.add_argument('--gbm-iters', type=int, default=500)
    parser.add_argument('--skip-allspark', action='store_true')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    torch.set_num_threads(1)

    cfg = load_config(args.config, args.cfg_options)
    name = os.path.splitext(os.path.basename(args.config))[0]
    work_dir = args.work_dir or os.path.join('work_dirs', f'bench_{name}')
    os.makedirs(work_dir, exist_ok=True)
    results = dict(config=args.config, machine=f'{os.cpu_count()}-core CPU, load average {os.getloadavg()[0]:.1f} at start, 1 thread',
                   command=' '.join(sys.argv))

    runner = build_runner(cfg, work_dir=work_dir)
    train_set = runner.train_dataloader.dataset
    test_set = runner.test_dataloader.dataset
    results['rows'] = dict(train=len(train_set), test=len(test_set),
                           test_full=len(test_set.full_split_frame()),
                           split_mode=train_set.split_mode)
    print(f'[prsa] {train_set.split_mode} split: {len(train_set)} train / {len(test_set)} test '
          f'rows', flush=True)

    if not args.skip_allspark:
        t0 = time.time()
        runner.train()
        train_s = time.time() - t0
        t0 = time.time()
        metrics = runner.test()
        test_s = time.time() - t0
        results['allspark'] = dict(
            **{k: float(v) for k, v in metrics.items()}, train_wall_s=round(train_s, 1),
            test_wall_s=round(test_s, 1), infer_samples_per_s=round(len(test_set) / test_s, 1),
            epochs=cfg.train_cfg.get('max_epochs'), iters=cfg.train_cfg.get('max_iters'),
            batch_size=cfg.train_dataloader.batch_size)
        print(f'[prsa] AllSpark: {results["allspark"]}', flush=True)

    from allspark_plugin_table.baselines import baseline_matrix, fit_gradient_boosting
    from allspark_plugin_table.dataset import TARGET
    train_df, test_df = train_set.baseline_frame(), test_set.baseline_frame()
    t0 = time.time()
    model, vocab = fit_gradient_boosting(train_df, max_iter=args.gbm_iters, seed=0)
    train_s = time.time() - t0
    x_test = baseline_matrix(test_df, vocab)
    t0 = time.time()
    pred = model.predict(x_test)
    test_s = time.time() - t0
    scores = regression_scores(pred, test_df[TARGET].to_numpy(dtype=np.float64))
    results['gradient_boosting'] = dict(
        **scores, train_wall_s=round(train_s, 1), test_wall_s=round(test_s, 2),
        infer_samples_per_s=round(len(test_df) / test_s, 1), max_iter=args.gbm_iters,
        test_rows=len(test_df))
    full_df = test_set.full_split_frame()
    if len(full_df) != len(test_df):  # the AllSpark test used a subsample: score both
        full_pred = model.predict(baseline_matrix(full_df, vocab))
        results['gradient_boosting_full_test'] = dict(
            **regression_scores(full_pred, full_df[TARGET].to_numpy(dtype=np.float64)),
            test_rows=len(full_df))
    print(f'[prsa] HistGradientBoosting: {results["gradient_boosting"]}', flush=True)
    if 'gradient_boosting_full_test' in results:
        print(f'[prsa] HistGradientBoosting, full test split: '
              f'{results["gradient_boosting_full_test"]}', flush=True)

    out = os.path.join(work_dir, 'benchmark.json')
    with open(out, 'w') as f:
        json.dump(results, f, indent=2)
    print(f'[prsa] wrote {out}')
    print(json.dumps(results, indent=2))


if __name__ == '__main__':
    main()
