"""``TrajectoryMetric``: ADE / FDE in metres, best-of-K and K = 1 (hypothesis 0).

ADE: mean Euclidean error over the predicted steps; FDE: error at the last step.  Best-of-K takes,
per window, the minimum over the K hypotheses (ADE and FDE each minimised on their own, as in
Social-GAN and TUTR); ``ade_k1``/``fde_k1`` score hypothesis 0 alone.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from allspark.registry import METRICS


def ade_fde(pred: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pred (W, K, H, 2)``, ``gt (W, H, 2)`` -> per-hypothesis ``ade, fde``, each ``(W, K)``."""
    err = np.linalg.norm(pred - gt[:, None], axis=-1)  # (W, K, H)
    return err.mean(-1), err[..., -1]


def trajectory_scores(pred: np.ndarray, gt: np.ndarray) -> dict:
    """Best-of-K and hypothesis-0 ADE/FDE of ``pred (W, K, H, 2)`` against ``gt (W, H, 2)``."""
    if pred.ndim == 3:
        pred = pred[:, None]
    ade, fde = ade_fde(pred, gt)
    return dict(ade=float(ade.min(1).mean()), fde=float(fde.min(1).mean()),
                ade_k1=float(ade[:, 0].mean()), fde_k1=float(fde[:, 0].mean()),
                num_modes=int(pred.shape[1]), num_windows=int(pred.shape[0]))


@METRICS.register_module()
class TrajectoryMetric(BaseMetric):
    """Reads ``pred_seq (K, H, 2)`` and ``gt_seq (H, 2)`` of every data sample."""

    default_prefix = ''

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            pred = np.asarray(s['pred_seq'], dtype=np.float64)
            self.results.append((pred.reshape(-1, *pred.shape[-2:]),
                                 np.asarray(s['gt_seq'], dtype=np.float64)))

    def compute_metrics(self, results: list) -> dict:
        pred = np.stack([r[0] for r in results])
        gt = np.stack([r[1] for r in results])
        return trajectory_scores(pred, gt)
