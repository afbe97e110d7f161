"""EuroSAT co-located (MSI, RGB, location, caption): alignment, geolocation, joint sequence.

    allspark benchmark eurosat_geo [--seeds 0 1 2] [--parts align lm joint] [--reuse]
        [--out work_dirs/benchmarks/eurosat_geo]

Every run goes through the same commands a user types (``allspark train``, ``allspark test
--out``, ``allspark retrieval``), one subprocess each, so the benchmark measures the shipped
configs unchanged; ``--reuse`` keeps a run whose outputs are already in ``--out`` (a benchmark
stopped half-way resumes).  Parts, each for every training seed:

* ``align``: ``msi::eurosat_align_all.py`` (all-to-all InfoNCE, encoder -> projection, no LM)
  vs ``msi::eurosat_align_pivot.py`` (every modality to the location pivot only), same budget.
  Score: mean Recall@5 over the ordered pairs that exclude the pivot (location), gallery = the
  whole test split; plus geolocation of MSI queries over the training coordinates against the
  training-centroid baseline (share within 1/25/200/750/2500 km, median km).
* ``lm``: ``msi::eurosat_align_all_lm.py``, the same alignment through the language model
  (encoder -> bridge -> MiniLM -> pooled -> projection), one config key away.
* ``joint``: MSI alone vs MSI + location vs MSI + RGB + location in **one** MiniLM sequence
  (modality dropout in training), accuracy on the test tiles with a Wilson interval, and the
  same checkpoints with location dropped at test time.

Settings are the configs' (fixed beforehand); nothing is chosen on the test tiles.  Writes
``eurosat_geo_benchmark.json`` (every run, mean / std / 95 % t interval over seeds, verdicts).
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys
from typing import Optional, Sequence

from allspark.benchmarking import (
    BenchmarkReport,
    add_common_arguments,
    log_to,
    selection_record,
    wilson_ci,
)

DEFAULT_ROOT = '../shared/data/eurosat'
THRESHOLDS = (1, 25, 200, 750, 2500)
ALIGN = {'all_to_all': 'msi::eurosat_align_all.py', 'pivot_location': 'msi::eurosat_align_pivot.py'}
LM = {'all_to_all_lm': 'msi::eurosat_align_all_lm.py'}
#: work-dir stem of each alignment model (the names of the configs)
RUN_DIR = {'all_to_all': 'align_all', 'pivot_location': 'align_pivot',
           'all_to_all_lm': 'align_all_lm'}
JOINT = {'msi': ('msi::eurosat_joint_msi.py', None),
         'msi_location': ('msi::eurosat_joint_msi_location.py', '[msi]'),
         'msi_rgb_location': ('msi::eurosat_joint_msi_rgb_location.py', '[msi,rgb]')}
log = log_to('eurosat_geo')


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='allspark benchmark eurosat_geo',
                                     description=__doc__.splitlines()[0])
    add_common_arguments(parser, DEFAULT_ROOT, out='work_dirs/benchmarks/eurosat_geo')
    parser.add_argument('--parts', nargs='+', default=['align', 'lm', 'joint'],
                        choices=['align', 'lm', 'joint'])
    parser.add_argument('--reuse', action='store_true',
                        help='keep runs whose outputs are already in --out')
    return parser


def _allspark(*argv: str, log_file: str) -> None:
    """``allspark ARGV`` in a subprocess (one thread, like every benchmark here)."""
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get('OMP_NUM_THREADS', '1'))
    cmd = [sys.executable, '-m', 'allspark.cli', *argv]
    os.makedirs(os.path.dirname(os.path.abspath(log_file)), exist_ok=True)
    with open(log_file, 'w') as f:
        rc = subprocess.call(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
    if rc:
        raise RuntimeError(f'`allspark {" ".join(argv)}` failed (exit {rc}); see {log_file}')


def _checkpoint(work_dir: str) -> Optional[str]:
    found = sorted(glob.glob(os.path.join(work_dir, 'epoch_*.pth')),
                   key=lambda p: int(p.rsplit('_', 1)[1][:-4]))
    return found[-1] if found else None


def train(config: str, work_dir: str, seed: int, args) -> str:
    ckpt = _checkpoint(work_dir)
    if ckpt and args.reuse:
        return ckpt
    _allspark('train', config, '--work-dir', work_dir, '--data-root', args.data_root,
              '--cfg-options', f'randomness.seed={seed}', log_file=work_dir + '.log')
    ckpt = _checkpoint(work_dir)
    if ckpt is None:
        raise RuntimeError(f'{config}: training left no checkpoint in {work_dir}')
    return ckpt


def retrieval(config: str, ckpt: str, out_dir: str, args) -> dict:
    path = os.path.join(out_dir, 'retrieval.json')
    if not (args.reuse and os.path.exists(path)):
        _allspark('retrieval', config, ckpt, '--data-root', args.data_root, '--gallery', 'train',
                  'region', '--out-dir', out_dir, log_file=out_dir + '.log')
    with open(path) as f:
        return json.load(f)


def test(config: str, ckpt: str, path: str, args, modalities: Optional[str] = None) -> dict:
    if not (args.reuse and os.path.exists(path)):
        extra = ['--cfg-options', f'test_dataloader.dataset.modalities={modalities}'] \
            if modalities else []
        _allspark('test', config, ckpt, '--data-root', args.data_root, '--out', path,
                  '--work-dir', os.path.dirname(path), *extra, log_file=path[:-5] + '.log')
    with open(path) as f:
        return json.load(f)


def _geo(scores: dict) -> dict:
    out = {f'within_{t}km': 100 * scores[f'within_{t}km'] for t in THRESHOLDS}
    out['median_km'] = scores['median_km']
    return out


def _accuracy(metrics: dict, n: int) -> dict:
    acc = next(v for k, v in metrics.items() if k.endswith('accuracy') and 'mean' not in k)
    return dict(score=acc, accuracy=acc, wilson_95=wilson_ci(round(acc * n / 100), n),
                kappa=next((v for k, v in metrics.items() if k.endswith('kappa')), None))


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    allspark_models = ['all_to_all', 'all_to_all_lm', 'msi_location', 'msi_rgb_location',
                       'msi_location (location dropped at test)',
                       'msi_rgb_location (location dropped at test)']
    report = BenchmarkReport(
        'eurosat_geo', 'EuroSAT co-located (MSI, RGB, location, caption)', args.data_root,
        'part', args.seeds,
        selection_record('the shipped configs, fixed beforehand (no search)',
                         'pivot alignment and MSI alone: the same recipes and budgets; the '
                         'training-set centroid has no settings'),
        primary_metric='score', higher_is_better=True, allspark=allspark_models,
        argv=argv, threads=1, out=args.out,
        verdict_metrics=['score'] + [f'within_{t}km' for t in THRESHOLDS])
    if 'align' in args.parts or 'lm' in args.parts:
        report.split('alignment', 'EuroSAT 216/54: mean Recall@5 (%) over the pairs without '
                     'location (gallery = the 54 test tiles)')
        report.split('geolocation', 'EuroSAT 54 test tiles: MSI query over the 216 training '
                     'coordinates (share within km, %)')
    models = {**(ALIGN if 'align' in args.parts else {}), **(LM if 'lm' in args.parts else {})}
    centroid_done = False
    for seed in args.seeds:
        for name, config in models.items():
            work_dir = os.path.join(args.out, f'{RUN_DIR[name]}_s{seed}')
            ckpt = train(config, work_dir, seed, args)
            r = retrieval(config, ckpt, os.path.join(work_dir, 'retrieval'), args)
            s = r['summary']
            rec = dict(score=100 * s['mean_excl_location/recall@5'],
                       all_pairs_recall5=100 * s['mean/recall@5'],
                       **{f'{p}_recall5': 100 * v['recall@5'] for p, v in r['pairs'].items()})
            report.add('alignment', name, rec, seed)
            report.add('geolocation', name, _geo(r['geolocation']['train']['msi']), seed)
            if not centroid_done:
                report.add('geolocation', 'training_centroid', _geo(r['centroid_baseline']))
                centroid_done = True
            log(f'seed {seed} {name}: mean R@5 excl. location {rec["score"]:.1f} %')
    if 'joint' in args.parts:
        report.split('joint', 'EuroSAT 216/54: accuracy (%) of one MiniLM sequence')
        for seed in args.seeds:
            for name, (config, without) in JOINT.items():
                work_dir = os.path.join(args.out, f'joint_{name}_s{seed}')
                ckpt = train(config, work_dir, seed, args)
                m = test(config, ckpt, os.path.join(work_dir, 'test', 'metrics.json'), args)
                rec = report.add('joint', name, _accuracy(m, 54), seed)
                log(f'seed {seed} joint {name}: accuracy {rec["score"]:.1f} %')
                if without:
                    m = test(config, ckpt, os.path.join(work_dir, 'test_no_location',
                                                        'metrics.json'), args, without)
                    report.add('joint', f'{name} (location dropped at test)',
                               _accuracy(m, 54), seed)
    path = report.write(os.path.join(args.out, 'eurosat_geo_benchmark.json'))
    print(report.table())
    print(f'wrote {path}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
