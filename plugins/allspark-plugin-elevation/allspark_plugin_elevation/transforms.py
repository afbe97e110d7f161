"""Transforms on DEM chips (``(C, H, W)`` arrays, channel order as the dataset's ``channels``).

The core's ``RandomFlip`` / ``RandomRotate90`` with ``keys='elevation'`` flip the grid, but they
do not rotate aspect (a compass direction), so use them only without aspect channels.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from allspark.datasets.transforms import BaseTransform
from allspark.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ElevationRelative(BaseTransform):
    """Subtract the chip's mean valid height from its elevation channel (the relief, not the
    absolute height, becomes the input); the mean is kept in ``mean_elevation``.

    Args:
        channels: the dataset's channel names (to find ``elevation`` and ``mask``).
    """

    def __init__(self, channels: Sequence[str] = ('elevation', 'mask'), keys: str = 'elevation'):
        channels = list(channels)
        if 'elevation' not in channels:
            raise ValueError(f'ElevationRelative: channels {channels} have no elevation')
        super().__init__(keys, single=True)
        self.channels = channels
        self.elev = channels.index('elevation')
        self.mask = channels.index('mask') if 'mask' in channels else None

    def transform(self, sample: dict) -> dict:
        x = np.array(sample[self.key], dtype=np.float32, copy=True)
        valid = x[self.mask] > 0.5 if self.mask is not None else np.ones(x.shape[1:], bool)
        mean = float(x[self.elev][valid].mean()) if valid.any() else 0.0
        x[self.elev] = np.where(valid, x[self.elev] - mean, 0.0)
        sample[self.key], sample['mean_elevation'] = x, mean
        return sample

    def __repr__(self) -> str:
        return f'ElevationRelative(channels={self.channels})'
