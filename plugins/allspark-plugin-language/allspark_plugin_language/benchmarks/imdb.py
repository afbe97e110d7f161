"""IMDB sentiment: AllSpark vs TF-IDF and frozen-MiniLM logistic regressions, same split.

    allspark benchmark imdb [--data-root ../shared/data/imdb/aclImdb] [--seeds 0 1 2]
        [--config language::imdb.py] [--max-iters N] [--skip-frozen] [--out DIR]

The data's ``train/`` and ``test/`` folders are the split.  The baselines are deterministic and
fitted once: TF-IDF 1-2 grams + logistic regression, and the frozen language model's mean-pooled
embeddings (same tokenizer and truncation as AllSpark, no prompt) + logistic regression.  For
every training seed the config is trained through ``build_runner`` and tested once, and (unless
``--skip-head-eval``) evaluated again with ``truncation='head'``.  Truncation study: TF-IDF on
exactly the tokens each truncation keeps.  Accuracy comes with its 95 % Wilson interval.
Writes ``imdb_benchmark.json``.
"""
from __future__ import annotations

import argparse
import os
from typing import Optional, Sequence

import numpy as np

from allspark.benchmarking import (
    BenchmarkReport,
    add_common_arguments,
    log_to,
    prepare_allspark_config,
    selection_record,
    set_threads,
    throughput,
    train_and_test,
    wilson_ci,
)

DEFAULT_ROOT = '../shared/data/imdb/aclImdb'
log = log_to('imdb')


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='allspark benchmark imdb',
                                     description=__doc__.splitlines()[0])
    add_common_arguments(parser, DEFAULT_ROOT, out='work_dirs/benchmarks/imdb')
    parser.add_argument('--config', default='language::imdb.py')
    parser.add_argument('--max-iters', type=int, default=None, help='AllSpark iterations')
    parser.add_argument('--epochs', type=int, default=None, help='AllSpark epochs')
    parser.add_argument('--skip-frozen', action='store_true',
                        help='skip the frozen-embedding baseline (slow on CPU)')
    parser.add_argument('--skip-head-eval', action='store_true',
                        help="skip re-evaluating AllSpark with truncation='head'")
    return parser


def scored(pred, gt) -> dict:
    """Accuracy (percent) with its Wilson interval."""
    correct, total = int(np.sum(np.asarray(pred) == np.asarray(gt))), len(gt)
    return dict(accuracy=100.0 * correct / total, correct=correct, total=total,
                accuracy_ci95_wilson=wilson_ci(correct, total))


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    set_threads(args.threads)
    from mmengine.config import Config

    from allspark.registry import DATASETS
    from allspark_plugin_language.baselines import frozen_lm_logreg, tfidf_logreg
    from allspark_plugin_language.encoder import truncate_text, truncation_report

    os.makedirs(args.out, exist_ok=True)
    split = 'train_test_folders'
    report = BenchmarkReport(
        'imdb', dataset='IMDB movie reviews (aclImdb layout), binary sentiment',
        data_root=args.data_root, split_kind='split', seeds=args.seeds, argv=argv, out=args.out,
        smoke=args.smoke, threads=args.threads, primary_metric='accuracy',
        higher_is_better=True, allspark='allspark', config=args.config,
        selection=selection_record(
            allspark=f'{args.config}\'s settings, fixed beforehand (docs/results/language.md); '
                     'this run chooses nothing',
            baselines='TF-IDF 1-2 grams and frozen-LM embeddings + logistic regression with '
                      'scikit-learn defaults, fixed beforehand'))
    base_cfg = prepare_allspark_config(args.config, data_root=args.data_root,
                                       smoke=args.smoke, cfg_options=args.cfg_options)
    train_set = DATASETS.build(Config(base_cfg.train_dataloader.dataset).to_dict())
    test_set = DATASETS.build(Config(base_cfg.test_dataloader.dataset).to_dict())
    x_train, y_train = train_set.texts_and_labels()
    x_test, y_test = test_set.texts_and_labels()
    label = f'IMDB {len(x_train)} train / {len(x_test)} test reviews'
    report.split(split, label, train_reviews=len(x_train), test_reviews=len(x_test))
    log(label)

    max_iters = 2 if args.smoke and not args.max_iters else args.max_iters
    encoder = lm = None
    for seed in args.seeds:
        cfg = prepare_allspark_config(args.config, data_root=args.data_root, seed=seed,
                                      max_iters=max_iters, max_epochs=args.epochs or (
                                          1 if args.smoke else None), smoke=args.smoke,
                                      cfg_options=args.cfg_options)
        run = train_and_test(cfg, os.path.join(args.out, f'seed{seed}'))
        runner = run['runner']
        model = runner.model.module if hasattr(runner.model, 'module') else runner.model
        encoder, lm = model.encoders['text'], model.language_model
        n_test = len(runner.test_dataloader.dataset)
        acc = run['metrics']['accuracy']
        correct = int(round(acc * n_test / 100.0))
        r = dict(accuracy=acc, correct=correct, total=n_test,
                 accuracy_ci95_wilson=wilson_ci(correct, n_test), train_wall_s=run['train_s'],
                 test_wall_s=run['test_s'],
                 throughput_samples_s=throughput(n_test, run['test_s']),
                 truncation=encoder.truncation, max_length=encoder.max_length)
        if not args.skip_head_eval and encoder.truncation != 'head':
            saved = encoder.truncation
            encoder.truncation = 'head'
            r['accuracy_eval_truncation_head'] = float(runner.test()['accuracy'])
            encoder.truncation = saved
        report.add(split, 'allspark', r, seed)
        log(f'seed {seed}: AllSpark {acc:.2f}%')

    tok, max_len = lm.tokenizer, encoder.max_length
    report.split(split, label, lengths=dict(train=truncation_report(tok, x_train, max_len),
                                            test=truncation_report(tok, x_test, max_len)))
    r = tfidf_logreg(x_train, y_train, x_test)
    report.add(split, 'tfidf_logreg', dict(**scored(r['pred'], y_test), train_wall_s=r['train_s'],
                                           throughput_samples_s=throughput(len(x_test),
                                                                           r['infer_s'])))
    study = {}
    for trunc in ('head', 'head_tail'):
        def cut(texts, trunc=trunc):
            return [truncate_text(tok, t, max_len, trunc, encoder.head_ratio) for t in texts]
        r = tfidf_logreg(cut(x_train), y_train, cut(x_test))
        study[f'tfidf_logreg_truncated_{trunc}'] = dict(**scored(r['pred'], y_test),
                                                        max_length=max_len)
    report.split(split, label, truncation_study=study)
    if not args.skip_frozen:
        from allspark.models.encoders.text import TextEncoder
        from allspark.models.language_model import HFLanguageModel

        frozen = HFLanguageModel(name_or_path=base_cfg.model.language_model.name_or_path)
        enc = TextEncoder(max_length=max_len, truncation=encoder.truncation,
                          head_ratio=encoder.head_ratio)
        enc.bind_language_model(frozen)
        r = frozen_lm_logreg(frozen, enc, x_train, y_train, x_test)
        report.add(split, 'frozen_lm_logreg', dict(
            **scored(r['pred'], y_test), train_wall_s=r['train_s'],
            throughput_samples_s=throughput(len(x_test), r['infer_s']), max_length=max_len,
            truncation=encoder.truncation))
    path = report.write(os.path.join(args.out, 'imdb_benchmark.json'))
    print(report.table())
    log(f'wrote {path}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
