"""CodeSearchNet Ruby code <-> documentation retrieval: AllSpark vs frozen MiniLM and TF-IDF.

    OMP_NUM_THREADS=1 python tools/benchmarks/codesearchnet_ruby.py [--work-dir DIR]

One run, one split (``configs/code_ruby.py``: 261 training pairs / 1,000 held-out pairs,
disjoint by repository, seeded).  On the held-out pairs, with the core's ``retrieval_scores``
(documentation query -> code key; MRR over the whole held-out pool and against 999 random
distractors, CodeSearchNet's protocol):

* zero-shot AllSpark: the config's model before training (untrained LoRA = the frozen language
  model), and the same with the plugin's registered code/doc prompts (ablation);
* AllSpark trained contrastively on the 261 training pairs (``build_runner`` train + test);
* frozen mean-pooled MiniLM (no prompt, same tokenisation) and TF-IDF cosine.

Writes ``results.json`` to the work dir.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time

os.environ.setdefault('OMP_NUM_THREADS', '1')
os.environ.setdefault('MKL_NUM_THREADS', '1')

import torch  # noqa: E402
from mmengine.config import DictAction  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)


@torch.no_grad()
def evaluate(model, dataloader, metric) -> tuple[dict, float]:
    """Run ``model.test_step`` over ``dataloader`` into ``metric``; (scores, wall seconds)."""
    model.eval()
    metric.results.clear()
    t0 = time.perf_counter()
    for batch in dataloader:
        metric.process(batch, model.test_step(batch))
    wall = time.perf_counter() - t0
    scores = metric.compute_metrics(metric.results)
    metric.results.clear()
    return scores, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=os.path.join(REPO, 'configs', 'code_ruby.py'))
    parser.add_argument('--work-dir', default=os.path.join(REPO, 'work_dirs', 'bench_code_ruby'))
    parser.add_argument('--skip-prompt-ablation', action='store_true')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config entries (e.g. randomness.seed=1 for another '
                             'training seed on the same split)')
    args = parser.parse_args()
    torch.set_num_threads(1)

    from mmengine.config import Config
    from mmengine.registry import DefaultScope

    from allspark.engine.runner import build_runner, load_config
    from allspark.evaluation.retrieval import RetrievalMetric, retrieval_scores
    from allspark.models.encoders.text import TextEncoder
    from allspark.models.language_model import HFLanguageModel
    from allspark.registry import DATASETS, FUNCTIONS, MODELS
    from allspark_plugin_code.baselines import frozen_lm_embeddings, tfidf_retrieval

    cfg = load_config(args.config, args.cfg_options)
    cfg.val_dataloader, cfg.val_cfg, cfg.val_evaluator = None, None, None
    os.makedirs(args.work_dir, exist_ok=True)
    if not DefaultScope.check_instance_created('code_bench'):
        DefaultScope.get_instance('code_bench', scope_name='allspark')
    results: dict = dict(config=os.path.relpath(args.config, REPO),
                         machine=f'{os.cpu_count()}-core CPU, load average {os.getloadavg()[0]:.1f} at start, 1 thread per process')
    ev = cfg.test_evaluator
    metric = RetrievalMetric(query=ev.query, key=ev.key, num_distractors=ev.num_distractors)
    train_set = DATASETS.build(Config(cfg.train_dataloader.dataset).to_dict())
    test_set = DATASETS.build(Config(cfg.test_dataloader.dataset).to_dict())
    train_repos = {s['repo'] for s in train_set.samples}
    results['split'] = dict(train=len(train_set), test=len(test_set),
                            train_repos=len(train_repos),
                            test_repos=len({s['repo'] for s in test_set.samples}),
                            shared_repos=len(train_repos & {s['repo'] for s in test_set.samples}),
                            holdout=cfg.holdout)
    print('[code] split', results['split'], flush=True)
    from torch.utils.data import DataLoader
    collate = FUNCTIONS.get('collate')
    test_loader = DataLoader(test_set, batch_size=64, shuffle=False, collate_fn=collate)

    # ---------------------------------------------------------------- zero-shot AllSpark
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(cfg.model).to_dict())
    scores, wall = evaluate(model, test_loader, metric)
    results['allspark_zero_shot'] = dict(metrics=scores, test_wall_s=wall,
                                         throughput_pairs_s=len(test_set) / wall,
                                         note='config model before training, no prompt')
    print('[code] zero-shot AllSpark', json.dumps(results['allspark_zero_shot']), flush=True)
    if not args.skip_prompt_ablation:
        mcfg = copy.deepcopy(cfg.model).to_dict()
        mcfg['prompts'] = None  # the plugin's registered code/doc prompts
        model_p = MODELS.build(mcfg)
        scores, wall = evaluate(model_p, test_loader, metric)
        results['allspark_zero_shot_with_prompts'] = dict(
            metrics=scores, test_wall_s=wall, note='registered code/doc prompts, untrained')
        print('[code] zero-shot AllSpark + prompts',
              json.dumps(results['allspark_zero_shot_with_prompts']), flush=True)
        del model_p
    del model

    # ---------------------------------------------------------------- AllSpark trained
    runner = build_runner(cfg, work_dir=args.work_dir)
    t0 = time.perf_counter()
    runner.train()
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    m = runner.test()
    wall = time.perf_counter() - t0
    results['allspark'] = dict(metrics={k: float(v) for k, v in m.items()}, train_wall_s=train_s,
                               test_wall_s=wall, throughput_pairs_s=len(test_set) / wall)
    print('[code] AllSpark trained', json.dumps(results['allspark']), flush=True)

    # ---------------------------------------------------------------- baselines
    codes, docs = test_set.pairs()
    t0 = time.perf_counter()
    q, k = tfidf_retrieval(codes, docs)
    results['tfidf_cosine'] = dict(metrics=retrieval_scores(q, k, ev.num_distractors),
                                   wall_s=time.perf_counter() - t0)
    print('[code] TF-IDF', json.dumps(results['tfidf_cosine']), flush=True)

    lm = HFLanguageModel(name_or_path=cfg.model.language_model.name_or_path)
    enc = {}
    for name in ('code', 'doc'):
        e = cfg.model.modalities[name].encoder
        enc[name] = TextEncoder(max_length=e.max_length, truncation=e.truncation)
        enc[name].bind_language_model(lm)
    t0 = time.perf_counter()
    kq = frozen_lm_embeddings(lm, enc['doc'], docs)
    kk = frozen_lm_embeddings(lm, enc['code'], codes)
    wall = time.perf_counter() - t0
    results['frozen_minilm'] = dict(metrics=retrieval_scores(kq, kk, ev.num_distractors),
                                    wall_s=wall, throughput_pairs_s=len(test_set) / wall)
    print('[code] frozen MiniLM', json.dumps(results['frozen_minilm']), flush=True)

    with open(os.path.join(args.work_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=2)
    print(json.dumps(results, indent=2))


if __name__ == '__main__':
    main()
