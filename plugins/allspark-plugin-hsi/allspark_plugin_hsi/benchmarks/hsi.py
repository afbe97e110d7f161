"""Salinas-A benchmark: AllSpark HSI plugin vs an RBF SVM on the same split, one run.

    python tools/benchmarks/salinas_a.py configs/hsi_salinas_a.py [--work-dir DIR]
    python tools/benchmarks/salinas_a.py configs/hsi_salinas_a_5pct.py

Trains the AllSpark config through ``build_runner`` and tests it (OA / AA / kappa and the
predicted classification map, PNG in the work dir), then trains an RBF SVM (scikit-learn ``SVC``
on per-band standardised spectra, C chosen by 3-fold cross-validation on the training pixels,
gamma='scale') on the same training pixels and scores it on the same test pixels (its map is
drawn too).  ``--holdout R`` is for choosing settings without the test pixels: a stratified
fraction R of the training pixels is held out (the dataset's ``val_ratio``), both models train on
the rest and are scored on that held-out part instead of the test split; ``--fold f`` picks which
part (``--holdout 0.25 --fold 0..3``: 4-fold cross-validation of the training pixels) and
``--fold-seed s`` another partition into folds (repeated cross-validation).  Prints and writes
``benchmark.json`` in the work dir with the metrics, training wall time and inference throughput
(pixels/s) of both.  Use one thread (``OMP_NUM_THREADS=1``).
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
from allspark.evaluation.classification import (classification_scores,  # noqa: E402
                                                confusion_matrix)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--work-dir')
    parser.add_argument('--svm-c', type=float, nargs='+', default=[1, 10, 100, 1000, 10000])
    parser.add_argument('--skip-allspark', action='store_true')
    parser.add_argument('--more-baselines', action='store_true',
                        help='also a logistic regression, a 2-layer MLP (3 seeds) and an RBF '
                             'SVM with C and gamma tuned by 3- and 5-fold CV, on spectra')
    parser.add_argument('--holdout', type=float, default=0.0,
                        help='score on this fraction of the training pixels, not on test')
    parser.add_argument('--fold', type=int, default=0,
                        help='with --holdout 1/k: which of the k folds is held out (k-fold CV)')
    parser.add_argument('--fold-seed', type=int, default=None,
                        help='another partition of the training pixels into folds (repeated CV)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    torch.set_num_threads(1)

    cfg = load_config(args.config, args.cfg_options)
    if args.holdout:  # both splits must agree on which training pixels are held out
        for dataset in (cfg.train_dataloader.dataset, cfg.test_dataloader.dataset):
            dataset.update(val_ratio=args.holdout, val_fold=args.fold, val_seed=args.fold_seed)
        cfg.test_dataloader.dataset.split = 'val'
    name = os.path.splitext(os.path.basename(args.config))[0]
    work_dir = args.work_dir or os.path.join('work_dirs', name)
    os.makedirs(work_dir, exist_ok=True)
    map_png = os.path.join(work_dir, f'{name}_allspark_map.png')
    cfg.test_evaluator.map_png = map_png
    results = dict(config=args.config, machine=f'{os.cpu_count()}-core CPU, load average {os.getloadavg()[0]:.1f} at start, 1 thread',
                   command=' '.join(sys.argv),
                   scored_on=(f'held-out {args.holdout:.0%} of the training pixels, fold '
                              f'{args.fold}, fold seed {args.fold_seed} (not test)'
                              if args.holdout else 'test split'))

    runner = build_runner(cfg, work_dir=work_dir)
    train_set = runner.train_dataloader.dataset
    test_set = runner.test_dataloader.dataset
    results['pixels'] = dict(train=len(train_set), test=len(test_set),
                             train_ratio=train_set.train_ratio, seed=train_set.seed)
    print(f'[salinas_a] {len(train_set)} train / {len(test_set)} test pixels', flush=True)

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
            epochs=cfg.train_cfg.get('max_epochs'), map_png=map_png)
        print(f'[salinas_a] AllSpark: {results["allspark"]}', flush=True)

    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from allspark_plugin_hsi.metrics import save_classification_map
    x_train, y_train = train_set.train_arrays()
    x_test, y_test = test_set.train_arrays()
    t0 = time.time()
    folds = min(3, int(np.bincount(y_train).min()))
    svm = make_pipeline(StandardScaler(), SVC(kernel='rbf', gamma='scale'))
    if folds >= 2:
        search = GridSearchCV(svm, {'svc__C': args.svm_c}, cv=StratifiedKFold(
            folds, shuffle=True, random_state=0))
        search.fit(x_train, y_train)
        svm, best_c = search.best_estimator_, search.best_params_['svc__C']
    else:
        best_c = 100.0
        svm.set_params(svc__C=best_c).fit(x_train, y_train)
    train_s = time.time() - t0
    t0 = time.time()
    pred = svm.predict(x_test)
    test_s = time.time() - t0
    k = len(train_set.classes)
    scores = classification_scores(confusion_matrix(y_test, pred, k))
    svm_png = os.path.join(work_dir, f'{name}_svm_map.png')
    meta = test_set.metainfo
    pred_map = np.full(meta['image_shape'], -1, dtype=np.int64)
    pix = np.asarray(test_set.samples, dtype=np.int64).reshape(-1, 2)
    pred_map[pix[:, 0], pix[:, 1]] = pred
    save_classification_map(meta['gt_map'], pred_map, meta['train_mask'], train_set.classes,
                            svm_png, f'RBF SVM: OA {scores["accuracy"]:.2f}%  AA '
                                     f'{scores["mean_class_accuracy"]:.2f}%  kappa '
                                     f'{scores["kappa"]:.4f}')
    results['rbf_svm'] = dict(**scores, C=best_c, cv_folds=folds, train_wall_s=round(train_s, 1),
                              test_wall_s=round(test_s, 2),
                              infer_samples_per_s=round(len(y_test) / test_s, 1),
                              map_png=svm_png)
    print(f'[salinas_a] RBF SVM: {results["rbf_svm"]}', flush=True)
    # For transparency only (not a selection): the SVM's test OA for every C of the grid.
    by_c = {}
    for c in args.svm_c:
        model = make_pipeline(StandardScaler(), SVC(kernel='rbf', gamma='scale', C=c))
        model.fit(x_train, y_train)
        by_c[str(c)] = 100.0 * float((model.predict(x_test) == y_test).mean())
    results['rbf_svm_test_oa_by_C'] = by_c
    print(f'[salinas_a] RBF SVM test OA for each C (not used for selection): {by_c}', flush=True)

    if args.more_baselines:
        # How far simple models get on the same pixels: linear (logistic regression, C fixed at
        # 100) and a 256-256 MLP (scikit-learn defaults, three seeds); test errors only.
        from sklearn.linear_model import LogisticRegression
        from sklearn.neural_network import MLPClassifier
        def test_errors(model) -> dict:
            errors = int((model.predict(x_test) != y_test).sum())
            return dict(errors=errors, accuracy=100.0 * (1 - errors / len(y_test)))

        more = {}
        models = {'logistic_regression_C100': LogisticRegression(C=100, max_iter=5000)}
        models.update({f'mlp_256_256_seed{s}': MLPClassifier((256, 256), max_iter=500,
                                                            random_state=s) for s in range(3)})
        for key, model in models.items():
            more[key] = test_errors(make_pipeline(StandardScaler(), model).fit(x_train, y_train))
        # The RBF SVM with gamma tuned too (the main baseline keeps gamma='scale' = 1/bands on
        # standardised spectra): 3- and 5-fold CV over C x gamma on the training pixels.
        gammas = [g / x_train.shape[1] for g in (0.03, 0.1, 0.3, 1, 3, 10)]
        for k in (3, 5):
            search = GridSearchCV(make_pipeline(StandardScaler(), SVC(kernel='rbf')),
                                  {'svc__C': args.svm_c, 'svc__gamma': gammas},
                                  cv=StratifiedKFold(k, shuffle=True, random_state=0))
            search.fit(x_train, y_train)
            more[f'rbf_svm_cv{k}_C_gamma'] = dict(
                **test_errors(search), C=search.best_params_['svc__C'],
                gamma_times_bands=round(search.best_params_['svc__gamma'] * x_train.shape[1], 3))
        results['more_baselines'] = more
        print(f'[salinas_a] more baselines: {more}', flush=True)

    out = os.path.join(work_dir, 'benchmark.json')
    with open(out, 'w') as f:
        json.dump(results, f, indent=2)
    print(f'[salinas_a] wrote {out}')
    print(json.dumps(results, indent=2))


if __name__ == '__main__':
    main()
