"""Transforms on the ``location`` input, a ``(2,)`` array ``(lat, lon)`` in degrees.

Random draws use NumPy's global generator (seeded by mmengine, saved with AllSpark checkpoints).
"""
from __future__ import annotations

import math

import numpy as np

from allspark.datasets.transforms import BaseTransform
from allspark.geo import EARTH_RADIUS_KM
from allspark.registry import TRANSFORMS


def wrap_latlon(lat: float, lon: float) -> tuple[float, float]:
    """Bring ``(lat, lon)`` back to [-90, 90] x [-180, 180).

    Crossing a pole flips the longitude."""
    lat = (lat + 180.0) % 360.0 - 180.0
    if lat > 90.0:
        lat, lon = 180.0 - lat, lon + 180.0
    elif lat < -90.0:
        lat, lon = -180.0 - lat, lon + 180.0
    lon = (lon + 180.0) % 360.0 - 180.0
    return lat, lon


@TRANSFORMS.register_module()
class CoordinateJitter(BaseTransform):
    """Move the point by Gaussian noise of ``sigma_km`` kilometres (east and north), with
    probability ``prob``; GeoCLIP's GPS augmentation.  The result is wrapped to valid degrees."""

    def __init__(self, keys: str = 'location', sigma_km: float = 1.0, prob: float = 1.0):
        if sigma_km < 0:
            raise ValueError(f'CoordinateJitter: sigma_km must be >= 0, got {sigma_km}')
        super().__init__(keys, single=True)
        self.sigma_km, self.prob = sigma_km, prob

    def transform(self, sample: dict) -> dict:
        if self.sigma_km and np.random.rand() < self.prob:
            lat, lon = (float(v) for v in np.asarray(sample[self.key], dtype=np.float64)[:2])
            north, east = np.random.normal(0.0, self.sigma_km, size=2)
            km_per_deg = math.pi * EARTH_RADIUS_KM / 180.0
            lat_new = lat + north / km_per_deg
            lon_new = lon + east / (km_per_deg * max(math.cos(math.radians(lat)), 1e-6))
            lat_new, lon_new = wrap_latlon(lat_new, lon_new)
            sample[self.key] = np.array([lat_new, lon_new], dtype=np.float32)
        return sample

    def __repr__(self) -> str:
        return f'CoordinateJitter(keys={self.keys}, sigma_km={self.sigma_km}, prob={self.prob})'
