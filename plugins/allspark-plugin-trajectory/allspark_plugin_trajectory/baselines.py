"""Classic baselines on the same windows as the model (local frame, relative to the last
observed position): constant velocity and a linear regression of the future on the past."""
from __future__ import annotations

import numpy as np


def windows(dataset, pipeline: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``obs (W, T, 2)`` and ``gt (W, H, 2)`` of every window of ``dataset`` (without its
    random transforms unless ``pipeline``)."""
    obs, gt = [], []
    for i in range(len(dataset)):
        s = dataset.pipeline(dataset.get_sample(i)) if pipeline else dataset.get_sample(i)
        obs.append(s['trajectory']['obs'])
        gt.append(s['gt_seq'])
    return np.stack(obs).astype(np.float64), np.stack(gt).astype(np.float64)


def constant_velocity(obs: np.ndarray, pred_len: int = 12) -> np.ndarray:
    """Repeat the last observed step: ``(W, T, 2) -> (W, H, 2)``."""
    vel = obs[:, -1] - obs[:, -2]
    steps = np.arange(1, pred_len + 1)[None, :, None]
    return obs[:, -1:, :] + steps * vel[:, None]


class LinearTrajectoryRegressor:
    """Least squares (small ridge) from the flattened observed track to the flattened future."""

    def __init__(self, alpha: float = 1e-3):
        self.alpha = alpha

    def fit(self, obs: np.ndarray, gt: np.ndarray) -> 'LinearTrajectoryRegressor':
        x = np.concatenate([obs.reshape(len(obs), -1), np.ones((len(obs), 1))], 1)
        y = gt.reshape(len(gt), -1)
        reg = self.alpha * np.eye(x.shape[1])
        reg[-1, -1] = 0
        self.w = np.linalg.solve(x.T @ x + reg, x.T @ y)
        self.shape = gt.shape[1:]
        return self

    def predict(self, obs: np.ndarray) -> np.ndarray:
        x = np.concatenate([obs.reshape(len(obs), -1), np.ones((len(obs), 1))], 1)
        return (x @ self.w).reshape(len(obs), *self.shape)
