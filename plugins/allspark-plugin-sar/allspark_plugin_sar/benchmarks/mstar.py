"""MSTAR protocol, SOC and every extended condition present: AllSpark vs an AConvNets-style CNN.

    allspark benchmark mstar [--data-root ../shared/data/mstar]
        [--eoc-root ../shared/data/mstar_eoc]
        [--conditions soc eoc2_configuration scene_depression45] [--seeds 0 1 2]
        [--config sar::mstar_cpu.py] [--epochs N] [--baseline-epochs 12] [--out DIR]

Conditions: ``soc`` (train ``<data-root>/train`` at 17 deg, test ``<data-root>/test`` at 15 deg,
all classes) and every folder ``<eoc-root>/<condition>/test/<class>/...`` present (EOC-2
configuration variants, 45 deg depression on a new scene...).  An extended condition trains on
the SOC training chips of its classes only: the classes of its ``train_list.csv`` when it has
one (EOC-2: BMP2, BRDM_2, BTR70, T72), otherwise its test class folders.

For every condition and training seed both models train on the same chips, built from the same
dataset config (centre crop 96, random 88 crop + horizontal flip in training, the centre 88 at
test) with the same training-split normalisation, and are tested once.  Reported per run: OA
with its 95 % Wilson interval, mean class accuracy, kappa, training wall time (decoding
included) and inference throughput; per condition: mean / std / 95 % t interval over seeds and
the verdict of AllSpark's mean OA against the CNN's.  Writes ``mstar_benchmark.json`` and the
confusion matrices (PNG, titled with the condition) into ``--out``.

Settings are the config's and the CNN's defaults (fixed beforehand); nothing is chosen here.
"""
from __future__ import annotations

import argparse
import csv
import os
from typing import Optional, Sequence

from allspark.benchmarking import (
    BenchmarkReport,
    Timer,
    add_common_arguments,
    classification_summary,
    labelled_inputs,
    log_to,
    predict_classifier,
    prepare_allspark_config,
    selection_record,
    set_threads,
    split_choices,
    throughput,
    train_and_test,
    train_classifier,
    wilson_ci,
)

DEFAULT_ROOT = '../shared/data/mstar'
DEFAULT_EOC_ROOT = '../shared/data/mstar_eoc'
#: What the docs call the conditions shipped in ../shared/data (others get a generic label).
LABELS = {
    'soc': 'MSTAR SOC (train 17 deg, test 15 deg)',
    'eoc2_configuration': 'MSTAR EOC-2 configuration (T72 variants A32/A62/A63/A64/S7)',
    'scene_depression45': 'MSTAR 45 deg depression, new scene',
}
log = log_to('mstar')


def _class_folders(folder: str) -> list[str]:
    return sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))


def condition_table(data_root: str, eoc_root: Optional[str]) -> dict:
    """``{condition: {'label', 'train_root', 'test_root', 'classes'}}`` for every condition
    present (``classes=None``: every class of the SOC training split)."""
    table = {}
    if os.path.isdir(os.path.join(data_root, 'train')) and os.path.isdir(
            os.path.join(data_root, 'test')):
        table['soc'] = dict(label=LABELS['soc'], train_root=data_root, test_root=data_root,
                            classes=None)
    if eoc_root and os.path.isdir(eoc_root):
        for cond in sorted(os.listdir(eoc_root)):
            test_dir = os.path.join(eoc_root, cond, 'test')
            if not os.path.isdir(test_dir):
                continue
            classes = _class_folders(test_dir)
            train_list = os.path.join(eoc_root, cond, 'train_list.csv')
            if os.path.exists(train_list):
                with open(train_list, newline='') as f:
                    classes = sorted({row['class'] for row in csv.DictReader(f)})
            table[cond] = dict(label=LABELS.get(cond, f'MSTAR {cond}'), train_root=data_root,
                               test_root=os.path.join(eoc_root, cond), classes=classes,
                               train_list=train_list if os.path.exists(train_list) else None)
    return table


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='allspark benchmark mstar',
                                     description=__doc__.splitlines()[0])
    add_common_arguments(parser, DEFAULT_ROOT, out='work_dirs/benchmarks/mstar')
    parser.add_argument('--eoc-root', default=DEFAULT_EOC_ROOT,
                        help='folder of extended operating conditions (one sub-folder each)')
    parser.add_argument('--conditions', nargs='+',
                        help='conditions to run (default: every condition present)')
    parser.add_argument('--config', default='sar::mstar_cpu.py')
    parser.add_argument('--epochs', type=int, default=None,
                        help='AllSpark epochs (default: the config\'s; the schedule is scaled)')
    parser.add_argument('--baseline-epochs', type=int, default=12)
    parser.add_argument('--baseline-lr', type=float, default=2e-3)
    parser.add_argument('--skip-allspark', action='store_true')
    parser.add_argument('--skip-baseline', action='store_true')
    return parser


