"""Signal augmentations (NumPy's global generator: seeded and saved with checkpoints)."""
import numpy as np

from allspark.registry import TRANSFORMS


@TRANSFORMS.register_module()
class RandomTimeShift:
    """Roll the signal by up to ``max_shift`` samples (waveforms have no fixed phase)."""

    def __init__(self, max_shift: int = 16, key: str = 'signal'):
        self.max_shift, self.key = max_shift, key

    def __call__(self, sample: dict) -> dict:
        shift = np.random.randint(-self.max_shift, self.max_shift + 1)
        sample[self.key] = np.roll(sample[self.key], shift, axis=-1)
        return sample
