"""``RegressionMetric``: RMSE, MAE, R² and MAPE (in the target's units)."""
from __future__ import annotations

from typing import Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from allspark.registry import METRICS


def regression_scores(pred: np.ndarray, gt: np.ndarray, mape_eps: float = 1e-6) -> dict:
    err = pred - gt
    ss_tot = ((gt - gt.mean()) ** 2).sum()
    nonzero = np.abs(gt) > mape_eps
    return dict(rmse=float(np.sqrt((err ** 2).mean())), mae=float(np.abs(err).mean()),
                r2=float(1 - (err ** 2).sum() / ss_tot) if ss_tot > 0 else float('nan'),
                mape=float(100 * np.abs(err[nonzero] / gt[nonzero]).mean())
                if nonzero.any() else float('nan'))


@METRICS.register_module()
class RegressionMetric(BaseMetric):
    """Reads ``pred_value`` / ``gt_value`` (scalars or vectors, flattened together)."""

    default_prefix = ''

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            self.results.append((np.asarray(s['pred_value'], dtype=np.float64).reshape(-1),
                                 np.asarray(s['gt_value'], dtype=np.float64).reshape(-1)))

    def compute_metrics(self, results: list) -> dict:
        pred = np.concatenate([r[0] for r in results])
        gt = np.concatenate([r[1] for r in results])
        return regression_scores(pred, gt)
