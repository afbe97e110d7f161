"""Classic baselines for multispectral scene classification (training loop, throughput and
confidence intervals come from the core: ``allspark.baselines`` on ``allspark.benchmarking``).

* ``band_stats_features``: per-band mean and standard deviation ``(N, C, H, W) -> (N, 2C)`` for a
  random forest (scikit-learn);
* ``train_timm_classifier``: a timm CNN (ResNet-18 from scratch, ``in_chans`` = bands) trained
  with AdamW + cosine schedule and the same flips / 90-degree rotations as the AllSpark config.
"""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import torch

from allspark.baselines import train_timm_classifier as _train_timm_classifier


def band_stats_features(x: np.ndarray) -> np.ndarray:
    """``(N, C, H, W)`` -> ``(N, 2C)``: per-band mean, then per-band std."""
    flat = x.reshape(x.shape[0], x.shape[1], -1).astype(np.float64)
    return np.concatenate([flat.mean(-1), flat.std(-1)], axis=1)


def augment_batch(x: torch.Tensor) -> torch.Tensor:
    """Random horizontal / vertical flips and 90-degree rotation of a ``(B, C, H, W)`` batch."""
    if torch.rand(()) < 0.5:
        x = x.flip(-1)
    if torch.rand(()) < 0.5:
        x = x.flip(-2)
    return torch.rot90(x, int(torch.randint(4, ())), dims=(-2, -1))


def train_timm_classifier(*args, augment: Optional[Callable] = augment_batch, **kwargs):
    """The core timm baseline (``allspark.baselines.train_timm_classifier``) with this
    modality's augmentation; returns ``(model, train_seconds)``."""
    return _train_timm_classifier(*args, augment=augment, **kwargs)