def _dataset_overrides(cfg, cond: dict) -> None:
    """Train on the condition's classes of the SOC training chips, test on its test chips."""
    classes = cond['classes']
    cfg.train_dataloader.dataset.data_root = cond['train_root']
    cfg.test_dataloader.dataset.data_root = cond['test_root']
    if classes is not None:
        for loader in (cfg.train_dataloader, cfg.test_dataloader):
            loader.dataset.classes = list(classes)
        cfg.model.head.num_classes = len(classes)
        cfg.test_evaluator.num_classes = len(classes)
        cfg.test_evaluator.classes = list(classes)


def run_allspark(args, cond_name: str, cond: dict, seed: int, work_dir: str) -> dict:
    cfg = prepare_allspark_config(args.config, data_root=cond['train_root'], seed=seed,
                                  cfg_options=args.cfg_options,
                                  max_epochs=1 if args.smoke and not args.epochs
                                  else args.epochs, smoke=args.smoke)
    _dataset_overrides(cfg, cond)
    png = os.path.join(args.out, f'confusion_{cond_name}_allspark_seed{seed}.png')
    cfg.test_evaluator.confusion_png = png
    cfg.test_evaluator.confusion_title = f'AllSpark, {cond["label"]}, seed {seed}'
    log(f'{cond["label"]}: AllSpark seed {seed}, {cfg.train_cfg.max_epochs} epochs')
    run = train_and_test(cfg, work_dir)
    runner, metrics = run['runner'], run['metrics']
    n_test = len(runner.test_dataloader.dataset)
    import torch
    runner.model.eval()
    with Timer() as t, torch.no_grad():  # data from the chip cache + model
        for batch in runner.test_dataloader:
            runner.model.test_step(batch)
    correct = round(metrics['accuracy'] * n_test / 100.0)
    return dict(accuracy=metrics['accuracy'], mean_class_accuracy=metrics['mean_class_accuracy'],
                kappa=metrics['kappa'], correct=correct, total=n_test,
                accuracy_ci95_wilson=wilson_ci(correct, n_test), train_time_s=run['train_s'],
                inference_samples_per_s=throughput(n_test, t.seconds),
                epochs=int(cfg.train_cfg.max_epochs), params_trainable=run['params_trainable'],
                params_total=run['params_total'], confusion_png=png)


