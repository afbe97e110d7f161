"""SAR-specific transforms on sample dicts (arrays ``(C, H, W)``).

Geometric augmentation (random crop, flips) uses the core's ``RandomCrop`` / ``RandomFlip`` /
``CenterCrop`` with ``keys='sar'``.  Random draws use NumPy's global generator (seeded by mmengine,
saved with AllSpark checkpoints).
"""
from __future__ import annotations

import numpy as np

from allspark.datasets.transforms import BaseTransform
from allspark.registry import TRANSFORMS


@TRANSFORMS.register_module()
class SARToDecibel(BaseTransform):
    """``x -> 10 * log10(max(x, eps))`` for intensity (``power=True``) or 20 log10 for amplitude.

    For calibrated float GeoTIFFs whose dynamic range spans decades; MSTAR's 8-bit JPEG chips are
    already compressed for display and need no conversion."""

    def __init__(self, keys: str = 'sar', power: bool = True, eps: float = 1e-6):
        super().__init__(keys, single=True)
        self.factor, self.eps = 10.0 if power else 20.0, eps

    def transform(self, sample: dict) -> dict:
        x = np.asarray(sample[self.key], dtype=np.float32)
        sample[self.key] = (self.factor * np.log10(np.maximum(x, self.eps))).astype(np.float32)
        return sample

    def __repr__(self) -> str:
        return f'SARToDecibel(keys={self.keys}, factor={self.factor})'


@TRANSFORMS.register_module()
class RandomSpeckle(BaseTransform):
    """Multiply by unit-mean gamma noise (``looks``-look speckle) with probability ``prob``."""

    def __init__(self, keys: str = 'sar', looks: float = 8.0, prob: float = 0.5):
        super().__init__(keys, single=True)
        self.looks, self.prob = looks, prob

    def transform(self, sample: dict) -> dict:
        if np.random.rand() < self.prob:
            x = np.asarray(sample[self.key], dtype=np.float32)
            noise = np.random.gamma(self.looks, 1.0 / self.looks, size=x.shape)
            sample[self.key] = (x * noise).astype(np.float32)
        return sample

    def __repr__(self) -> str:
        return f'RandomSpeckle(keys={self.keys}, looks={self.looks}, prob={self.prob})'
