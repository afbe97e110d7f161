"""``TrafficForecastMetric``: masked MAE, RMSE and MAPE per horizon and on average.

Predictions and targets are turned back into speeds (``+ anchor`` for residual targets); a
reading is scored only where ``gt_mask`` is True (missing readings, 0 in METR-LA, are left out,
as in DCRNN/STAEformer's masked metrics).  ``horizon`` h means the h-th predicted step (3 = 15
min, 6 = 30 min, 12 = 60 min at 5-minute steps); the averages pool all predicted steps.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from allspark.registry import METRICS


def traffic_scores(pred: np.ndarray, gt: np.ndarray, mask: np.ndarray,
                   horizons: Sequence[int] = (3, 6, 12)) -> dict:
    """``pred, gt, mask``: ``(W, N, H)`` speeds and validity -> ``mae_h3, rmse_h3, mape_h3, ...,
    mae, rmse, mape`` (MAPE in %)."""
    def score(p, g, m):
        m = m & (g != 0)
        e = (p - g)[m]
        return (float(np.abs(e).mean()), float(np.sqrt((e ** 2).mean())),
                float(100 * np.abs(e / g[m]).mean()))

    out = {}
    for h in horizons:
        if h <= pred.shape[-1]:
            out[f'mae_h{h}'], out[f'rmse_h{h}'], out[f'mape_h{h}'] = score(
                pred[..., h - 1], gt[..., h - 1], mask[..., h - 1])
    out['mae'], out['rmse'], out['mape'] = score(pred, gt, mask)
    return out


@METRICS.register_module()
class TrafficForecastMetric(BaseMetric):
    """Reads ``pred_seq (N, K, H, 1)`` (hypothesis 0 is scored), ``gt_seq (N, H, 1)``,
    ``gt_mask`` and ``anchor (N, 1)`` of every data sample."""

    default_prefix = ''

    def __init__(self, horizons: Sequence[int] = (3, 6, 12), **kwargs):
        super().__init__(**kwargs)
        self.horizons = tuple(horizons)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            pred = np.asarray(s['pred_seq'], dtype=np.float64)
            pred = pred.reshape(pred.shape[0], -1, *pred.shape[-2:])[:, 0, :, 0]  # (N, H)
            gt = np.asarray(s['gt_seq'], dtype=np.float64)[..., 0]
            anchor = np.asarray(s.get('anchor', np.zeros((gt.shape[0], 1))), dtype=np.float64)
            mask = np.asarray(s.get('gt_mask', np.ones_like(gt, dtype=bool)), dtype=bool)
            self.results.append(((pred + anchor).astype(np.float32),
                                 (gt + anchor).astype(np.float32), mask.reshape(gt.shape)))

    def compute_metrics(self, results: list) -> dict:
        pred = np.stack([r[0] for r in results])
        gt = np.stack([r[1] for r in results])
        mask = np.stack([r[2] for r in results])
        return traffic_scores(pred, gt, mask, self.horizons)
