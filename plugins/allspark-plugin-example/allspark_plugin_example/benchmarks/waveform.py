"""Waveform classification: AllSpark vs a nearest-centroid baseline, same split, same run.

    allspark benchmark waveform --data-root DIR [--seeds 0 1 2] [--out DIR] [--smoke]

The plugin guide's benchmark: it shows the shape every plugin benchmark has on the core's
harness (``allspark.benchmarking``): common arguments, one labelled JSON report with the
selection record, AllSpark trained through the config machinery for each seed, and a classic
baseline fitted on the same training split.  ``DIR`` holds ``{train,test}/<class>/*.csv``.
"""
from __future__ import annotations

import argparse
import os
from typing import Optional, Sequence

import numpy as np

from allspark import benchmarking as bench

CONFIG = 'example::waveform.py'


def nearest_centroid_accuracy(data_root: str) -> dict:
    """Baseline: nearest class centroid (training split) of each waveform's sorted values and
    sorted differences: a shape signature that ignores phase and frequency."""
    from allspark_plugin_example.dataset import WaveformCSVDataset

    def arrays(split):
        ds = WaveformCSVDataset(data_root=data_root, split=split)
        x = np.stack([np.asarray(ds.get_sample(i)['signal']).ravel() for i in range(len(ds))])
        y = np.array([s['gt_label'] for s in ds.samples])
        return x, y

    (xtr, ytr), (xte, yte) = arrays('train'), arrays('test')
    def signature(x):
        diffs = np.diff(x, axis=1)
        diffs = diffs / (np.abs(diffs).mean(1, keepdims=True) + 1e-8)
        return np.concatenate([np.sort(x, axis=1), np.sort(diffs, axis=1)], axis=1)

    ftr, fte = signature(xtr), signature(xte)
    centroids = np.stack([ftr[ytr == c].mean(0) for c in np.unique(ytr)])
    pred = np.argmin(((fte[:, None] - centroids[None]) ** 2).sum(-1), axis=1)
    correct = int((pred == yte).sum())
    return dict(accuracy=100.0 * correct / len(yte),
                accuracy_ci=bench.wilson_ci(correct, len(yte)))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog='allspark benchmark waveform', description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    bench.add_common_arguments(parser, data_root='data/waveforms')
    parser.add_argument('--epochs', type=int, default=None, help='AllSpark epochs (config: 10)')
    args = parser.parse_args(argv)
    bench.set_threads(args.threads)
    report = bench.BenchmarkReport(
        'waveform', 'synthetic waveforms (CSV)', args.data_root, 'split', args.seeds,
        selection=bench.selection_record(bench.FIXED_SETTINGS, 'nearest centroid: no setting'),
        primary_metric='accuracy', higher_is_better=True, argv=argv, smoke=args.smoke,
        threads=args.threads)
    report.split('test', 'waveforms, test split')
    report.add('test', 'nearest_centroid', nearest_centroid_accuracy(args.data_root))
    for seed in args.seeds:
        cfg = bench.prepare_allspark_config(
            CONFIG, data_root=args.data_root, seed=seed, smoke=args.smoke,
            max_epochs=1 if args.smoke else args.epochs, cfg_options=args.cfg_options)
        out = bench.train_and_test(cfg, os.path.join(args.out, 'waveform', f'seed{seed}'))
        report.add('test', 'allspark', dict(out['metrics'], train_s=out['train_s']), seed=seed)
    path = report.write(os.path.join(args.out, 'waveform.json'))
    print(report.table())
    print(f'wrote {path}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