def run_baseline(args, cond_name: str, cond: dict, seed: int) -> dict:
    import torch

    from allspark.evaluation.classification import confusion_matrix, save_confusion_png
    from allspark.registry import DATASETS
    from allspark_plugin_sar.baselines import AConvNets, normalize_chips

    cfg = prepare_allspark_config(args.config, data_root=cond['train_root'],
                                  cfg_options=args.cfg_options)
    _dataset_overrides(cfg, cond)
    train_set = DATASETS.build(cfg.train_dataloader.dataset)
    test_set = DATASETS.build(cfg.test_dataloader.dataset)
    classes = train_set.classes
    epochs = 1 if args.smoke else args.baseline_epochs
    torch.manual_seed(seed)
    model = AConvNets(num_classes=len(classes), in_chans=train_set.channels, batch_norm=True)
    log(f'{cond["label"]}: AConvNets seed {seed}, {epochs} epochs')
    with Timer() as t_train:
        stats = train_set.stats()['inputs']['sar']  # decodes + caches the training chips
        to_xy = labelled_inputs('sar', normalize_chips(stats['mean'], stats['std']))
        info = train_classifier(model, train_set, epochs,
                                batch_size=int(cfg.train_dataloader.batch_size),
                                lr=args.baseline_lr, weight_decay=5e-4, seed=seed,
                                to_xy=to_xy, name='AConvNets', log=log, log_every=1)
    predict_classifier(model, test_set, to_xy=to_xy)  # decode and cache the test chips
    out = predict_classifier(model, test_set, to_xy=to_xy)
    scores = classification_summary(out['gt'], out['pred'], len(classes))
    png = os.path.join(args.out, f'confusion_{cond_name}_aconvnets_seed{seed}.png')
    save_confusion_png(confusion_matrix(out['gt'], out['pred'], len(classes)), classes, png,
                       title=f'AConvNets-style CNN, {cond["label"]}, seed {seed}')
    return dict(**scores, train_time_s=t_train.seconds,
                inference_samples_per_s=out['samples_per_s'], epochs=epochs,
                lr=args.baseline_lr, final_train_loss=info['final_loss'],
                params_trainable=sum(p.numel() for p in model.parameters()),
                confusion_png=png)


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    set_threads(args.threads)
    table = condition_table(args.data_root, args.eoc_root)
    conditions = split_choices(args.conditions, list(table), 'MSTAR conditions')
    os.makedirs(args.out, exist_ok=True)
    report = BenchmarkReport(
        'mstar', dataset='MSTAR (8-bit JPEG magnitude chips)', data_root=args.data_root,
        split_kind='condition', seeds=args.seeds, argv=argv, out=args.out, smoke=args.smoke,
        threads=args.threads, primary_metric='accuracy', higher_is_better=True,
        verdict_metrics=['accuracy', 'mean_class_accuracy'], allspark='allspark',
        eoc_root=os.path.abspath(args.eoc_root) if args.eoc_root else None,
        config=args.config,
        selection=selection_record(
            allspark=f'the settings of {args.config}, fixed beforehand (chosen on SOC in '
                     'earlier sessions, docs/results/sar.md); nothing is chosen in this run',
            baselines=f'AConvNets-style CNN with BatchNorm, AdamW lr {args.baseline_lr}, '
                      f'{args.baseline_epochs} epochs, fixed beforehand; nothing is chosen '
                      'in this run'))
    for name in conditions:
        cond = table[name]
        classes = cond['classes']
        report.split(name, cond['label'], train_root=os.path.abspath(cond['train_root']),
                     test_root=os.path.abspath(cond['test_root']),
                     classes=classes or 'all SOC training classes',
                     train_list=cond.get('train_list'),
                     note=('trains on the SOC training chips of these classes; the condition\'s '
                           'train_list.csv is used for its class list only'
                           if cond.get('train_list') else None))
        for seed in args.seeds:
            if not args.skip_allspark:
                r = run_allspark(args, name, cond, seed,
                                 os.path.join(args.out, name, f'seed{seed}'))
                report.add(name, 'allspark', r, seed)
                log(f'{cond["label"]} seed {seed} AllSpark OA {r["accuracy"]:.2f}%')
            if not args.skip_baseline:
                r = run_baseline(args, name, cond, seed)
                report.add(name, 'aconvnets', r, seed)
                log(f'{cond["label"]} seed {seed} AConvNets OA {r["accuracy"]:.2f}%')
        sizes = {}
        for model_runs in report.data['splits'][name]['runs'].values():
            sizes['test_chips'] = model_runs[0]['total']
        report.split(name, cond['label'], **sizes)
    path = report.write(os.path.join(args.out, 'mstar_benchmark.json'))
    print(report.table())
    log(f'wrote {path}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
