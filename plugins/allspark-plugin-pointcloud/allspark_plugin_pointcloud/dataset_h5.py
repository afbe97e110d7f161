"""``ModelNet40H5Dataset``: ModelNet40's standard HDF5 release (``modelnet40_ply_hdf5_2048``).

Layout::

    <data_root>/ply_data_train0.h5 ... ply_data_train4.h5    keys: data (M, 2048, 3) float32,
    <data_root>/ply_data_test0.h5, ply_data_test1.h5               label (M, 1) uint8
    <data_root>/shape_names.txt                               optional: class names (40 lines)

Classes: the 40 ModelNet40 categories (label id = line of ``shape_names.txt``).  Splits: ``train``
(9,843 objects in the full release) and ``test`` (2,468).  Samples are
``{'pointcloud': float32 (num_points, 3), 'gt_label': int, 'path': '<file>[<row>]'}``; clouds are
cut to ``num_points`` (the first ``num_points`` points, as PointNet does) or resampled with
replacement when shorter.

Citation: Wu et al., CVPR 2015 (ModelNet); Qi et al., "PointNet", CVPR 2017 (the HDF5 release).
"""
from __future__ import annotations

import glob
import os

import numpy as np

from allspark.datasets import BaseDataset, DataError
from allspark.registry import DATASETS
from allspark_plugin_pointcloud.io import check_points, fixed_size, read_h5_point_clouds


@DATASETS.register_module()
class ModelNet40H5Dataset(BaseDataset):
    """Args: ``data_root``, ``split``, ``num_points`` (see the module docstring)."""

    MODALITIES = ('pointcloud',)

    def __init__(self, data_root: str = '', split: str = 'train', num_points: int = 1024,
                 **kwargs):
        self.num_points = num_points
        super().__init__(data_root=data_root, split=split, **kwargs)

    def load_samples(self) -> list:
        files = sorted(glob.glob(os.path.join(self.data_root, f'ply_data_{self.split}*.h5')))
        if not files:
            raise DataError(f'ModelNet40H5Dataset: no ply_data_{self.split}*.h5 in '
                            f'{self.data_root}')
        names = os.path.join(self.data_root, 'shape_names.txt')
        self.classes = None
        if os.path.exists(names):
            with open(names) as f:
                self.classes = [line.strip() for line in f if line.strip()]
        self._clouds, samples = [], []
        for path in files:
            data, label = read_h5_point_clouds(path)
            if self.classes is not None and len(label) and label.max() >= len(self.classes):
                raise DataError(f'{path}: field "label": label {int(label.max())} but '
                                f'{names} lists {len(self.classes)} classes')
            for row in range(len(data)):
                samples.append(dict(path=f'{path}[{row}]', gt_label=int(label[row]),
                                    cloud=len(self._clouds)))
                self._clouds.append(data[row])
        return samples

    @property
    def metainfo(self) -> dict:
        return dict(classes=self.classes)

    def get_sample(self, index: int) -> dict:
        record = dict(self.samples[index])
        pts = check_points(self._clouds[record.pop('cloud')], record['path'], 'data')
        record['pointcloud'] = fixed_size(pts[:, :3], self.num_points).astype(np.float32)
        return record
