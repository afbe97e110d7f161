"""Point cloud readers: one entry point, ``read_point_cloud(path)``, for every supported format.

=====================  =========================================================================
extension              how it is read
=====================  =========================================================================
``.npy``               ``np.load``: ``(N, 3)`` xyz or ``(N, 6)`` xyz + normals (float)
``.h5``/``.hdf5``      ModelNet40's HDF5 release (``ply_data_*.h5``): ``read_h5_point_clouds``
                       gives all clouds ``data (M, N, 3)`` and labels ``label (M,)`` (h5py)
``.pcd``, ``.xyz``,    ``open3d.io.read_point_cloud`` (``.xyz``/``.pts``: ``x y z`` per line,
``.pts``, ``.xyzn``    ``.xyzn``: ``x y z nx ny nz``)
``.ply``               a mesh when the file has faces (sampled, see below), otherwise points
                       (binary PLY is read too; the face check parses ASCII headers)
``.off``, ``.obj``,    ``open3d.io.read_triangle_mesh``, then ``sample_points_uniformly`` (area-
``.stl``, ``.gltf``    weighted, seeded) to ``mesh_points`` points
``.las``, ``.laz``     ``laspy`` (``.laz`` through the ``lazrs`` backend): scaled ``x y z``
=====================  =========================================================================

Bad input raises :class:`allspark.datasets.DataError` naming the file, the field and what was
expected: unreadable or unknown files, empty clouds, clouds whose points are all NaN/inf (clouds
with *some* non-finite points lose those points), and meshes without faces.
"""
from __future__ import annotations

import os
from typing import Optional

import numpy as np

from allspark.datasets import DataError
from allspark.datasets.validation import check_integer_labels, check_path, check_values, load_npy

POINT_EXTS = ('.pcd', '.xyz', '.xyzn', '.xyzrgb', '.pts')
MESH_EXTS = ('.off', '.obj', '.stl', '.gltf', '.glb')
LAS_EXTS = ('.las', '.laz')
H5_EXTS = ('.h5', '.hdf5')
SUPPORTED_EXTS = ('.npy', '.ply') + POINT_EXTS + MESH_EXTS + LAS_EXTS


def _ext(path: str) -> str:
    return os.path.splitext(path)[1].lower()


def check_points(points: np.ndarray, path: str, field: str = 'points') -> np.ndarray:
    """Validate a ``(N, C>=3)`` cloud: drop rows with a non-finite value; error if none is left."""
    points = np.asarray(points)
    if points.ndim != 2 or points.shape[1] < 3:
        raise DataError(f'{path}: field {field!r}: expected an (N, 3) or (N, 6) array of points, '
                        f'got shape {points.shape}')
    if points.shape[0] == 0:
        raise DataError(f'{path}: field {field!r}: the point cloud is empty (0 points); expected '
                        f'at least 1 point')
    if not np.issubdtype(points.dtype, np.number):
        raise DataError(f'{path}: field {field!r}: expected numbers, got dtype {points.dtype}')
    finite = np.isfinite(points).all(1)
    if not finite.any():
        raise DataError(f'{path}: field {field!r}: all {len(points)} points are NaN/inf; '
                        f'expected finite coordinates')
    # 1e30 is finite in float64 but not in float32 (the model would see inf / zeros after
    # normalisation): refuse coordinates outside the declared range
    check_values(points[finite][:, :3], path, field, 'coordinates', where='(point, axis)')
    return np.ascontiguousarray(points[finite], dtype=np.float32)


def read_npy(path: str) -> np.ndarray:
    arr = load_npy(path)  # header checked first: empty files, TiB shapes, truncation
    return check_points(arr, path, 'array')


def _open3d_points(path: str) -> np.ndarray:
    import open3d as o3d

    pcd = o3d.io.read_point_cloud(path)
    pts = np.asarray(pcd.points)
    if pcd.has_normals() and len(pcd.normals) == len(pts):
        pts = np.concatenate([pts, np.asarray(pcd.normals)], 1)
    return check_points(pts, path, 'points')


def _text_mesh_counts(path: str) -> tuple[Optional[int], Optional[int]]:
    """(vertices, faces) declared by a text OFF/OBJ/PLY file, or None where unknown (Open3D
    returns an empty mesh both for unreadable files and for meshes without faces)."""
    ext = _ext(path)
    try:
        with open(path, 'r', errors='replace') as f:
            if ext == '.off':
                lines = [ln.split('#')[0].strip() for ln in f]
                lines = [ln for ln in lines if ln]
                head = lines[0][3:].split() if lines and lines[0].startswith('OFF') else []
                counts = head if head else (lines[1].split() if len(lines) > 1 else [])
                return int(counts[0]), int(counts[1])
            if ext == '.obj':
                verts = faces = 0
                for ln in f:
                    verts += ln.startswith('v ')
                    faces += ln.startswith('f ')
                return verts, faces
            if ext == '.ply':
                verts = faces = None
                for ln in f:
                    parts = ln.split()
                    if parts[:2] == ['element', 'vertex']:
                        verts = int(parts[2])
                    elif parts[:2] == ['element', 'face']:
                        faces = int(parts[2])
                    elif parts[:1] == ['end_header']:
                        break
                return verts, (faces or 0) if verts is not None else None
    except (OSError, ValueError, IndexError):
        pass
    return None, None


