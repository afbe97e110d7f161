"""``ModelNet40Dataset``: point clouds in class folders, one file per object, any reader format.

Layout (ModelNet40 as distributed, or the per-object ``.npy`` copy in ``shared/data/modelnet40``)::

    <data_root>/[ModelNet40/]<class>/<split>/<name>.<ext>     ext: .npy .off .obj .ply .pcd
                                                                   .xyz .pts .las .laz ...
    <data_root>/<split>_files.txt   optional: the relative paths of this split (one a line)
    <data_root>/shape_names.txt     optional: class names, line index = label id

Classes: the 40 ModelNet40 categories (airplane ... xbox), from ``shape_names.txt`` or else the
sorted class folders.  Splits: ``train`` and ``test`` (the official split; the shared copy keeps
40 training objects per class, 1,600, and up to 25 test objects per class, 910).

Each sample is ``{'pointcloud': float32 (num_points, 3|6), 'gt_label': int, 'path': str}``: the
cloud is read (meshes sampled to ``mesh_points`` points), optionally centred and scaled into the
unit sphere, then brought to exactly ``num_points`` points: larger clouds keep a random subset
(seeded by the sample index outside training, so evaluation is deterministic), smaller ones are
**resampled with replacement** (every original point kept once, the rest drawn with replacement).

Citation: Z. Wu et al., "3D ShapeNets: A Deep Representation for Volumetric Shapes", CVPR 2015.
"""
from __future__ import annotations

import os

import numpy as np

from allspark.datasets import BaseDataset, DataError
from allspark.registry import DATASETS
from allspark_plugin_pointcloud.io import (SUPPORTED_EXTS, fixed_size, normalize_unit_sphere,
                                           read_point_cloud)


@DATASETS.register_module()
class ModelNet40Dataset(BaseDataset):
    """Args:
        data_root: the folder described above.
        split: ``'train'`` or ``'test'``.
        num_points: points per sample (fixed, so clouds batch).
        mesh_points: points sampled on mesh surfaces before ``num_points`` is applied.
        use_normals: keep normals (``(N, 6)`` inputs; the files must have them).
        normalize: centre each cloud and scale it into the unit sphere.
    """

    MODALITIES = ('pointcloud',)

    def __init__(self, data_root: str = '', split: str = 'train', num_points: int = 1024,
                 mesh_points: int = 2048, use_normals: bool = False, normalize: bool = True,
                 **kwargs):
        self.num_points, self.mesh_points = num_points, mesh_points
        self.use_normals, self.normalize = use_normals, normalize
        super().__init__(data_root=data_root, split=split, **kwargs)

    # ------------------------------------------------------------------ listing
    def _class_root(self) -> str:
        nested = os.path.join(self.data_root, 'ModelNet40')
        return nested if os.path.isdir(nested) else self.data_root

    def load_samples(self) -> list:
        if not os.path.isdir(self.data_root):
            raise DataError(f'ModelNet40Dataset: data_root not found: {self.data_root}')
        names_file = os.path.join(self.data_root, 'shape_names.txt')
        root = self._class_root()
        if os.path.exists(names_file):
            with open(names_file) as f:
                self.classes = [line.strip() for line in f if line.strip()]
        else:
            self.classes = sorted(d for d in os.listdir(root)
                                  if os.path.isdir(os.path.join(root, d)))
        if not self.classes:
            raise DataError(f'ModelNet40Dataset: no class folders in {root}')
        list_file = os.path.join(self.data_root, f'{self.split}_files.txt')
        if os.path.exists(list_file):
            with open(list_file) as f:
                rels = [line.strip() for line in f if line.strip()]
            paths = [os.path.join(self.data_root, r) for r in rels]
        else:
            paths = []
            for cls in self.classes:
                folder = os.path.join(root, cls, self.split)
                if os.path.isdir(folder):
                    paths += [os.path.join(folder, n) for n in sorted(os.listdir(folder))
                              if n.lower().endswith(SUPPORTED_EXTS)]
        samples = []
        for path in paths:
            cls = os.path.basename(os.path.dirname(os.path.dirname(path)))
            if cls not in self.classes:
                raise DataError(f'ModelNet40Dataset: {path}: class folder {cls!r} is not one of '
                                f'the {len(self.classes)} classes ({names_file if os.path.exists(names_file) else root})')
            samples.append(dict(path=path, gt_label=self.classes.index(cls)))
        if not samples:
            raise DataError(f'ModelNet40Dataset: no {self.split!r} files under {root} '
                            f'(expected <class>/{self.split}/<name><ext>, ext in {SUPPORTED_EXTS})')
        return samples

    @property
    def metainfo(self) -> dict:
        return dict(classes=self.classes)

    # ------------------------------------------------------------------ reading
    def get_sample(self, index: int) -> dict:
        record = dict(self.samples[index])
        pts = read_point_cloud(record['path'], self.mesh_points, seed=index,
                               use_normals=self.use_normals)
        if self.normalize:
            pts = normalize_unit_sphere(pts)
        rng = None if self.split == 'train' else np.random.default_rng(index)
        if rng is None:  # training: NumPy's global generator (seeded, saved with checkpoints)
            rng = np.random.default_rng(np.random.randint(2 ** 31))
        record['pointcloud'] = fixed_size(pts, self.num_points, rng).astype(np.float32)
        return record
