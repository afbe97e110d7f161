"""Graph-sample transforms."""
from __future__ import annotations

import numpy as np

from allspark.datasets.transforms import BaseTransform
from allspark.registry import TRANSFORMS


@TRANSFORMS.register_module()
class GraphInputDropout(BaseTransform):
    """Mark a random fraction ``prob`` of the observed readings as missing (set to 0, the
    METR-LA convention), so the model learns to cope with sensor outages.  Training only."""

    def __init__(self, prob: float = 0.02):
        super().__init__('graph')  # the whole graph sample ({'x': (T, N, C), ...})
        self.prob = prob

    def transform(self, sample: dict) -> dict:
        graph = dict(sample['graph'])
        x = graph['x'].copy()
        x[np.random.rand(*x.shape) < self.prob] = 0.0
        graph['x'] = x
        sample['graph'] = graph
        return sample
