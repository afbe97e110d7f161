"""Classic traffic baselines on the dataset's windows: last value, time-of-day average and a
ridge regression on each sensor's 12 lags (fitted on the training windows)."""
from __future__ import annotations

import numpy as np


def collect(dataset) -> dict:
    """Stack every window of ``dataset``: ``x (W, T, N)``, ``valid``, ``y (W, N, H)``, ``mask``,
    ``anchor (W, N)``, ``tod_out (W, H)`` slot indices of the predicted steps."""
    xs, vs, ys, ms, an, tods = [], [], [], [], [], []
    for rec in dataset.samples:
        w = dataset.window(rec['t'])
        xs.append(w['x']), vs.append(w['valid']), ys.append(w['y'].T), ms.append(w['y_valid'].T)
        an.append(w['anchor'])
        t = rec['t']
        tods.append(dataset.tod[t:t + dataset.out_steps])
    return dict(x=np.stack(xs), valid=np.stack(vs), y=np.stack(ys), mask=np.stack(ms),
                anchor=np.stack(an), tod_out=np.stack(tods))


def last_value(data: dict, horizon: int) -> np.ndarray:
    """The last valid observed speed of each sensor, repeated: ``(W, N, H)``."""
    return np.repeat(data['anchor'][..., None], horizon, -1)


class TimeOfDayAverage:
    """Mean valid speed per sensor and time-of-day slot over the training series (the
    sensor's training mean where a slot was never seen)."""

    def __init__(self, steps_per_day: int = 288):
        self.steps_per_day = steps_per_day

    def fit(self, dataset) -> 'TimeOfDayAverage':
        lo, hi = dataset.bounds['train']
        end = hi - 1 + dataset.in_steps + dataset.out_steps
        v, ok = dataset.values[:end], dataset.valid[:end]
        slot = (dataset.tod[:end] * self.steps_per_day).astype(int) % self.steps_per_day
        n = v.shape[1]
        s, c = np.zeros((self.steps_per_day, n)), np.zeros((self.steps_per_day, n))
        np.add.at(s, slot, np.where(ok, v, 0))
        np.add.at(c, slot, ok)
        node_mean = (np.where(ok, v, 0).sum(0) / np.maximum(ok.sum(0), 1))
        self.table = np.where(c > 0, s / np.maximum(c, 1), node_mean[None])
        return self

    def predict(self, data: dict) -> np.ndarray:
        slot = (data['tod_out'] * self.steps_per_day).astype(int) % self.steps_per_day  # (W, H)
        return self.table[slot].transpose(0, 2, 1)  # (W, N, H)


class PerSensorRidge:
    """For every sensor, ridge regression of its next ``H`` speeds on its last ``T`` (missing
    lags filled with the anchor), fitted on the training windows' valid targets."""

    def __init__(self, alpha: float = 1.0):
        self.alpha = alpha

    @staticmethod
    def _features(data: dict) -> np.ndarray:
        x = np.where(data['valid'], data['x'], data['anchor'][:, None])  # (W, T, N)
        return np.concatenate([x.transpose(2, 0, 1), np.ones((x.shape[2], x.shape[0], 1))], -1)

    def fit(self, data: dict) -> 'PerSensorRidge':
        f = self._features(data)  # (N, W, T+1)
        y = np.where(data['mask'], data['y'], data['anchor'][..., None]).transpose(1, 0, 2)
        reg = self.alpha * np.eye(f.shape[-1])
        reg[-1, -1] = 0
        self.w = np.stack([np.linalg.solve(fi.T @ fi + reg, fi.T @ yi) for fi, yi in zip(f, y)])
        return self

    def predict(self, data: dict) -> np.ndarray:
        f = self._features(data)
        return np.einsum('nwt,nth->wnh', f, self.w)
