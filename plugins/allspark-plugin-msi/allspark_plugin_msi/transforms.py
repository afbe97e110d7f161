"""Multispectral transforms on ``(C, H, W)`` arrays (NumPy's global generator: seeded, saved).

The generic raster transforms (``RandomFlip``, ``RandomRotate90``, ``RandomCrop``, ``Resize``,
``ToFloat``) are in the core (``allspark/datasets/transforms.py``) and work on ``msi`` too.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from allspark.datasets.transforms import BaseTransform
from allspark.registry import TRANSFORMS


@TRANSFORMS.register_module()
class MSIRandomBrightness(BaseTransform):
    """Multiply all bands by one factor drawn from ``[1 - delta, 1 + delta]`` (illumination /
    atmospheric variation); applied before normalisation."""

    def __init__(self, delta: float = 0.1, prob: float = 0.5, keys: str = 'msi'):
        super().__init__(keys, single=True)
        self.delta, self.prob = delta, prob

    def transform(self, sample: dict) -> dict:
        if np.random.rand() < self.prob:
            factor = np.float32(1.0 + np.random.uniform(-self.delta, self.delta))
            sample[self.key] = np.asarray(sample[self.key], dtype=np.float32) * factor
        return sample


@TRANSFORMS.register_module()
class MSISelectBands(BaseTransform):
    """Keep the bands at ``indices`` (in the dataset's band order): ``(C, H, W) -> (k, H, W)``."""

    def __init__(self, indices: Sequence[int], keys: str = 'msi'):
        super().__init__(keys, single=True)
        self.indices = list(indices)

    def transform(self, sample: dict) -> dict:
        x = sample[self.key]
        if max(self.indices) >= x.shape[0]:
            raise ValueError(f'MSISelectBands: band index {max(self.indices)} out of range for '
                             f'{x.shape[0]} bands ({sample.get("img_path", "?")})')
        sample[self.key] = x[self.indices]
        return sample
