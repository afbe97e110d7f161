"""``WaveformCSVDataset``: ``<data_root>/<split>/<class>/<name>.csv``, one value per line.

Classes are the class folders of the training split (sorted); a class folder in another split
that training does not have is an error.  A file that is not one number per line is an error
naming the file and the line.
"""
import os

import numpy as np

from allspark.datasets import BaseDataset, DataError
from allspark.registry import DATASETS


@DATASETS.register_module()
class WaveformCSVDataset(BaseDataset):
    """Samples: ``{'signal': float32 (1, L), 'gt_label': int, 'path': str}``."""

    MODALITIES = ('signal',)

    def load_samples(self) -> list:
        train_dir = os.path.join(self.data_root, 'train')
        split_dir = os.path.join(self.data_root, self.split)
        for folder in (train_dir, split_dir):
            if not os.path.isdir(folder):
                raise DataError(f'WaveformCSVDataset: folder not found: {folder}')
        self.classes = sorted(d for d in os.listdir(train_dir)
                              if os.path.isdir(os.path.join(train_dir, d)))
        samples = []
        for cls in sorted(os.listdir(split_dir)):
            if not os.path.isdir(os.path.join(split_dir, cls)):
                continue
            if cls not in self.classes:
                raise DataError(f'WaveformCSVDataset: class folder {cls!r} in {split_dir} is '
                                f'not in the training split ({self.classes})')
            for name in sorted(os.listdir(os.path.join(split_dir, cls))):
                if name.endswith('.csv'):
                    samples.append(dict(path=os.path.join(split_dir, cls, name),
                                        gt_label=self.classes.index(cls)))
        return samples

    @property
    def metainfo(self) -> dict:
        return dict(classes=self.classes)

    def get_sample(self, index: int) -> dict:
        record = dict(self.samples[index])
        values = []
        with open(record['path']) as f:
            for lineno, line in enumerate(f, 1):
                try:
                    values.append(float(line))
                except ValueError:
                    raise DataError(f'{record["path"]}, line {lineno}: expected one number, '
                                    f'got {line.strip()!r}') from None
        record['signal'] = np.asarray(values, dtype=np.float32)[None]
        return record
