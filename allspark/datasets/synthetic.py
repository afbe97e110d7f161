"""``SyntheticGratingDataset``: the quickstart's data, generated on the fly (no download).

Class ``k`` of ``num_classes`` is a sinusoidal grating oriented at ``k * 180 / num_classes``
degrees, with random phase, random frequency and additive Gaussian noise; each sample is a pure
function of ``(seed, split, index)``, so every run and every worker sees the same data.
"""
from __future__ import annotations

import numpy as np

from allspark.datasets.base import BaseDataset
from allspark.registry import DATASETS

_SPLIT_OFFSET = {'train': 0, 'val': 1_000_003, 'test': 2_000_003}


@DATASETS.register_module()
class SyntheticGratingDataset(BaseDataset):
    """Samples: ``{'image': float32 (1, S, S), 'gt_label': int}``."""

    MODALITIES = ('image',)

    def __init__(self, num_samples: int = 2048, num_classes: int = 8, img_size: int = 32,
                 noise: float = 0.8, seed: int = 0, **kwargs):
        self.num_samples, self.num_classes = num_samples, num_classes
        self.img_size, self.noise, self.seed = img_size, noise, seed
        super().__init__(**kwargs)

    @property
    def metainfo(self) -> dict:
        return dict(classes=[f'{round(k * 180 / self.num_classes)}deg'
                             for k in range(self.num_classes)])

    def load_samples(self) -> list[dict]:
        return [dict(index=i, gt_label=i % self.num_classes) for i in range(self.num_samples)]

    def get_sample(self, index: int) -> dict:
        record = self.samples[index]
        rng = np.random.default_rng(self.seed * 7919 + _SPLIT_OFFSET.get(self.split, 3_000_017)
                                    + record['index'])
        label = record['gt_label']
        angle = np.pi * label / self.num_classes
        freq = rng.uniform(0.15, 0.35)
        phase = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:self.img_size, 0:self.img_size].astype(np.float32)
        wave = np.sin(2 * np.pi * freq * (xx * np.cos(angle) + yy * np.sin(angle)) + phase)
        img = wave + self.noise * rng.standard_normal(wave.shape)
        return dict(image=img[None].astype(np.float32), gt_label=label, index=record['index'])
