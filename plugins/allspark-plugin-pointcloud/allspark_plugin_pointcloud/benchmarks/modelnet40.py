"""ModelNet40 (1,600 train / 910 test objects): AllSpark (point cloud plugin) vs PointNet, one run.

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python tools/benchmarks/modelnet40.py \
        --config configs/pointcloud_modelnet40_cpu.py --work-dir work_dirs/bench_modelnet40 \
        --baseline-time same --baseline-batch-size 16

Both models train on the same 1,600 training objects with the same augmentation (the config's
training pipeline: random anisotropic scale + translation, random point dropout) and the same
batch size; PointNet gets the same wall-clock training budget as AllSpark took (its cosine
learning-rate schedule follows the elapsed fraction of that budget), since the shared CPU's
speed changes from minute to minute.  Both are
evaluated on the same 910 test objects (1,024 points each, no augmentation).  Reported for each:
overall accuracy (OA), mean-class accuracy (core ``ClassificationMetric``), kappa, training wall
time (data loading included) and inference throughput over the test set (batch 64, data loading
included, one thread).  AllSpark's test set is evaluated twice: the first pass computes every
cloud's FPS/kNN grouping, the second reads them from the encoder's grouping cache.  Writes
``results.json`` and both confusion matrices (PNG) into the work dir.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from typing import Optional

import torch
from mmengine.config import DictAction

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from allspark.engine.runner import build_runner, load_config  # noqa: E402
from allspark.evaluation.classification import (classification_scores,  # noqa: E402
                                                confusion_matrix, save_confusion_png)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default='configs/pointcloud_modelnet40_cpu.py')
    parser.add_argument('--work-dir', default='work_dirs/bench_modelnet40')
    parser.add_argument('--data-root', help="override the config's data_root")
    parser.add_argument('--baseline-epochs', type=int, default=200,
                        help='at most this many epochs (see --baseline-time)')
    parser.add_argument('--baseline-time', default='same',
                        help="PointNet's wall-clock training budget in seconds, or 'same' (as "
                             "long as AllSpark's training took) or 'none' (run all epochs)")
    parser.add_argument('--baseline-batch-size', type=int, default=16)
    parser.add_argument('--baseline-lr', type=float, default=1e-3)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config entries (e.g. a quick check with '
                             'train_dataloader.dataset.indices=32)')
    parser.add_argument('--threads', type=int, default=1, help='torch threads (default 1)')
    parser.add_argument('--skip-allspark', action='store_true')
    parser.add_argument('--skip-baseline', action='store_true')
    return parser.parse_args()


def log(msg: str) -> None:
    print(f'[modelnet40 {time.strftime("%H:%M:%S")}] {msg}', flush=True)


def _data_options(args) -> dict:
    options = dict(args.cfg_options)
    if args.data_root:
        options.update({f'{k}.dataset.data_root': args.data_root
                        for k in ('train_dataloader', 'val_dataloader', 'test_dataloader')})
    return options


def run_allspark(args, work_dir: str) -> dict:
    cfg = load_config(args.config, _data_options(args))
    cfg.test_evaluator.confusion_png = os.path.join(work_dir, 'confusion_modelnet40_allspark.png')
    # Evaluate after training only (runner.test below), never as a validation inside training.
    cfg.val_dataloader = cfg.val_evaluator = cfg.val_cfg = None
    cfg.train_cfg.pop('val_interval', None)
    runner = build_runner(cfg, work_dir=work_dir)
    log(f'AllSpark: training {cfg.train_cfg.max_epochs} epochs ({args.config})')
    start = time.perf_counter()
    runner.train()
    train_time = time.perf_counter() - start
    n_train = len(runner.train_dataloader.dataset)
    log(f'AllSpark: trained in {train_time:.0f} s; testing (grouping cache cold)')
    start = time.perf_counter()
    metrics = runner.test()
    cold = time.perf_counter() - start
    log('AllSpark: testing again (grouping cache warm)')
    start = time.perf_counter()
    metrics_warm = runner.test()
    warm = time.perf_counter() - start
    model = runner.model
    grouper = model.encoders['pointcloud'].grouper
    n_test = len(runner.test_dataloader.dataset)
    result = dict(
        model=f'AllSpark (PointTransformerEncoder -> '
              f'{cfg.model.modalities.pointcloud.bridge.type} -> MiniLM-L6 frozen -> '
              f'LinearClsHead)', config=args.config, epochs=cfg.train_cfg.max_epochs,
        batch_size=cfg.train_dataloader.batch_size,
        accuracy=metrics['accuracy'], mean_class_accuracy=metrics['mean_class_accuracy'],
        kappa=metrics['kappa'], same_metrics_with_cache=metrics_warm == metrics,
        train_time_s=train_time, train_samples_per_s=n_train * cfg.train_cfg.max_epochs / train_time,
        test_samples=n_test, inference_samples_per_s_cold=n_test / cold,
        inference_samples_per_s=n_test / warm, grouping_cache_hits=grouper.cache_hits,
        grouping_cache_misses=grouper.cache_misses,
        params_trainable=sum(p.numel() for p in model.parameters() if p.requires_grad),
        params_total=sum(p.numel() for p in model.parameters()),
        confusion_png=cfg.test_evaluator.confusion_png)
    log(f'AllSpark: {json.dumps(result)}')
    return result


def run_baseline(args, work_dir: str, budget: Optional[float]) -> dict:
    from mmengine.registry import DefaultScope

    from allspark.registry import DATASETS
    from allspark_plugin_pointcloud.baselines import predict_pointnet, train_pointnet

    cfg = load_config(args.config, _data_options(args))
    if DefaultScope.get_current_instance() is None:
        DefaultScope.get_instance('modelnet40_benchmark', scope_name='allspark')
    train_set = DATASETS.build(cfg.train_dataloader.dataset)
    test_set = DATASETS.build(cfg.test_dataloader.dataset)
    classes = train_set.classes
    log(f'PointNet (no T-nets): training for at most {args.baseline_epochs} epochs'
        + (f' or {budget:.0f} s' if budget else ''))
    model, info = train_pointnet(train_set, len(classes), args.baseline_epochs,
                                 batch_size=args.baseline_batch_size, lr=args.baseline_lr,
                                 time_budget_s=budget, log=log)
    train_time = info['train_time_s']
    start = time.perf_counter()
    gt, pred, _ = predict_pointnet(model, test_set, batch_size=64)
    test_time = time.perf_counter() - start
    cm = confusion_matrix(gt, pred, len(classes))
    png = os.path.join(work_dir, 'confusion_modelnet40_pointnet.png')
    save_confusion_png(cm, classes, png, title='PointNet (no T-nets), ModelNet40 910 test objects')
    scores = classification_scores(cm)
    result = dict(model='PointNet without T-nets (3-64-64-64-128-1024, FC 512-256-40)',
                  epochs=info['epochs'], iterations=info['iterations'],
                  time_budget_s=budget, batch_size=args.baseline_batch_size,
                  accuracy=scores['accuracy'], mean_class_accuracy=scores['mean_class_accuracy'],
                  kappa=scores['kappa'], train_time_s=train_time,
                  train_samples_per_s=info['samples_seen'] / train_time,
                  test_samples=len(gt), inference_samples_per_s=len(gt) / test_time,
                  params_trainable=sum(p.numel() for p in model.parameters()),
                  confusion_png=png)
    log(f'PointNet: {json.dumps(result)}')
    return result


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    work_dir = os.path.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    results = dict(machine=f'{os.cpu_count()}-core CPU, load average {os.getloadavg()[0]:.1f} at start', torch_threads=args.threads,
                   platform=platform.platform(), started=time.strftime('%Y-%m-%d %H:%M:%S'),
                   command=' '.join(sys.argv))
    out = os.path.join(work_dir, 'results.json')
    if not args.skip_allspark:
        results['allspark'] = run_allspark(args, os.path.join(work_dir, 'allspark'))
        with open(out, 'w') as f:
            json.dump(results, f, indent=2)
    if not args.skip_baseline:
        budget = None
        if args.baseline_time == 'same':
            budget = results['allspark']['train_time_s'] if 'allspark' in results else None
        elif args.baseline_time != 'none':
            budget = float(args.baseline_time)
        results['pointnet'] = run_baseline(args, work_dir, budget)
    results['finished'] = time.strftime('%Y-%m-%d %H:%M:%S')
    with open(out, 'w') as f:
        json.dump(results, f, indent=2)
    log(f'results written to {out}')
    for name in ('allspark', 'pointnet'):
        if name in results:
            r = results[name]
            log(f'{name:9s} OA {r["accuracy"]:.2f}  mean-class {r["mean_class_accuracy"]:.2f}  '
                f'train {r["train_time_s"]:.0f} s  inference {r["inference_samples_per_s"]:.1f} '
                f'samples/s')


if __name__ == '__main__':
    main()
