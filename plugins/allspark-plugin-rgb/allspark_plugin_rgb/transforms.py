"""RGB scene augmentations on ``(C, H, W)`` arrays (NumPy's global generator: seeded, saved).

The generic raster transforms (``Resize``, ``RandomFlip``, ``RandomRotate90``, ``CenterCrop``,
``ToFloat``) are in the core (``allspark/datasets/transforms.py``).
"""
from __future__ import annotations

from typing import Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F

from allspark.datasets.transforms import BaseTransform
from allspark.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RGBRandomResizedCrop(BaseTransform):
    """Crop a random box covering ``scale`` of the area (aspect ratio in ``ratio``), resize it to
    ``size`` (bilinear): ``(C, H, W) -> (C, size, size)`` float32."""

    def __init__(self, size: Union[int, Sequence[int]], scale=(0.5, 1.0), ratio=(3 / 4, 4 / 3),
                 keys: str = 'rgb'):
        self.size = (size, size) if isinstance(size, int) else tuple(size)
        super().__init__(keys, single=True)
        self.scale, self.ratio = scale, ratio

    def transform(self, sample: dict) -> dict:
        x = np.ascontiguousarray(sample[self.key], dtype=np.float32)
        h, w = x.shape[-2:]
        area = np.random.uniform(*self.scale) * h * w
        aspect = np.exp(np.random.uniform(np.log(self.ratio[0]), np.log(self.ratio[1])))
        ch = int(round(min(h, np.sqrt(area / aspect))))
        cw = int(round(min(w, np.sqrt(area * aspect))))
        top, left = np.random.randint(0, h - ch + 1), np.random.randint(0, w - cw + 1)
        crop = torch.from_numpy(np.ascontiguousarray(x[:, top:top + ch, left:left + cw]))
        sample[self.key] = F.interpolate(crop[None], size=self.size, mode='bilinear',
                                         align_corners=False)[0].numpy()
        return sample


@TRANSFORMS.register_module()
class RGBColorJitter(BaseTransform):
    """Random brightness / contrast factors in ``[1 - b, 1 + b]`` / ``[1 - c, 1 + c]`` (values
    stay in the input's 0-255 range)."""

    def __init__(self, brightness: float = 0.2, contrast: float = 0.2, keys: str = 'rgb'):
        super().__init__(keys, single=True)
        self.brightness, self.contrast = brightness, contrast

    def transform(self, sample: dict) -> dict:
        x = np.asarray(sample[self.key], dtype=np.float32)
        b = 1 + np.random.uniform(-self.brightness, self.brightness)
        c = 1 + np.random.uniform(-self.contrast, self.contrast)
        mean = x.mean()
        sample[self.key] = np.clip((x * b - mean * b) * c + mean * b, 0, 255).astype(np.float32)
        return sample
