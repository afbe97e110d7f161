"""IMDB sentiment (2k/2k aclImdb subset): AllSpark vs TF-IDF and frozen-MiniLM baselines, one run.

    OMP_NUM_THREADS=1 python tools/benchmarks/imdb.py [--work-dir work_dirs/bench_imdb]

Trains ``configs/language_imdb.py`` through ``build_runner`` and tests it on the test split, then
(same texts, same split) TF-IDF 1-2 grams + logistic regression and the frozen language model's
mean-pooled embeddings (same tokenizer and truncation as AllSpark, no prompt) + logistic
regression.  Truncation study: TF-IDF on exactly the tokens each truncation keeps, and the trained
AllSpark model evaluated again with ``truncation='head'``.  Writes ``results.json`` to the work
dir.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault('OMP_NUM_THREADS', '1')
os.environ.setdefault('MKL_NUM_THREADS', '1')

import numpy as np  # noqa: E402
import torch  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)


def accuracy(pred, gt) -> float:
    return 100.0 * float(np.mean(np.asarray(pred) == np.asarray(gt)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=os.path.join(REPO, 'configs', 'language_imdb.py'))
    parser.add_argument('--work-dir', default=os.path.join(REPO, 'work_dirs', 'bench_imdb'))
    parser.add_argument('--data-root', default=None, help='override the config data_root')
    parser.add_argument('--skip-frozen', action='store_true',
                        help='skip the frozen-embedding baseline (slow on CPU)')
    parser.add_argument('--skip-head-eval', action='store_true',
                        help="skip re-evaluating AllSpark with truncation='head'")
    args = parser.parse_args()
    torch.set_num_threads(1)

    from mmengine.config import Config

    from allspark.engine.runner import build_runner, load_config
    from allspark.registry import DATASETS
    from allspark_plugin_language.baselines import frozen_lm_logreg, tfidf_logreg
    from allspark_plugin_language.encoder import truncate_text, truncation_report

    cfg = load_config(args.config)
    if args.data_root:
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            cfg[key].dataset.data_root = args.data_root
    # No validation pass during training: the test split is evaluated once, below.
    cfg.val_dataloader, cfg.val_cfg, cfg.val_evaluator = None, None, None
    os.makedirs(args.work_dir, exist_ok=True)
    results: dict = dict(config=os.path.relpath(args.config, REPO),
                         machine=f'{os.cpu_count()}-core CPU, load average {os.getloadavg()[0]:.1f} at start, 1 thread per process',
                         torch_threads=torch.get_num_threads())

    # ---------------------------------------------------------------- AllSpark
    runner = build_runner(cfg, work_dir=args.work_dir)
    t0 = time.perf_counter()
    runner.train()
    train_s = time.perf_counter() - t0
    n_test = len(runner.test_dataloader.dataset)
    t0 = time.perf_counter()
    metrics = runner.test()
    infer_s = time.perf_counter() - t0
    results['allspark'] = dict(metrics={k: float(v) for k, v in metrics.items()},
                               train_wall_s=train_s, test_wall_s=infer_s,
                               throughput_samples_s=n_test / infer_s,
                               truncation=cfg.model.modalities.text.encoder.truncation,
                               max_length=cfg.model.modalities.text.encoder.max_length)
    print('[imdb] AllSpark', json.dumps(results['allspark']), flush=True)
    model = runner.model.module if hasattr(runner.model, 'module') else runner.model
    encoder = model.encoders['text']
    if not args.skip_head_eval and encoder.truncation != 'head':
        saved = encoder.truncation
        encoder.truncation = 'head'
        t0 = time.perf_counter()
        m_head = runner.test()
        encoder.truncation = saved
        results['allspark_eval_truncation_head'] = dict(
            metrics={k: float(v) for k, v in m_head.items()},
            test_wall_s=time.perf_counter() - t0,
            note="the head_tail-trained model evaluated with truncation='head'")
        print('[imdb] AllSpark eval head-only', json.dumps(results['allspark_eval_truncation_head']),
              flush=True)

    # ---------------------------------------------------------------- data for the baselines
    train_set = DATASETS.build(Config(cfg.train_dataloader.dataset).to_dict())
    test_set = DATASETS.build(Config(cfg.test_dataloader.dataset).to_dict())
    x_train, y_train = train_set.texts_and_labels()
    x_test, y_test = test_set.texts_and_labels()
    lm = model.language_model
    tok = lm.tokenizer
    max_len = encoder.max_length
    results['lengths'] = dict(train=truncation_report(tok, x_train, max_len),
                              test=truncation_report(tok, x_test, max_len))

    # ---------------------------------------------------------------- TF-IDF (+ truncation study)
    r = tfidf_logreg(x_train, y_train, x_test)
    results['tfidf_logreg'] = dict(accuracy=accuracy(r['pred'], y_test), train_wall_s=r['train_s'],
                                   throughput_samples_s=len(x_test) / r['infer_s'])
    print('[imdb] TF-IDF', json.dumps(results['tfidf_logreg']), flush=True)
    for trunc in ('head', 'head_tail'):
        cut = lambda texts: [truncate_text(tok, t, max_len, trunc, encoder.head_ratio)  # noqa
                             for t in texts]
        r = tfidf_logreg(cut(x_train), y_train, cut(x_test))
        results[f'tfidf_logreg_truncated_{trunc}'] = dict(accuracy=accuracy(r['pred'], y_test),
                                                          max_length=max_len)
        print(f'[imdb] TF-IDF on {trunc}-truncated text',
              results[f'tfidf_logreg_truncated_{trunc}'], flush=True)

    # ---------------------------------------------------------------- frozen LM embeddings
    if not args.skip_frozen:
        from allspark.models.encoders.text import TextEncoder
        from allspark.models.language_model import HFLanguageModel

        frozen = HFLanguageModel(name_or_path=cfg.model.language_model.name_or_path)
        enc = TextEncoder(max_length=max_len, truncation=encoder.truncation,
                          head_ratio=encoder.head_ratio)
        enc.bind_language_model(frozen)
        r = frozen_lm_logreg(frozen, enc, x_train, y_train, x_test)
        results['frozen_lm_logreg'] = dict(accuracy=accuracy(r['pred'], y_test),
                                           train_wall_s=r['train_s'],
                                           throughput_samples_s=len(x_test) / r['infer_s'],
                                           max_length=max_len, truncation=encoder.truncation)
        print('[imdb] frozen MiniLM + LR', json.dumps(results['frozen_lm_logreg']), flush=True)

    with open(os.path.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    print(json.dumps(results, indent=2))


if __name__ == '__main__':
    main()