def _sample_mesh(mesh, path: str, mesh_points: int, seed: int) -> np.ndarray:
    import open3d as o3d

    if len(mesh.triangles) == 0:
        verts, faces = _text_mesh_counts(path)
        if faces == 0:
            raise DataError(f'{path}: field "faces": the mesh has {verts} vertices but no faces; '
                            f'expected triangular faces to sample points from')
        raise DataError(f'{path}: field "faces": Open3D read no faces ({len(mesh.vertices)} '
                        f'vertices); expected a readable mesh with triangular faces')
    verts = np.asarray(mesh.vertices)
    if not np.isfinite(verts).all():
        raise DataError(f'{path}: field "vertices": non-finite vertex coordinates (NaN/inf)')
    o3d.utility.random.seed(seed)
    pcd = mesh.sample_points_uniformly(number_of_points=mesh_points)
    return check_points(np.asarray(pcd.points), path, 'sampled points')


def read_mesh_points(path: str, mesh_points: int = 1024, seed: int = 0) -> np.ndarray:
    """Read a mesh with Open3D and sample ``mesh_points`` points on its surface."""
    import open3d as o3d

    mesh = o3d.io.read_triangle_mesh(path)
    return _sample_mesh(mesh, path, mesh_points, seed)


def read_ply(path: str, mesh_points: int = 1024, seed: int = 0) -> np.ndarray:
    """``.ply`` holds either a mesh (faces present: sampled) or bare points."""
    import open3d as o3d

    mesh = o3d.io.read_triangle_mesh(path)
    if len(mesh.triangles):
        return _sample_mesh(mesh, path, mesh_points, seed)
    verts, faces = _text_mesh_counts(path)
    if faces is not None and faces > 0:  # declares faces Open3D could not read
        return _sample_mesh(mesh, path, mesh_points, seed)
    return _open3d_points(path)


def read_las(path: str) -> np.ndarray:
    """Airborne LiDAR (``.las``/``.laz``): scaled ``x, y, z`` in the file's coordinate system."""
    import laspy

    try:
        las = laspy.read(path)
    except Exception as exc:  # laspy raises its own error types
        raise DataError(f'{path}: not a readable LAS/LAZ file ({type(exc).__name__}: {exc})') \
            from None
    pts = np.stack([np.asarray(las.x), np.asarray(las.y), np.asarray(las.z)], 1)
    return check_points(pts, path, 'x/y/z')


def read_point_cloud(path: str, mesh_points: int = 1024, seed: int = 0,
                     use_normals: bool = False) -> np.ndarray:
    """Read one cloud ``(N, 3)`` (``(N, 6)`` with ``use_normals`` when the file has normals).

    Meshes are sampled to ``mesh_points`` points (seeded by ``seed``)."""
    if os.path.islink(path):
        check_path(path)  # a symlink loop / dangling link is named as such
    if not os.path.isfile(path):
        raise DataError(f'{path}: file not found')
    ext = _ext(path)
    if ext == '.npy':
        pts = read_npy(path)
    elif ext == '.ply':
        pts = read_ply(path, mesh_points, seed)
    elif ext in POINT_EXTS:
        pts = _open3d_points(path)
    elif ext in MESH_EXTS:
        pts = read_mesh_points(path, mesh_points, seed)
    elif ext in LAS_EXTS:
        pts = read_las(path)
    else:
        raise DataError(f'{path}: unsupported point cloud format {ext!r}; expected one of '
                        f'{SUPPORTED_EXTS} (or .h5 through read_h5_point_clouds)')
    if not use_normals:
        pts = pts[:, :3]
    elif pts.shape[1] < 6:
        raise DataError(f'{path}: use_normals=True but the file has only {pts.shape[1]} '
                        f'channels; expected 6 (x, y, z, nx, ny, nz)')
    return np.ascontiguousarray(pts[:, :6])


def read_h5_point_clouds(path: str, data_key: str = 'data',
                         label_key: str = 'label') -> tuple[np.ndarray, np.ndarray]:
    """ModelNet40's HDF5 release: ``data (M, N, 3)`` float, ``label (M,)`` or ``(M, 1)`` int."""
    import h5py

    try:
        f = h5py.File(path, 'r')
    except OSError as exc:
        raise DataError(f'{path}: not a readable HDF5 file ({exc})') from None
    with f:
        for key in (data_key, label_key):
            if key not in f:
                raise DataError(f'{path}: missing dataset {key!r}; expected keys '
                                f'{data_key!r} and {label_key!r} (found {sorted(f.keys())})')
        data = np.asarray(f[data_key])
        label = check_integer_labels(np.asarray(f[label_key]).reshape(-1), path, label_key)
    if data.ndim != 3 or data.shape[-1] < 3:
        raise DataError(f'{path}: field {data_key!r}: expected (M, N, 3) clouds, got {data.shape}')
    if len(label) != len(data):
        raise DataError(f'{path}: field {label_key!r}: {len(label)} labels for {len(data)} clouds')
    return data.astype(np.float32), label


def normalize_unit_sphere(points: np.ndarray) -> np.ndarray:
    """Centre on the centroid and scale xyz into the unit sphere (normals untouched)."""
    out = points.copy()
    xyz = out[:, :3] - out[:, :3].mean(0)
    scale = np.sqrt((xyz ** 2).sum(1)).max()
    out[:, :3] = xyz / scale if scale > 0 else xyz
    return out


def fixed_size(points: np.ndarray, num_points: int,
               rng: Optional[np.random.Generator] = None) -> np.ndarray:
    """Bring a cloud to exactly ``num_points``: larger clouds keep a random subset without
    replacement (the first ``num_points`` when ``rng`` is None), smaller ones are resampled with
    replacement (:func:`~allspark_plugin_pointcloud.fps.resample_points`)."""
    from allspark_plugin_pointcloud.fps import resample_points

    n = len(points)
    if n > num_points:
        idx = np.arange(num_points) if rng is None else np.sort(
            rng.choice(n, num_points, replace=False))
        return points[idx]
    return resample_points(points, num_points, rng if rng is not None else
                           np.random.default_rng(0))
