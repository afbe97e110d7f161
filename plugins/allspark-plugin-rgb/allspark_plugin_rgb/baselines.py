"""Classic baselines for RGB scene classification (training loop, throughput and confidence
intervals come from the core: ``allspark.baselines`` on ``allspark.benchmarking``).

* ``train_timm_classifier``: a timm CNN (ResNet-18 from scratch) trained with AdamW, linear
  warm-up + cosine decay, random resized crops (one box per batch), flips and 90-degree
  rotations (the augmentations of ``rgb::ucmerced.py``, batched).
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
import torch.nn.functional as F

from allspark.baselines import train_timm_classifier as _train_timm_classifier


def augment_batch(x: torch.Tensor, scale=(0.5, 1.0)) -> torch.Tensor:
    """Random resized crop (one box per batch, ``scale`` of the area), flips and 90-degree
    rotation of a ``(B, C, H, W)`` batch."""
    h, w = x.shape[-2:]
    area = float(torch.empty(()).uniform_(*scale)) * h * w
    ch, cw = min(h, int(round(area ** 0.5))), min(w, int(round(area ** 0.5)))
    top, left = int(torch.randint(h - ch + 1, ())), int(torch.randint(w - cw + 1, ()))
    x = F.interpolate(x[..., top:top + ch, left:left + cw], size=(h, w), mode='bilinear',
                      align_corners=False)
    if torch.rand(()) < 0.5:
        x = x.flip(-1)
    if torch.rand(()) < 0.5:
        x = x.flip(-2)
    return torch.rot90(x, int(torch.randint(4, ())), dims=(-2, -1))


def train_timm_classifier(*args, augment: Optional[Callable] = augment_batch, **kwargs):
    """The core timm baseline (``allspark.baselines.train_timm_classifier``) with this
    modality's augmentation; returns ``(model, train_seconds)``."""
    return _train_timm_classifier(*args, augment=augment, **kwargs)
