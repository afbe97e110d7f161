"""Point cloud augmentations (training only; NumPy's global generator, seeded and saved with
checkpoints).  They act on ``sample['pointcloud']``, a ``(N, 3|6)`` float32 array.

* ``PointCloudScaleTranslate``: multiply x, y, z by independent factors drawn from
  ``U(scale_low, scale_high)`` and add an independent shift from ``U(-translate, translate)`` per
  axis (the PointNet++/Point-BERT "scale and translate"); normals are left alone.
* ``PointCloudRandomDropout``: draw a ratio ``r ~ U(0, max_ratio)`` and drop each point with
  probability ``r``; dropped points are replaced by copies of the first kept point, so the
  cloud keeps its ``N`` points and batches (PointNet++'s random input dropout).
"""
from __future__ import annotations

import numpy as np

from allspark.datasets.transforms import BaseTransform
from allspark.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PointCloudScaleTranslate(BaseTransform):
    """Anisotropic random scale then random translation of the xyz channels."""

    def __init__(self, scale_low: float = 2 / 3, scale_high: float = 3 / 2,
                 translate: float = 0.2, keys: str = 'pointcloud'):
        if not 0 < scale_low <= scale_high:
            raise ValueError(f'PointCloudScaleTranslate: need 0 < scale_low <= scale_high, got '
                             f'{scale_low}, {scale_high}')
        super().__init__(keys, single=True)
        self.scale_low, self.scale_high, self.translate = scale_low, scale_high, translate

    def transform(self, sample: dict) -> dict:
        pts = np.array(sample[self.key], dtype=np.float32, copy=True)
        scale = np.random.uniform(self.scale_low, self.scale_high, 3).astype(np.float32)
        shift = np.random.uniform(-self.translate, self.translate, 3).astype(np.float32)
        pts[:, :3] = pts[:, :3] * scale + shift
        sample[self.key] = pts
        return sample


@TRANSFORMS.register_module()
class PointCloudRandomDropout(BaseTransform):
    """Drop a random fraction (up to ``max_ratio``) of the points, keeping ``N`` fixed."""

    def __init__(self, max_ratio: float = 0.875, keys: str = 'pointcloud'):
        if not 0 <= max_ratio < 1:
            raise ValueError(f'PointCloudRandomDropout: max_ratio must be in [0, 1), got '
                             f'{max_ratio}')
        super().__init__(keys, single=True)
        self.max_ratio = max_ratio

    def transform(self, sample: dict) -> dict:
        pts = np.array(sample[self.key], dtype=np.float32, copy=True)
        ratio = np.random.uniform(0, self.max_ratio)
        drop = np.random.random(len(pts)) <= ratio
        if drop.all():
            drop[0] = False
        keep = np.flatnonzero(~drop)
        pts[drop] = pts[keep[0]]
        sample[self.key] = pts
        return sample
