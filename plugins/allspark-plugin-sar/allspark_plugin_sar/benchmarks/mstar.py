"""MSTAR 10-class SOC benchmark: AllSpark (SAR plugin) vs an AConvNets-style CNN, in one run.

    OMP_NUM_THREADS=1 python tools/benchmarks/mstar.py --config configs/sar_mstar_cpu.py \
        --work-dir work_dirs/bench_mstar --baseline-epochs 12

Both models train on the same split (train 17 deg / test 15 deg), built from the same dataset
config (chips centre-cropped to 96 and cached; random 88 crop + horizontal flip in training, the
centre 88 at test) and the same training-split normalisation.  Reported for each: top-1 accuracy
(OA) with its 95% Wilson interval, mean class accuracy (AA), kappa, training wall time (data decoding included) and inference
throughput (test set, batch 64, from the in-memory cache, one thread).  Writes
``results.json`` and the two confusion matrices (PNG) into the work dir.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
from allspark.evaluation.statistics import wilson_interval  # noqa: E402
from allspark.engine.runner import build_runner, load_config  # noqa: E402
from allspark.evaluation.classification import (classification_scores,  # noqa: E402
                                                confusion_matrix, save_confusion_png)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default='configs/sar_mstar_cpu.py')
    parser.add_argument('--work-dir', default='work_dirs/bench_mstar')
    parser.add_argument('--data-root', help='override the config\'s data_root')
    parser.add_argument('--baseline-epochs', type=int, default=12)
    parser.add_argument('--baseline-lr', type=float, default=2e-3)
    parser.add_argument('--skip-allspark', action='store_true')
    parser.add_argument('--skip-baseline', action='store_true')
    return parser.parse_args()


def wilson_ci(accuracy: float, n: int) -> list:
    """95% Wilson score interval (percent) of an accuracy (percent) measured on ``n`` samples."""
    return list(wilson_interval(round(accuracy * n / 100.0), n))


def log(msg: str) -> None:
    print(f'[mstar {time.strftime("%H:%M:%S")}] {msg}', flush=True)


@torch.no_grad()
def allspark_throughput(runner) -> dict:
    """Time ``test_step`` over the whole test loader (data from the cache + model)."""
    model = runner.model
    model.eval()
    n, start = 0, time.perf_counter()
    for batch in runner.test_dataloader:
        model.test_step(batch)
        n += len(batch['data_samples'])
    seconds = time.perf_counter() - start
    return dict(samples=n, seconds=seconds, samples_per_s=n / seconds)


def run_allspark(args, work_dir: str) -> dict:
    cfg_options = {}
    if args.data_root:
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            cfg_options[f'{key}.dataset.data_root'] = args.data_root
    cfg = load_config(args.config, cfg_options)
    cfg.test_evaluator.confusion_png = os.path.join(work_dir, 'confusion_mstar_allspark.png')
    # Evaluate once, after training (runner.test below), not also as a last validation.
    cfg.val_dataloader, cfg.val_cfg, cfg.val_evaluator = None, None, None
    runner = build_runner(cfg, work_dir=work_dir)
    log(f'AllSpark: training {cfg.train_cfg.max_epochs} epochs ({args.config})')
    start = time.perf_counter()
    runner.train()
    train_time = time.perf_counter() - start
    log(f'AllSpark: trained in {train_time:.0f} s; testing')
    metrics = runner.test()
    speed = allspark_throughput(runner)
    n_trainable = sum(p.numel() for p in runner.model.parameters() if p.requires_grad)
    n_total = sum(p.numel() for p in runner.model.parameters())
    result = dict(model='AllSpark (SARConvEncoder -> PerceiverBridge -> MiniLM-L6 frozen -> '
                        'LinearClsHead)', config=args.config,
                  epochs=cfg.train_cfg.max_epochs,
                  accuracy=metrics['accuracy'],
                  accuracy_ci95=wilson_ci(metrics['accuracy'], speed['samples']),
                  mean_class_accuracy=metrics['mean_class_accuracy'],
                  kappa=metrics['kappa'], train_time_s=train_time,
                  inference_samples_per_s=speed['samples_per_s'], test_samples=speed['samples'],
                  params_trainable=n_trainable, params_total=n_total,
                  confusion_png=cfg.test_evaluator.confusion_png)
    log(f'AllSpark: {json.dumps(result)}')
    return result


def run_baseline(args, work_dir: str) -> dict:
    from mmengine.registry import DefaultScope

    from allspark.registry import DATASETS
    from allspark_plugin_sar.baselines import AConvNets, evaluate_classifier, train_classifier

    cfg = load_config(args.config)
    if DefaultScope.get_current_instance() is None:
        DefaultScope.get_instance('mstar_benchmark', scope_name='allspark')
    train_cfg, test_cfg = cfg.train_dataloader.dataset, cfg.test_dataloader.dataset
    if args.data_root:
        train_cfg.data_root = test_cfg.data_root = args.data_root
    train_set, test_set = DATASETS.build(train_cfg), DATASETS.build(test_cfg)
    classes = train_set.classes
    torch.manual_seed(0)
    model = AConvNets(num_classes=len(classes), in_chans=train_set.channels, batch_norm=True)
    log(f'AConvNets: training {args.baseline_epochs} epochs')
    start = time.perf_counter()
    stats = train_set.stats()['inputs']['sar']  # decodes + caches the training chips
    info = train_classifier(model, train_set, args.baseline_epochs, stats['mean'], stats['std'],
                            batch_size=cfg.train_dataloader.batch_size, lr=args.baseline_lr,
                            log=log)
    train_time = time.perf_counter() - start
    evaluate_classifier(model, test_set, stats['mean'], stats['std'])  # decode/cache the chips
    out = evaluate_classifier(model, test_set, stats['mean'], stats['std'])
    cm = confusion_matrix(out['gt'], out['pred'], len(classes))
    png = os.path.join(work_dir, 'confusion_mstar_aconvnets.png')
    save_confusion_png(cm, classes, png, title='AConvNets-style CNN, MSTAR SOC (test 15 deg)')
    scores = classification_scores(cm)
    scores['accuracy_ci95'] = wilson_ci(scores['accuracy'], int(cm.sum()))
    result = dict(model='AConvNets-style CNN (all-convolutional, + BatchNorm)',
                  epochs=args.baseline_epochs, lr=args.baseline_lr, **scores,
                  train_time_s=train_time, inference_samples_per_s=out['samples_per_s'],
                  test_samples=int(len(out['gt'])),
                  params_trainable=sum(p.numel() for p in model.parameters()),
                  final_train_loss=info['final_loss'], confusion_png=png,
                  confusion_matrix=cm.tolist())
    log(f'AConvNets: {json.dumps({k: v for k, v in result.items() if k != "confusion_matrix"})}')
    return result


def main():
    args = parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.work_dir, exist_ok=True)
    report = dict(dataset='MSTAR 10-class SOC (train 17 deg: 2746, test 15 deg: 2425)',
                  machine=f'{os.cpu_count()}-core CPU, load average {os.getloadavg()[0]:.1f} at start', torch_threads=1,
                  host=platform.node(), date=time.strftime('%Y-%m-%d %H:%M:%S'),
                  loadavg_start=os.getloadavg(), command=' '.join(sys.argv))
    if not args.skip_allspark:
        report['allspark'] = run_allspark(args, os.path.join(args.work_dir, 'allspark'))
    if not args.skip_baseline:
        report['baseline'] = run_baseline(args, args.work_dir)
    report['loadavg_end'] = os.getloadavg()
    path = os.path.join(args.work_dir, 'results.json')
    with open(path, 'w') as f:
        json.dump(report, f, indent=2, default=float)
    log(f'wrote {path}')
    for key in ('allspark', 'baseline'):
        if key in report:
            r = report[key]
            lo, hi = r['accuracy_ci95']
            log(f'{key:9s} OA {r["accuracy"]:.2f}% (95% CI {lo:.2f}-{hi:.2f})  AA {r["mean_class_accuracy"]:.2f}%  '
                f'kappa {r["kappa"]:.4f}  train {r["train_time_s"]:.0f} s  '
                f'inference {r["inference_samples_per_s"]:.1f} samples/s')


if __name__ == '__main__':
    np.random.seed(0)
    main()
