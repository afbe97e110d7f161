"""Trajectory transforms in the local frame (NumPy's global generator: seeded, saved with
checkpoints).

Every transform applies one linear map ``A`` (rotation, flip, scale) to the observed track, the
neighbours and the future (``local' = local @ A``) and keeps ``rot`` up to date
(``rot' = rot @ A``) so that ``world = local @ inv(rot) + origin`` still holds: predictions can be
drawn in world coordinates, and ADE/FDE (Euclidean distances) are the same in any rotated or
flipped frame (test pipelines use rotations only).
"""
from __future__ import annotations

import numpy as np

from allspark.registry import TRANSFORMS

# forecasts in the local frame that move with the track (ETHUCYDataset(linear_prior=True))
LOCAL_FORECASTS = ('gt_seq', 'seq_prior_linear')


def apply_linear(sample: dict, a: np.ndarray) -> dict:
    """``local @ a`` for ``obs``, ``nbr``, ``gt_seq`` and ``seq_prior_linear``; ``rot @ a``."""
    a = a.astype(np.float32)
    traj = dict(sample['trajectory'])
    traj['obs'] = traj['obs'] @ a
    traj['nbr'] = traj['nbr'] @ a
    sample['trajectory'] = traj
    for key in LOCAL_FORECASTS:
        if key in sample:
            sample[key] = sample[key] @ a
    sample['rot'] = sample.get('rot', np.eye(2, dtype=np.float32)) @ a
    return sample


def rotation(theta: float) -> np.ndarray:
    """Row-vector rotation by ``theta``: ``v @ rotation(theta)`` turns ``v`` by ``theta``."""
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, s], [-s, c]])


@TRANSFORMS.register_module()
class TrajCanonicalRotate:
    """Rotate so that the observed displacement (first -> last observed position) points along
    +x.  Tracks that moved less than ``min_dist`` metres are left as they are."""

    def __init__(self, min_dist: float = 0.2):
        self.min_dist = min_dist

    def __call__(self, sample: dict) -> dict:
        obs = sample['trajectory']['obs']
        d = obs[-1] - obs[0]
        if float(np.hypot(d[0], d[1])) < self.min_dist:
            return sample
        return apply_linear(sample, rotation(-float(np.arctan2(d[1], d[0]))))


@TRANSFORMS.register_module()
class TrajRandomRotate:
    """Rotate by a random angle in ``[-max_angle, max_angle]`` degrees (360: any direction)."""

    def __init__(self, max_angle: float = 180.0):
        self.max_angle = max_angle

    def __call__(self, sample: dict) -> dict:
        theta = np.deg2rad(np.random.uniform(-self.max_angle, self.max_angle))
        return apply_linear(sample, rotation(theta))


@TRANSFORMS.register_module()
class TrajRandomFlip:
    """Mirror the y axis with probability ``prob`` (walking is left/right symmetric)."""

    def __init__(self, prob: float = 0.5):
        self.prob = prob

    def __call__(self, sample: dict) -> dict:
        if np.random.rand() < self.prob:
            return apply_linear(sample, np.diag([1.0, -1.0]))
        return sample


@TRANSFORMS.register_module()
class TrajRandomScale:
    """Scale all positions by a factor in ``[low, high]`` (walking speeds differ between scenes
    and annotation rates).  ``rot`` then holds a scaled rotation (``to_world`` inverts it)."""

    def __init__(self, low: float = 0.8, high: float = 1.2):
        self.low, self.high = low, high

    def __call__(self, sample: dict) -> dict:
        return apply_linear(sample, np.eye(2) * np.random.uniform(self.low, self.high))


@TRANSFORMS.register_module()
class TrajConstantVelocityPrior:
    """Write the constant-velocity forecast ``(T_pred, 2)`` (the last observed step repeated,
    in the sample's current frame) under ``key``, for ``SequenceRegHead(prior_key=key)``, which
    then learns the residual over it.  Put it last in the pipeline (after every rotation, flip
    and scale), so that the prior is in the same frame as ``gt_seq``.

    ``pred_len``: the forecast length (default: that of ``gt_seq``)."""

    def __init__(self, key: str = 'seq_prior', pred_len: int | None = None):
        self.key, self.pred_len = key, pred_len

    def __call__(self, sample: dict) -> dict:
        obs = np.asarray(sample['trajectory']['obs'], dtype=np.float32)
        horizon = self.pred_len or int(np.asarray(sample['gt_seq']).shape[0])
        vel = obs[-1] - obs[-2]
        steps = np.arange(1, horizon + 1, dtype=np.float32)[:, None]
        sample[self.key] = (obs[-1][None] + steps * vel[None]).astype(np.float32)
        return sample
