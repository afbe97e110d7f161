"""Spectral augmentations (NumPy's global generator: seeded and saved with checkpoints).

They run on the raw spectrum, before the model's per-band normalisation."""
import numpy as np

from allspark.datasets.transforms import BaseTransform
from allspark.registry import TRANSFORMS


@TRANSFORMS.register_module()
class SpectralJitter(BaseTransform):
    """Multiply a spectrum ``(bands,)`` by ``1 + U(-scale, scale)`` (illumination) and add
    Gaussian noise of ``noise`` times the spectrum's mean absolute value."""

    def __init__(self, scale: float = 0.05, noise: float = 0.01, keys: str = 'hsi'):
        super().__init__(keys, single=True)
        self.scale, self.noise = scale, noise

    def transform(self, sample: dict) -> dict:
        x = np.asarray(sample[self.key], dtype=np.float32)
        gain = 1.0 + np.random.uniform(-self.scale, self.scale)
        out = x * gain
        if self.noise > 0:
            level = self.noise * float(np.abs(x).mean())
            out = out + np.random.standard_normal(x.shape).astype(np.float32) * level
        sample[self.key] = out.astype(np.float32)
        return sample
