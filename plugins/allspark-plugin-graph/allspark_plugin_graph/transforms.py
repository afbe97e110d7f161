"""Graph-sample transforms."""
from __future__ import annotations

import numpy as np

from allspark.registry import TRANSFORMS


@TRANSFORMS.register_module()
class GraphInputDropout:
    """Mark a random fraction ``prob`` of the observed readings as missing (set to 0, the
    METR-LA convention), so the model learns to cope with sensor outages.  Training only."""

    def __init__(self, prob: float = 0.02):
        self.prob = prob

    def __call__(self, sample: dict) -> dict:
        graph = dict(sample['graph'])
        x = graph['x'].copy()
        x[np.random.rand(*x.shape) < self.prob] = 0.0
        graph['x'] = x
        sample['graph'] = graph
        return sample
