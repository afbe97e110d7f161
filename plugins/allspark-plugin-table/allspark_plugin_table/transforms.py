"""Table augmentations (NumPy's global generator: seeded and saved with checkpoints)."""
import numpy as np

from allspark.registry import TRANSFORMS


@TRANSFORMS.register_module()
class TableColumnDropout:
    """Replace each column token by that column's *missing* token (index 0) with probability
    ``p``: a masking augmentation that also trains the tokens used for missing inputs.

    Works on ``sample[key] = {'index': int64 (C,), 'frac': float32 (C,)}``.
    """

    def __init__(self, p: float = 0.1, key: str = 'table'):
        if not 0.0 <= p < 1.0:
            raise ValueError(f'TableColumnDropout: p must be in [0, 1), got {p}')
        self.p, self.key = p, key

    def __call__(self, sample: dict) -> dict:
        if self.p > 0:
            drop = np.random.random_sample(sample[self.key]['index'].shape) < self.p
            if drop.any():
                index = sample[self.key]['index'].copy()
                frac = sample[self.key]['frac'].copy()
                index[drop], frac[drop] = 0, 0.0
                sample[self.key] = dict(index=index, frac=frac)
        return sample
