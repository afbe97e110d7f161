"""CodeSearchNet Ruby retrieval: AllSpark vs frozen MiniLM and TF-IDF, same held-out pairs.

    allspark benchmark codesearchnet_ruby [--data-root ../shared/data/codesearchnet/ruby]
        [--seeds 0 1 2] [--config code::ruby.py] [--max-iters N] [--out DIR]

One split (the config's ``holdout``: training pairs and held-out pairs disjoint by repository,
seeded; the same for every training seed).  On the held-out pairs, with the core's
``retrieval_scores`` (documentation query -> code key; MRR over the whole held-out pool and
against 999 random distractors, CodeSearchNet's protocol): zero-shot AllSpark (the config's
model before training, and with the plugin's registered prompts), AllSpark trained
contrastively on the training pairs (one run per training seed), frozen mean-pooled MiniLM and
TF-IDF cosine (deterministic, once).  Writes ``codesearchnet_ruby_benchmark.json``.
"""
from __future__ import annotations

import argparse
import copy
import os
from typing import Optional, Sequence

from allspark.benchmarking import (
    BenchmarkReport,
    Timer,
    add_common_arguments,
    log_to,
    prepare_allspark_config,
    selection_record,
    set_threads,
    throughput,
    train_and_test,
)

DEFAULT_ROOT = '../shared/data/codesearchnet/ruby'
log = log_to('codesearchnet_ruby')


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='allspark benchmark codesearchnet_ruby',
                                     description=__doc__.splitlines()[0])
    add_common_arguments(parser, DEFAULT_ROOT, out='work_dirs/benchmarks/codesearchnet_ruby')
    parser.add_argument('--config', default='code::ruby.py')
    parser.add_argument('--max-iters', type=int, default=None, help='AllSpark iterations')
    parser.add_argument('--epochs', type=int, default=None, help='AllSpark epochs')
    parser.add_argument('--skip-prompt-ablation', action='store_true')
    return parser


def evaluate(model, dataloader, metric) -> tuple[dict, float]:
    """Run ``model.test_step`` over ``dataloader`` into ``metric``; (scores, wall seconds)."""
    import torch

    model.eval()
    metric.results.clear()
    with Timer() as t, torch.no_grad():
        for batch in dataloader:
            metric.process(batch, model.test_step(batch))
    scores = metric.compute_metrics(metric.results)
    metric.results.clear()
    return {k: float(v) for k, v in scores.items()}, t.seconds


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    set_threads(args.threads)
    import torch
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from torch.utils.data import DataLoader

    from allspark.evaluation.retrieval import RetrievalMetric, retrieval_scores
    from allspark.models.encoders.text import TextEncoder
    from allspark.models.language_model import HFLanguageModel
    from allspark.registry import DATASETS, FUNCTIONS, MODELS
    from allspark_plugin_code.baselines import frozen_lm_embeddings, tfidf_retrieval

    os.makedirs(args.out, exist_ok=True)
    cfg = prepare_allspark_config(args.config, data_root=args.data_root, smoke=args.smoke,
                                  cfg_options=args.cfg_options)
    if not DefaultScope.check_instance_created('code_bench'):
        DefaultScope.get_instance('code_bench', scope_name='allspark')
    ev = cfg.test_evaluator
    metric = RetrievalMetric(query=ev.query, key=ev.key, num_distractors=ev.num_distractors)
    train_set = DATASETS.build(Config(cfg.train_dataloader.dataset).to_dict())
    test_set = DATASETS.build(Config(cfg.test_dataloader.dataset).to_dict())
    train_repos = {s['repo'] for s in train_set.samples}
    test_repos = {s['repo'] for s in test_set.samples}
    split = 'holdout_by_repo'
    label = f'CodeSearchNet Ruby, {len(train_set)} training / {len(test_set)} held-out pairs ' \
            f'(disjoint by repository)'
    report = BenchmarkReport(
        'codesearchnet_ruby', dataset='CodeSearchNet Ruby (CodeXGLUE test split records)',
        data_root=args.data_root, split_kind='split', seeds=args.seeds, argv=argv, out=args.out,
        smoke=args.smoke, threads=args.threads, primary_metric='mrr', higher_is_better=True,
        verdict_metrics=['mrr', f'mrr_1v{ev.num_distractors}'], config=args.config,
        allspark=['allspark', 'allspark_zero_shot', 'allspark_zero_shot_with_prompts'],
        selection=selection_record(
            allspark=f'{args.config}\'s settings, fixed beforehand (docs/results/code.md); this '
                     'run chooses nothing',
            baselines='frozen MiniLM mean pooling and TF-IDF cosine: no settings'))
    report.split(split, label, train_pairs=len(train_set), test_pairs=len(test_set),
                 train_repos=len(train_repos), test_repos=len(test_repos),
                 shared_repos=len(train_repos & test_repos), holdout=cfg.get('holdout'))
    log(label)
    test_loader = DataLoader(test_set, batch_size=64, shuffle=False,
                             collate_fn=FUNCTIONS.get('collate'))

    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(cfg.model).to_dict())
    scores, wall = evaluate(model, test_loader, metric)
    report.add(split, 'allspark_zero_shot', dict(**scores, test_wall_s=wall,
                                                 throughput_pairs_s=throughput(len(test_set),
                                                                               wall)))
    if not args.skip_prompt_ablation:
        mcfg = copy.deepcopy(cfg.model).to_dict()
        mcfg['prompts'] = None  # the plugin's registered code/doc prompts
        scores, wall = evaluate(MODELS.build(mcfg), test_loader, metric)
        report.add(split, 'allspark_zero_shot_with_prompts', dict(**scores, test_wall_s=wall))
    del model

    max_iters = 2 if args.smoke and not args.max_iters else args.max_iters
    for seed in args.seeds:
        run_cfg = prepare_allspark_config(args.config, data_root=args.data_root, seed=seed,
                                          max_iters=max_iters, max_epochs=args.epochs or (
                                              1 if args.smoke else None), smoke=args.smoke,
                                          cfg_options=args.cfg_options)
        run = train_and_test(run_cfg, os.path.join(args.out, f'seed{seed}'))
        report.add(split, 'allspark', dict(**run['metrics'], train_wall_s=run['train_s'],
                                           test_wall_s=run['test_s'],
                                           throughput_pairs_s=throughput(len(test_set),
                                                                         run['test_s'])), seed)
        log(f'seed {seed}: AllSpark MRR {run["metrics"]["mrr"]:.3f}')

    codes, docs = test_set.pairs()
    with Timer() as t:
        q, k = tfidf_retrieval(codes, docs)
    report.add(split, 'tfidf_cosine', dict(**retrieval_scores(q, k, ev.num_distractors),
                                           wall_s=t.seconds))
    lm = HFLanguageModel(name_or_path=cfg.model.language_model.name_or_path)
    enc = {}
    for name in ('code', 'doc'):
        e = cfg.model.modalities[name].encoder
        enc[name] = TextEncoder(max_length=e.max_length, truncation=e.truncation)
        enc[name].bind_language_model(lm)
    with Timer() as t:
        kq = frozen_lm_embeddings(lm, enc['doc'], docs)
        kk = frozen_lm_embeddings(lm, enc['code'], codes)
    report.add(split, 'frozen_minilm', dict(**retrieval_scores(kq, kk, ev.num_distractors),
                                            wall_s=t.seconds,
                                            throughput_pairs_s=throughput(len(test_set),
                                                                          t.seconds)))
    path = report.write(os.path.join(args.out, 'codesearchnet_ruby_benchmark.json'))
    print(report.table())
    log(f'wrote {path}')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
