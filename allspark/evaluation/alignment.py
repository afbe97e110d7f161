"""Cross-modal retrieval over every ordered modality pair (``CrossModalRetrievalMetric``).

For each ordered pair ``a -> b``: the queries are the evaluation samples that have both ``a`` and
``b``; the gallery is **every** evaluation sample that has ``b`` (the whole split, not the batch);
a query's truth is its own sample's ``b``.  Ranks are 1-based, ties counted in the query's
favour (a key scoring exactly as the truth does not push it down: identical captions of one class
are one key).  Reported per pair: Recall@1/5/10, median rank, number of queries and gallery size;
overall: the mean Recall@k over all pairs, and over the pairs that exclude ``pivot`` when given.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from allspark.registry import METRICS


def pair_retrieval(query: torch.Tensor, gallery: torch.Tensor, truth: torch.Tensor,
                   ks: Sequence[int] = (1, 5, 10)) -> dict:
    """``query (Q, E)`` against ``gallery (G, E)``; ``truth (Q,)`` = gallery index of each
    query's own key -> ``{'recall@k', 'median_rank', 'ranks'}`` (cosine / dot similarity)."""
    sim = query.float() @ gallery.float().t()
    true_sim = sim.gather(1, truth.long().view(-1, 1))
    ranks = (sim > true_sim).sum(1) + 1
    out = {f'recall@{k}': float((ranks <= k).float().mean()) for k in ks}
    out['median_rank'] = float(ranks.float().median())
    out['ranks'] = ranks
    return out


def pairwise_retrieval_table(embeddings: Sequence[dict], modalities: Optional[Sequence[str]] = None,
                             ks: Sequence[int] = (1, 5, 10)) -> dict:
    """``embeddings[i] = {m: (E,)}`` (only the modalities sample ``i`` has) ->
    ``{(a, b): {'recall@k', 'median_rank', 'queries', 'gallery'}}`` for every ordered pair."""
    if modalities is None:
        modalities = sorted({m for e in embeddings for m in e})
    table = {}
    for b in modalities:
        have_b = [i for i, e in enumerate(embeddings) if b in e]
        if not have_b:
            continue
        gallery = torch.stack([embeddings[i][b] for i in have_b])
        position = {i: j for j, i in enumerate(have_b)}
        for a in modalities:
            if a == b:
                continue
            rows = [i for i in have_b if a in embeddings[i]]
            if not rows:
                continue
            query = torch.stack([embeddings[i][a] for i in rows])
            truth = torch.tensor([position[i] for i in rows])
            scores = pair_retrieval(query, gallery, truth, ks)
            scores.pop('ranks')
            table[(a, b)] = dict(scores, queries=len(rows), gallery=len(have_b))
    return table


def summarise_table(table: dict, pivot: Optional[str] = None,
                    ks: Sequence[int] = (1, 5, 10)) -> dict:
    """Flat metrics: ``'<a>-><b>/recall@5'`` etc., ``mean/recall@k`` and, with ``pivot``,
    ``mean_excl_<pivot>/recall@k`` over the pairs that exclude it."""
    out = {}
    for (a, b), s in table.items():
        for key in [f'recall@{k}' for k in ks] + ['median_rank']:
            out[f'{a}->{b}/{key}'] = s[key]
    for k in ks:
        vals = [s[f'recall@{k}'] for s in table.values()]
        if vals:
            out[f'mean/recall@{k}'] = float(np.mean(vals))
        if pivot is not None:
            vals = [s[f'recall@{k}'] for (a, b), s in table.items() if pivot not in (a, b)]
            if vals:
                out[f'mean_excl_{pivot}/recall@{k}'] = float(np.mean(vals))
    return out


def format_table(table: dict) -> str:
    """The pair table as Markdown (one row per ordered pair)."""
    lines = ['| query -> gallery | R@1 | R@5 | R@10 | median rank | queries | gallery |',
             '|---|---|---|---|---|---|---|']
    for (a, b), s in sorted(table.items()):
        lines.append(f"| {a} -> {b} | {100 * s['recall@1']:.1f} | {100 * s['recall@5']:.1f} | "
                     f"{100 * s['recall@10']:.1f} | {s['median_rank']:.0f} | {s['queries']} | "
                     f"{s['gallery']} |")
    return '\n'.join(lines)


@METRICS.register_module()
class CrossModalRetrievalMetric(BaseMetric):
    """Reads ``embeddings = {modality: (E,)}`` from each prediction (``AlignmentHead``).

    Args:
        modalities: pairs among these (default: every modality seen).
        pivot: also report the mean over the pairs that exclude this modality.
    """

    default_prefix = ''

    def __init__(self, modalities: Optional[Sequence[str]] = None, pivot: Optional[str] = None,
                 ks: Sequence[int] = (1, 5, 10), **kw):
        super().__init__(**kw)
        self.modalities = list(modalities) if modalities else None
        self.pivot, self.ks = pivot, tuple(ks)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            self.results.append({m: e.float().cpu() for m, e in s['embeddings'].items()})

    def compute_metrics(self, results: list) -> dict:
        table = pairwise_retrieval_table(results, self.modalities, self.ks)
        return summarise_table(table, self.pivot, self.ks)
