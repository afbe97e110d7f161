"""Tiny point cloud fixtures in every supported file format (written into ``tmp_path``)."""
from __future__ import annotations

import os

import numpy as np

CLASSES = ('box', 'sphere', 'plane')


def shape_points(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """A box surface, a sphere or a flat plane: ``(n, 3)`` float32 in the unit sphere."""
    if kind == 'sphere':
        p = rng.standard_normal((n, 3))
        p /= np.linalg.norm(p, axis=1, keepdims=True)
    elif kind == 'plane':
        p = np.c_[rng.uniform(-1, 1, (n, 2)), 0.02 * rng.standard_normal(n)]
    else:
        p = rng.uniform(-1, 1, (n, 3))
        axis = rng.integers(0, 3, n)
        p[np.arange(n), axis] = rng.choice([-1.0, 1.0], n)
    return (0.5 * p).astype(np.float32)


def write_modelnet_npy(root: str, per_class: int = 3, n: int = 256, seed: int = 0,
                       with_index: bool = True) -> str:
    """``<root>/ModelNet40/<class>/<split>/<class>_<i>.npy`` + index files, like shared/data."""
    rng = np.random.default_rng(seed)
    lists = {'train': [], 'test': []}
    for split in ('train', 'test'):
        for cls in CLASSES:
            folder = os.path.join(root, 'ModelNet40', cls, split)
            os.makedirs(folder, exist_ok=True)
            for i in range(per_class):
                rel = os.path.join('ModelNet40', cls, split, f'{cls}_{i:04d}.npy')
                np.save(os.path.join(root, rel), shape_points(cls, n, rng))
                lists[split].append(rel)
    if with_index:
        with open(os.path.join(root, 'shape_names.txt'), 'w') as f:
            f.write('\n'.join(CLASSES) + '\n')
        for split, rels in lists.items():
            with open(os.path.join(root, f'{split}_files.txt'), 'w') as f:
                f.write('\n'.join(rels) + '\n')
    return root


def write_h5(root: str, n: int = 128, per_file: int = 6, seed: int = 0) -> str:
    import h5py

    rng = np.random.default_rng(seed)
    os.makedirs(root, exist_ok=True)
    for split in ('train', 'test'):
        labels = np.arange(per_file) % len(CLASSES)
        data = np.stack([shape_points(CLASSES[c], n, rng) for c in labels])
        with h5py.File(os.path.join(root, f'ply_data_{split}0.h5'), 'w') as f:
            f['data'] = data
            f['label'] = labels.astype(np.uint8)[:, None]
    with open(os.path.join(root, 'shape_names.txt'), 'w') as f:
        f.write('\n'.join(CLASSES) + '\n')
    return root


def box_mesh():
    import open3d as o3d

    mesh = o3d.geometry.TriangleMesh.create_box(1.0, 2.0, 0.5)
    return mesh


def write_las(path: str, points: np.ndarray) -> str:
    import laspy

    header = laspy.LasHeader(point_format=3, version='1.2')
    header.offsets = points.min(0)
    header.scales = np.array([0.001, 0.001, 0.001])
    las = laspy.LasData(header)
    las.x, las.y, las.z = points[:, 0], points[:, 1], points[:, 2]
    las.write(path)
    return path
