"""``ModelNet40Dataset``: point clouds in class folders, one file per object, any reader format.

Layout (ModelNet40 as distributed, or the per-object ``.npy`` copy in ``shared/data/modelnet40``)::

    <data_root>/[ModelNet40/]<class>/<split>/<name>.<ext>     ext: .npy .off .obj .ply .pcd
                                                                   .xyz .pts .las .laz ...
    <data_root>/<split>_files.txt   optional: the relative paths of this split (one a line)
    <data_root>/shape_names.txt     optional: class names, line index = label id

Classes: the 40 ModelNet40 categories (airplane ... xbox), from ``shape_names.txt`` or else the
sorted class folders.  Splits: ``train`` and ``test`` (the official split; the shared copy keeps
40 training objects per class, 1,600, and up to 25 test objects per class, 910).

Few-shot split (``metainfo['base_classes']`` / ``['novel_classes']``, fixed here because
ModelNet40 has none upstream): the **novel** classes are every fourth class of the sorted 40,
starting with the fourth (indices 3, 7, ..., 39): bench, car, curtain, flower_pot, lamp,
night_stand, radio, stairs, toilet, xbox; the other 30 are **base** classes.  ``split='all'``
lists train and test objects together (few-shot pools); ``classes=`` keeps a subset (labels
then index that subset, e.g. the 30 base classes for base training).

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
from allspark_plugin_pointcloud.io import (
    SUPPORTED_EXTS,
    fixed_size,
    normalize_unit_sphere,
    read_point_cloud,
)


@DATASETS.register_module()
class ModelNet40Dataset(BaseDataset):
    """Args:
        data_root: the folder described above.
        split: ``'train'``, ``'test'`` or ``'all'`` (both).
        num_points: points per sample (fixed, so clouds batch).
        mesh_points: points sampled on mesh surfaces before ``num_points`` is applied.
        use_normals: keep normals (``(N, 6)`` inputs; the files must have them).
        normalize: centre each cloud and scale it into the unit sphere.
        classes: keep only these classes (e.g. the 30 base classes); labels index this list in
            ModelNet40's order.  ``None``: all.
    """

    MODALITIES = ('pointcloud',)
    NOVEL_CLASSES = ('bench', 'car', 'curtain', 'flower_pot', 'lamp', 'night_stand', 'radio',
                     'stairs', 'toilet', 'xbox')

    def __init__(self, data_root: str = '', split: str = 'train', num_points: int = 1024,
                 mesh_points: int = 2048, use_normals: bool = False, normalize: bool = True,
                 classes=None, **kwargs):
        self.num_points, self.mesh_points = num_points, mesh_points
        self.use_normals, self.normalize = use_normals, normalize
        self.class_subset = list(classes) if classes else None
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
        self.all_classes = list(self.classes)
        paths = []
        for split in (('train', 'test') if self.split == 'all' else (self.split,)):
            paths += self._split_paths(root, split)
        if self.class_subset:
            unknown = [c for c in self.class_subset if c not in self.classes]
            if unknown:
                raise DataError(f'ModelNet40Dataset: classes {unknown} are not among the '
                                f'{len(self.classes)} classes of {self.data_root}: '
                                f'{self.classes}')
            self.classes = [c for c in self.classes if c in self.class_subset]
            paths = [p for p in paths
                     if os.path.basename(os.path.dirname(os.path.dirname(p))) in self.classes]
        samples = []
        for path in paths:
            cls = os.path.basename(os.path.dirname(os.path.dirname(path)))
            if cls not in self.classes:
                raise DataError(f'ModelNet40Dataset: {path}: class folder {cls!r} is not one of '
                                f'the {len(self.classes)} classes '
                                f'({names_file if os.path.exists(names_file) else root})')
            samples.append(dict(path=path, gt_label=self.classes.index(cls)))
        if not samples:
            raise DataError(f'ModelNet40Dataset: no {self.split!r} files under {root} '
                            f'(expected <class>/{self.split}/<name><ext>, ext in {SUPPORTED_EXTS})')
        return samples

    def _split_paths(self, root: str, split: str) -> list:
        list_file = os.path.join(self.data_root, f'{split}_files.txt')
        if os.path.exists(list_file):
            with open(list_file) as f:
                return [os.path.join(self.data_root, line.strip()) for line in f if line.strip()]
        paths = []
        for cls in self.classes:
            folder = os.path.join(root, cls, split)
            if os.path.isdir(folder):
                paths += [os.path.join(folder, n) for n in sorted(os.listdir(folder))
                          if n.lower().endswith(SUPPORTED_EXTS)]
        return paths

    @property
    def metainfo(self) -> dict:
        novel = [c for c in self.NOVEL_CLASSES if c in self.all_classes]
        return dict(classes=self.classes, novel_classes=novel,
                    base_classes=[c for c in self.all_classes if c not in novel],
                    class_texts={c: c.replace('_', ' ') for c in self.all_classes})

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
