"""Generic transforms on a sample dict (arrays ``(C, H, W)`` for rasters).

Random transforms draw from NumPy's global generator, which mmengine seeds and AllSpark's
checkpoints save and restore, so a resumed run draws the same augmentations.
"""
from __future__ import annotations

from typing import Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F

from allspark.registry import TRANSFORMS


def _pair(size: Union[int, Sequence[int]]) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


class _KeyedTransform:
    def __init__(self, keys: Union[str, Sequence[str]]):
        self.keys = [keys] if isinstance(keys, str) else list(keys)

    def __call__(self, sample: dict) -> dict:
        for key in self.keys:
            if key not in sample:
                raise KeyError(f'{type(self).__name__}: sample has no {key!r} '
                               f'(keys: {sorted(sample)})')
        return self.transform(sample)

    def transform(self, sample: dict) -> dict:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f'{type(self).__name__}(keys={self.keys})'


@TRANSFORMS.register_module()
class CenterCrop(_KeyedTransform):
    """Crop the centre ``size`` of ``(C, H, W)`` arrays (smaller inputs are zero-padded)."""

    def __init__(self, size, keys='img'):
        super().__init__(keys)
        self.size = _pair(size)

    def transform(self, sample: dict) -> dict:
        th, tw = self.size
        for key in self.keys:
            x = sample[key]
            h, w = x.shape[-2:]
            if h < th or w < tw:
                ph, pw = max(th - h, 0), max(tw - w, 0)
                x = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(ph // 2, ph - ph // 2),
                                                           (pw // 2, pw - pw // 2)])
                h, w = x.shape[-2:]
            top, left = (h - th) // 2, (w - tw) // 2
            sample[key] = x[..., top:top + th, left:left + tw]
        return sample


@TRANSFORMS.register_module()
class RandomCrop(_KeyedTransform):
    """Random ``size`` crop, after optional zero ``padding`` on every side."""

    def __init__(self, size, padding: int = 0, keys='img'):
        super().__init__(keys)
        self.size, self.padding = _pair(size), padding

    def transform(self, sample: dict) -> dict:
        th, tw = self.size
        first = sample[self.keys[0]]
        h, w = first.shape[-2] + 2 * self.padding, first.shape[-1] + 2 * self.padding
        if h < th or w < tw:
            raise ValueError(f'RandomCrop: input {first.shape[-2:]} (+padding) smaller than '
                             f'{self.size}')
        top, left = np.random.randint(0, h - th + 1), np.random.randint(0, w - tw + 1)
        for key in self.keys:
            x = sample[key]
            if self.padding:
                p = self.padding
                x = np.pad(x, [(0, 0)] * (x.ndim - 2) + [(p, p), (p, p)])
            sample[key] = x[..., top:top + th, left:left + tw]
        return sample


@TRANSFORMS.register_module()
class RandomFlip(_KeyedTransform):
    """Flip horizontally and/or vertically, each with probability ``prob``."""

    def __init__(self, prob: float = 0.5, directions=('horizontal',), keys='img'):
        super().__init__(keys)
        self.prob, self.directions = prob, list(directions)

    def transform(self, sample: dict) -> dict:
        for direction in self.directions:
            if np.random.rand() < self.prob:
                axis = -1 if direction == 'horizontal' else -2
                for key in self.keys:
                    sample[key] = np.flip(sample[key], axis=axis)
        return sample


@TRANSFORMS.register_module()
class RandomRotate90(_KeyedTransform):
    """Rotate by a random multiple of 90 degrees (overhead imagery has no 'up')."""

    def transform(self, sample: dict) -> dict:
        k = np.random.randint(4)
        for key in self.keys:
            sample[key] = np.rot90(sample[key], k, axes=(-2, -1))
        return sample


@TRANSFORMS.register_module()
class Resize(_KeyedTransform):
    """Bilinear resize of ``(C, H, W)`` arrays to ``size``."""

    def __init__(self, size, keys='img'):
        super().__init__(keys)
        self.size = _pair(size)

    def transform(self, sample: dict) -> dict:
        for key in self.keys:
            x = torch.from_numpy(np.ascontiguousarray(sample[key], dtype=np.float32))
            x = F.interpolate(x[None], size=self.size, mode='bilinear', align_corners=False)[0]
            sample[key] = x.numpy()
        return sample


@TRANSFORMS.register_module()
class ToFloat(_KeyedTransform):
    """Cast to float32 and optionally scale (``scale=1/255`` for 8-bit images)."""

    def __init__(self, scale: float = 1.0, keys='img'):
        super().__init__(keys)
        self.scale = scale

    def transform(self, sample: dict) -> dict:
        for key in self.keys:
            sample[key] = np.ascontiguousarray(sample[key], dtype=np.float32) * self.scale
        return sample
