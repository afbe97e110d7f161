"""Generic transforms on a sample dict (arrays ``(C, H, W)`` for rasters).

Random transforms draw from NumPy's global generator, which mmengine seeds and AllSpark's
checkpoints save and restore, so a resumed run draws the same augmentations.
"""
from __future__ import annotations

import functools
from typing import Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F

from allspark.registry import TRANSFORMS


def _pair(size: Union[int, Sequence[int]]) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


class BaseTransform:
    """The one base class of sample transforms, in the core and in every plugin.

    ``keys``: the sample fields the transform reads or rewrites (one name or a list; ``()`` for
    a transform that works on a fixed structure, e.g. a whole graph sample).  ``__call__``
    checks they are all present, naming the missing one and the sample's fields, then calls
    ``transform(sample) -> sample``, which subclasses implement.  ``single=True``: the transform
    works on exactly one field (checked when it is built), available as ``self.key``.  The
    spelling is ``keys=`` everywhere; ``key=`` is refused with a message pointing at ``keys=``.
    """

    def __init__(self, keys: Union[str, Sequence[str]] = (), single: bool = False):
        self.keys = [keys] if isinstance(keys, str) else list(keys)
        if single and len(self.keys) != 1:
            raise ValueError(f'{type(self).__name__}: works on one field; give keys= one name, '
                             f'got {self.keys}')

    @property
    def key(self) -> str:
        """The one field of a single-field transform (``single=True``)."""
        if len(self.keys) != 1:
            raise AttributeError(f'{type(self).__name__} has keys {self.keys}, not one key')
        return self.keys[0]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get('__init__')
        if init is None:
            return

        @functools.wraps(init)
        def checked_init(self, *args, **kw):
            if 'key' in kw:
                raise TypeError(f'{cls.__name__}: the argument is spelt keys= (one name or a '
                                f'list), not key=; got key={kw["key"]!r}')
            init(self, *args, **kw)

        cls.__init__ = checked_init

    def __call__(self, sample: dict) -> dict:
        for key in self.keys:
            if key not in sample:
                raise KeyError(f'{type(self).__name__}: sample has no {key!r} '
                               f'(keys: {sorted(sample)})')
        return self.transform(sample)

    def transform(self, sample: dict) -> dict:
        raise NotImplementedError(f'{type(self).__name__} must implement transform(sample)')

    def __repr__(self) -> str:
        return f'{type(self).__name__}(keys={self.keys})'


_KeyedTransform = BaseTransform  # the old private name


@TRANSFORMS.register_module()
class CenterCrop(BaseTransform):
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
class RandomCrop(BaseTransform):
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
class RandomFlip(BaseTransform):
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
class RandomRotate90(BaseTransform):
    """Rotate by a random multiple of 90 degrees (overhead imagery has no 'up')."""

    def transform(self, sample: dict) -> dict:
        k = np.random.randint(4)
        for key in self.keys:
            sample[key] = np.rot90(sample[key], k, axes=(-2, -1))
        return sample


@TRANSFORMS.register_module()
class Resize(BaseTransform):
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
class ToFloat(BaseTransform):
    """Cast to float32 and optionally scale (``scale=1/255`` for 8-bit images)."""

    def __init__(self, scale: float = 1.0, keys='img'):
        super().__init__(keys)
        self.scale = scale

    def transform(self, sample: dict) -> dict:
        for key in self.keys:
            sample[key] = np.ascontiguousarray(sample[key], dtype=np.float32) * self.scale
        return sample
