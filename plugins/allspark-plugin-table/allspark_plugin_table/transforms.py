"""Table augmentations (NumPy's global generator: seeded and saved with checkpoints)."""
import numpy as np

from allspark.datasets.transforms import BaseTransform
from allspark.registry import TRANSFORMS


@TRANSFORMS.register_module()
class TableColumnDropout(BaseTransform):
    """Replace each column token by that column's *missing* token (index 0) with probability
    ``p``: a masking augmentation that also trains the tokens used for missing inputs.

    ``column_p={column position: p}`` overrides ``p`` for single columns (e.g. absolute time
    in a chronological split, whose test rows all carry the missing token).
    Works on ``sample[key] = {'index': int64 (C,), 'frac': float32 (C,)}``.
    """

    def __init__(self, p: float = 0.1, keys: str = 'table', column_p: dict = None):
        self.column_p = {int(k): float(v) for k, v in (column_p or {}).items()}
        for value in [p, *self.column_p.values()]:
            if not 0.0 <= value < 1.0:
                raise ValueError(f'TableColumnDropout: p must be in [0, 1), got {value}')
        super().__init__(keys, single=True)
        self.p = p

    def transform(self, sample: dict) -> dict:
        if self.p > 0 or self.column_p:
            shape = sample[self.key]['index'].shape
            p = np.full(shape, self.p)
            for col, value in self.column_p.items():
                p[col] = value
            drop = np.random.random_sample(shape) < p
            if drop.any():
                index = sample[self.key]['index'].copy()
                frac = sample[self.key]['frac'].copy()
                index[drop], frac[drop] = 0, 0.0
                sample[self.key] = dict(index=index, frac=frac)
        return sample
