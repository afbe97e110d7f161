"""``RetrievalMetric``: MRR and Recall@k of query -> key retrieval over embeddings.

Two protocols (CodeSearchNet's is the second): rank each query's true key against the whole
evaluation pool, or against ``num_distractors`` keys drawn at random (seeded) from the pool.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from allspark.registry import METRICS


def ranks_of_truth(sim: torch.Tensor) -> torch.Tensor:
    """``sim (Q, K)`` with the true key of query i at column i -> 1-based rank of the truth."""
    truth = sim.diagonal().unsqueeze(1)
    return (sim > truth).sum(1) + 1


def retrieval_scores(query: torch.Tensor, key: torch.Tensor, num_distractors: int = 0,
                     seed: int = 0, ks: Sequence[int] = (1, 5, 10)) -> dict:
    """Scores over the whole pool, and with ``num_distractors`` random distractors if > 0."""
    sim = query.float() @ key.float().t()
    ranks = ranks_of_truth(sim).float()
    out = dict(mrr=float((1 / ranks).mean()))
    out.update({f'recall@{k}': float((ranks <= k).float().mean()) for k in ks})
    n = sim.shape[0]
    if num_distractors and n > 1:
        gen = torch.Generator().manual_seed(seed)
        m = min(num_distractors, n - 1)
        rr = []
        for i in range(n):
            others = torch.randperm(n - 1, generator=gen)[:m]
            others = others + (others >= i).long()  # skip the true key
            rank = 1 + (sim[i, others] > sim[i, i]).sum()
            rr.append(1.0 / float(rank))
        out[f'mrr_1v{m}'] = float(np.mean(rr))
    return out


@METRICS.register_module()
class RetrievalMetric(BaseMetric):
    """Reads ``embeddings = {modality: (E,)}`` from each prediction.

    Args:
        query: the query modality; key: the key modality.
        num_distractors: also report MRR against this many random distractors (0: off).
    """

    default_prefix = ''

    def __init__(self, query: str, key: str, num_distractors: int = 999, seed: int = 0, **kw):
        super().__init__(**kw)
        self.query, self.key, self.num_distractors, self.seed = query, key, num_distractors, seed

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            self.results.append((s['embeddings'][self.query], s['embeddings'][self.key]))

    def compute_metrics(self, results: list) -> dict:
        q = torch.stack([r[0] for r in results])
        k = torch.stack([r[1] for r in results])
        return retrieval_scores(q, k, self.num_distractors, self.seed)
