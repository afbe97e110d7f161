"""HSI protocol, every scene and training fraction: AllSpark vs an RBF SVM on the same pixels.

    allspark benchmark hsi [--data-root ../shared/data/hsi] [--scenes salinas_a samson]
        [--config salinas_a=hsi::salinas_a_mixup.py samson=hsi::samson.py]
        [--train-ratios 0.4 0.05] [--seeds 0 1 2] [--epochs N] [--out DIR]
    allspark benchmark hsi --scenes salinas_a --holdout 0.25 --fold 0
        (selection: CV on the training pixels)

Scenes: the sub-folders of ``--data-root`` that have a config (``--config SCENE=CONFIG``, by
default ``hsi::<scene>.py`` when the HSI plugin ships one); a scene folder without one is listed
in the JSON as skipped.  Each scene's config says how to read it (file names, keys, layout,
classes).  Splits: every scene at every ``--train-ratios`` (default: the config's), the pixel
split seeded by ``--split-seed`` (the protocol's split, the same for every training seed).

For every split the RBF SVM (scikit-learn ``SVC`` on per-band standardised spectra, C chosen by
3-fold cross-validation on the training pixels, gamma='scale') is fitted once, and for every
training seed the AllSpark config is trained through ``build_runner`` and tested once (OA, AA,
kappa, errors, the predicted map, PNG titled with the scene).  ``--holdout R`` is for choosing
settings without the test pixels: a stratified fraction R of the training pixels is held out
(the dataset's ``val_ratio``; ``--fold f`` / ``--fold-seed s`` pick which part: k-fold and
repeated CV), both models train on the rest and are scored on it instead of the test split (the
JSON says ``scored_on``).  ``--more-baselines`` adds a logistic regression, 256-256 MLPs and an
RBF SVM with C and gamma tuned by 3-/5-fold CV.  A config that trains on abundances
(``soft_labels=True``, e.g. ``hsi::samson_soft.py``) also gets a baseline with the same targets:
RBF kernel ridge regression on the fractions, its argmax the label (ridge chosen by 3-fold CV on
the training pixels).  Writes ``hsi_benchmark.json``.
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
    classification_summary,
    log_to,
    prepare_allspark_config,
    selection_record,
    set_threads,
    split_choices,
    throughput,
    train_and_test,
    wilson_ci,
)

DEFAULT_ROOT = '../shared/data/hsi'
log = log_to('hsi')


def scene_configs(data_root: str, given: Sequence[str]) -> tuple[dict, dict]:
    """``({scene: config}, {scene: why skipped})`` for the scene folders under ``data_root``."""
    from allspark.config import resolve_config_path

    explicit = {}
    for item in given or ():
        scene, sep, config = item.partition('=')
        if not sep:
            raise ValueError(f'--config expects SCENE=CONFIG, got {item!r}')
        explicit[scene] = config
    if not os.path.isdir(data_root):
        raise FileNotFoundError(f'HSI data root not found: {data_root}')
    found, skipped = {}, {}
    for scene in sorted(d for d in os.listdir(data_root)
                        if os.path.isdir(os.path.join(data_root, d))):
        config = explicit.get(scene, f'hsi::{scene}.py')
        try:
            resolve_config_path(config)
        except FileNotFoundError as exc:  # ConfigNotFoundError is one
            if scene in explicit:
                raise
            skipped[scene] = f'no config ({config}: {exc}); pass --config {scene}=CONFIG'
            continue
        found[scene] = config
    for scene in explicit:
        if scene not in found:
            raise FileNotFoundError(f'--config {scene}=...: no folder {scene!r} in {data_root}')
    return found, skipped


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='allspark benchmark hsi',
                                     description=__doc__.splitlines()[0])
    add_common_arguments(parser, DEFAULT_ROOT, out='work_dirs/benchmarks/hsi')
    parser.add_argument('--scenes', nargs='+', help='scenes to run (default: every scene '
                                                    'folder with a config)')
    parser.add_argument('--config', nargs='+', default=[], metavar='SCENE=CONFIG',
                        help='config per scene (default hsi::<scene>.py)')
    parser.add_argument('--train-ratios', type=float, nargs='+', default=None,
                        help='fractions of each class\'s pixels used for training (default: '
                             'the config\'s)')
    parser.add_argument('--split-seed', type=int, default=None,
                        help='seed of the pixel split (default: the config\'s)')
    parser.add_argument('--epochs', type=int, default=None, help='AllSpark epochs')
    parser.add_argument('--svm-c', type=float, nargs='+', default=[1, 10, 100, 1000, 10000])
    parser.add_argument('--skip-allspark', action='store_true')
    parser.add_argument('--more-baselines', action='store_true')
    parser.add_argument('--holdout', type=float, default=0.0,
                        help='score on this fraction of the training pixels, not on test')
    parser.add_argument('--fold', type=int, default=0,
                        help='with --holdout 1/k: which of the k folds is held out')
    parser.add_argument('--fold-seed', type=int, default=None,
                        help='another partition of the training pixels into folds')
    return parser


def _dataset_kwargs(args, ratio: Optional[float]) -> dict:
    kwargs = {}
    if ratio is not None:
        kwargs['train_ratio'] = ratio
    if args.split_seed is not None:
        kwargs['seed'] = args.split_seed
    if args.holdout:  # both splits must agree on which training pixels are held out
        kwargs.update(val_ratio=args.holdout, val_fold=args.fold, val_seed=args.fold_seed)
    return kwargs


def _config(args, config: str, scene_root: str, ratio, seed=None):
    cfg = prepare_allspark_config(config, data_root=scene_root, seed=seed,
                                  cfg_options=args.cfg_options,
                                  max_epochs=1 if args.smoke and not args.epochs
                                  else args.epochs, smoke=args.smoke,
                                  dataset_kwargs=_dataset_kwargs(args, ratio))
    if args.holdout:
        cfg.test_dataloader.dataset.split = 'val'
    # Checkpoints are not needed by a benchmark (it tests in the same process): one at the end.
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=10 ** 9,
                                        save_last=True, max_keep_ckpts=1)
    return cfg


def run_allspark(args, config, scene_root, ratio, seed, label, work_dir, png) -> dict:
    cfg = _config(args, config, scene_root, ratio, seed)
    cfg.test_evaluator.map_png = png
    cfg.test_evaluator.map_title = f'AllSpark, {label}, seed {seed}'
    run = train_and_test(cfg, work_dir)
    n_test = len(run['runner'].test_dataloader.dataset)
    m = run['metrics']
    correct = int(round(m['accuracy'] * n_test / 100.0))
    return dict(**{k: float(v) for k, v in m.items() if isinstance(v, (int, float))},
                correct=correct, total=n_test, errors=n_test - correct,
                accuracy_ci95_wilson=wilson_ci(correct, n_test), train_wall_s=run['train_s'],
                test_wall_s=run['test_s'], infer_samples_per_s=throughput(n_test, run['test_s']),
                epochs=cfg.train_cfg.get('max_epochs'), map_png=png)


def run_svm(args, train_set, test_set, label: str, png: str) -> tuple[dict, dict]:
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from allspark_plugin_hsi.metrics import save_classification_map

    x_train, y_train = train_set.train_arrays()
    x_test, y_test = test_set.train_arrays()
    folds = min(3, int(np.bincount(y_train).min()))
    with Timer() as t_fit:
        svm = make_pipeline(StandardScaler(), SVC(kernel='rbf', gamma='scale'))
        if folds >= 2:
            search = GridSearchCV(svm, {'svc__C': args.svm_c}, cv=StratifiedKFold(
                folds, shuffle=True, random_state=0))
            search.fit(x_train, y_train)
            svm, best_c = search.best_estimator_, search.best_params_['svc__C']
            cv_scores = {str(c): float(s) for c, s in zip(args.svm_c,
                                                          search.cv_results_['mean_test_score'])}
        else:  # a class with one training pixel: no CV possible, say so
            best_c, cv_scores = 100.0, 'no CV: a class has fewer than 2 training pixels'
            svm.set_params(svc__C=best_c).fit(x_train, y_train)
    with Timer() as t_pred:
        pred = svm.predict(x_test)
    k = len(train_set.classes)
    scores = classification_summary(y_test, pred, k)
    meta = test_set.metainfo
    pred_map = np.full(meta['image_shape'], -1, dtype=np.int64)
    pix = np.asarray(test_set.samples, dtype=np.int64).reshape(-1, 2)
    pred_map[pix[:, 0], pix[:, 1]] = pred
    save_classification_map(meta['gt_map'], pred_map, meta['train_mask'], train_set.classes,
                            png, f'RBF SVM, {label}: OA {scores["accuracy"]:.2f}%  AA '
                                 f'{scores["mean_class_accuracy"]:.2f}%  kappa '
                                 f'{scores["kappa"]:.4f}')
    result = dict(**scores, errors=scores['total'] - scores['correct'], C=best_c,
                  cv_folds=folds, train_wall_s=t_fit.seconds, test_wall_s=t_pred.seconds,
                  infer_samples_per_s=throughput(len(y_test), t_pred.seconds), map_png=png)
    selection = dict(C=best_c, cv_folds=folds, cv_accuracy_by_C=cv_scores)
    # For transparency only (not a selection): the SVM's test OA for every C of the grid.
    by_c = {}
    for c in args.svm_c:
        model = make_pipeline(StandardScaler(), SVC(kernel='rbf', gamma='scale', C=c))
        by_c[str(c)] = 100.0 * float((model.fit(x_train, y_train).predict(x_test)
                                      == y_test).mean())
    selection['test_oa_by_C_not_used_for_selection'] = by_c
    return result, selection


def run_kernel_ridge_on_fractions(train_set, test_set) -> tuple[dict, dict]:
    """The classic model given what ``soft_labels`` gives AllSpark: RBF kernel ridge from the
    standardised spectrum to the abundances, scored on their argmax (ridge by 3-fold CV)."""
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.model_selection import KFold
    from sklearn.preprocessing import StandardScaler

    x_train, y_train = train_set.train_arrays()
    frac = train_set.fractions()
    x_test, y_test = test_set.train_arrays()
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    gamma = 1.0 / x_train.shape[1]  # sklearn's gamma='scale' on standardised inputs
    alphas = (1e-3, 1e-2, 1e-1, 1.0)
    cv = {}
    with Timer() as t_fit:
        for alpha in alphas:
            correct = 0
            for fit, held in KFold(3, shuffle=True, random_state=0).split(x_train):
                model = KernelRidge(alpha=alpha, kernel='rbf', gamma=gamma)
                pred = model.fit(x_train[fit], frac[fit]).predict(x_train[held]).argmax(1)
                correct += int((pred == y_train[held]).sum())
            cv[str(alpha)] = correct / len(y_train)
        best = max(alphas, key=lambda a: cv[str(a)])
        model = KernelRidge(alpha=best, kernel='rbf', gamma=gamma).fit(x_train, frac)
    with Timer() as t_pred:
        pred = model.predict(x_test).argmax(1)
    scores = classification_summary(y_test, pred, len(train_set.classes))
    result = dict(**scores, errors=scores['total'] - scores['correct'], alpha=best,
                  train_wall_s=t_fit.seconds, test_wall_s=t_pred.seconds,
                  infer_samples_per_s=throughput(len(y_test), t_pred.seconds))
    return result, dict(alpha=best, gamma=gamma, cv_folds=3, cv_accuracy_by_alpha=cv)


def more_baselines(args, train_set, test_set) -> dict:
    """Linear, MLP and a C x gamma tuned SVM on the same pixels (test errors only)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    x_train, y_train = train_set.train_arrays()
    x_test, y_test = test_set.train_arrays()

    def test_errors(model) -> dict:
        errors = int((model.predict(x_test) != y_test).sum())
        return dict(errors=errors, accuracy=100.0 * (1 - errors / len(y_test)))

    more = {}
    models = {'logistic_regression_C100': LogisticRegression(C=100, max_iter=5000)}
    models.update({f'mlp_256_256_seed{s}': MLPClassifier((256, 256), max_iter=500,
                                                        random_state=s) for s in range(3)})
    for key, model in models.items():
        more[key] = test_errors(make_pipeline(StandardScaler(), model).fit(x_train, y_train))
    gammas = [g / x_train.shape[1] for g in (0.03, 0.1, 0.3, 1, 3, 10)]
    for k in (3, 5):
        search = GridSearchCV(make_pipeline(StandardScaler(), SVC(kernel='rbf')),
                              {'svc__C': args.svm_c, 'svc__gamma': gammas},
                              cv=StratifiedKFold(k, shuffle=True, random_state=0))
        search.fit(x_train, y_train)
        more[f'rbf_svm_cv{k}_C_gamma'] = dict(
            **test_errors(search), C=search.best_params_['svc__C'],
            gamma_times_bands=round(search.best_params_['svc__gamma'] * x_train.shape[1], 3))
    return more


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    set_threads(args.threads)
    from allspark.registry import DATASETS

    configs, skipped = scene_configs(args.data_root, args.config)
    scenes = split_choices(args.scenes, list(configs), 'HSI scenes with a config')
    os.makedirs(args.out, exist_ok=True)
    scored_on = (f'held-out {args.holdout:.0%} of the training pixels, fold {args.fold}, fold '
                 f'seed {args.fold_seed} (not test)' if args.holdout else 'test split')
    report = BenchmarkReport(
        'hsi', dataset='hyperspectral scenes (per-pixel classification)',
        data_root=args.data_root, split_kind='scene', seeds=args.seeds, argv=argv, out=args.out,
        smoke=args.smoke, threads=args.threads, primary_metric='accuracy',
        higher_is_better=True, verdict_metrics=['accuracy', 'mean_class_accuracy', 'kappa'],
        allspark='allspark', configs={s: configs[s] for s in scenes},
        skipped_scenes=skipped, scored_on=scored_on,
        selection=selection_record(
            allspark='each scene\'s config, fixed beforehand (Salinas-A: chosen by 4-fold CV on '
                     'the training pixels, docs/results/hsi.md); this run chooses nothing'
                     + ('; this run IS a selection run, scored on held-out training pixels'
                        if args.holdout else ''),
            baselines='RBF SVM: C chosen by 3-fold stratified CV on the training pixels only '
                      '(per split, recorded in svm_selection); gamma = scale; with soft '
                      'labels also RBF kernel ridge on the fractions, ridge by 3-fold CV '
                      '(kernel_ridge_selection)'))
    for scene in scenes:
        scene_root = os.path.join(args.data_root, scene)
        for ratio in args.train_ratios or [None]:
            base_cfg = _config(args, configs[scene], scene_root, ratio)
            train_set = DATASETS.build(base_cfg.train_dataloader.dataset)
            test_set = DATASETS.build(base_cfg.test_dataloader.dataset)
            ratio_used = train_set.train_ratio
            name = scene if not args.train_ratios or len(args.train_ratios) == 1 \
                else f'{scene}_{ratio_used * 100:g}pct'
            label = f'HSI {scene}, {ratio_used:.0%} training pixels'
            log(f'==== {label}: {len(train_set)} train / {len(test_set)} {scored_on} pixels')
            report.split(name, label, scene=scene, config=configs[scene],
                         data_root=os.path.abspath(scene_root), train_ratio=ratio_used,
                         split_seed=train_set.seed, train_pixels=len(train_set),
                         test_pixels=len(test_set), classes=list(train_set.classes),
                         scored_on=scored_on)
            svm, svm_sel = run_svm(args, train_set, test_set, label,
                                   os.path.join(args.out, f'{name}_svm_map.png'))
            report.add(name, 'rbf_svm', svm)
            report.split(name, label, svm_selection=svm_sel)
            log(f'{label} RBF SVM: OA {svm["accuracy"]:.2f}% ({svm["errors"]} errors, '
                f'C={svm["C"]})')
            if getattr(train_set, 'soft_labels', False):
                ridge, ridge_sel = run_kernel_ridge_on_fractions(train_set, test_set)
                report.add(name, 'rbf_kernel_ridge_fractions', ridge)
                report.split(name, label, kernel_ridge_selection=ridge_sel)
                log(f'{label} RBF kernel ridge on the fractions: OA {ridge["accuracy"]:.2f}% '
                    f'({ridge["errors"]} errors, alpha={ridge["alpha"]})')
            if args.more_baselines:
                report.split(name, label, more_baselines=more_baselines(args, train_set,
                                                                        test_set))
            if args.skip_allspark:
                continue
            for seed in args.seeds:
                r = run_allspark(args, configs[scene], scene_root, ratio, seed, label,
                                 os.path.join(args.out, name, f'seed{seed}'),
                                 os.path.join(args.out, f'{name}_allspark_seed{seed}_map.png'))
                report.add(name, 'allspark', r, seed)
                log(f'{label} seed {seed} AllSpark: OA {r["accuracy"]:.2f}% '
                    f'({r["errors"]} errors)')
    path = report.write(os.path.join(args.out, 'hsi_benchmark.json'))
    print(report.table())
    log(f'wrote {path}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
