"""Exact farthest point sampling (FPS) and k-nearest-neighbour grouping, behind one function.

``farthest_point_sample(points, num_samples, start_index=0, backend='auto')`` picks the fastest
*exact* implementation for where the points live:

* ``'open3d'`` (CPU default): Open3D's C++ ``PointCloud.farthest_point_down_sample``, one call per
  cloud.  Open3D returns points, not indices, so each point's index travels through the (otherwise
  unused) normals channel as a float64, which is exact for any index below 2**53.
* ``'torch'`` (GPU default, and the reference): the classic batched loop, ``num_samples`` steps,
  each an argmax over the running minimum squared distance.

Both start from ``start_index`` and take the first maximum on ties, so they choose the same
*set* of centres.  One difference: Open3D hands the chosen points back in ascending index order
(its ``SelectByIndex`` walks the cloud), not in selection order, so ``farthest_point_sample``
returns indices **sorted ascending** from every backend (``ordered=True`` gives the torch loop's
selection order, where the first ``s`` centres are themselves an FPS of size ``s``).  Open3D
computes distances in float64 and the torch loop in the input dtype, so an exact float32 near-tie
could in principle pick a different point: on all 910 ModelNet40 test clouds (1,024 -> 64) the
two backends chose identical sets, and ``tests/test_pointcloud_fps.py`` checks agreement.
"""
from __future__ import annotations

from typing import Optional, Union

import numpy as np
import torch

Array = Union[np.ndarray, torch.Tensor]

BACKENDS = ('auto', 'open3d', 'torch')


def _open3d_available() -> bool:
    try:
        import open3d  # noqa: F401
    except ImportError:  # pragma: no cover - open3d is a declared dependency
        return False
    return True


def choose_backend(device: Union[str, torch.device] = 'cpu') -> str:
    """The fastest exact backend for ``device``: Open3D on CPU, batched torch elsewhere."""
    device = torch.device(device)
    return 'open3d' if device.type == 'cpu' and _open3d_available() else 'torch'


def fps_torch(points: torch.Tensor, num_samples: int, start_index: int = 0) -> torch.Tensor:
    """Reference batched FPS. ``points (B, N, 3) -> indices (B, S)`` (long, same device)."""
    batch, n, _ = points.shape
    idx = torch.empty(batch, num_samples, dtype=torch.long, device=points.device)
    dist = torch.full((batch, n), float('inf'), dtype=points.dtype, device=points.device)
    farthest = torch.full((batch,), start_index, dtype=torch.long, device=points.device)
    rows = torch.arange(batch, device=points.device)
    for i in range(num_samples):
        idx[:, i] = farthest
        centre = points[rows, farthest].unsqueeze(1)  # (B, 1, 3)
        dist = torch.minimum(dist, ((points - centre) ** 2).sum(-1))
        farthest = dist.argmax(-1)
    return idx


def fps_open3d(points: np.ndarray, num_samples: int, start_index: int = 0) -> np.ndarray:
    """Open3D's C++ FPS per cloud. ``points (B, N, 3) -> indices (B, S)`` (int64)."""
    import open3d as o3d

    points = np.asarray(points, dtype=np.float64)
    batch, n, _ = points.shape
    out = np.empty((batch, num_samples), dtype=np.int64)
    carrier = np.zeros((n, 3), dtype=np.float64)
    carrier[:, 0] = np.arange(n)
    normals = o3d.utility.Vector3dVector(carrier)
    for b in range(batch):
        pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(points[b]))
        pcd.normals = normals
        down = pcd.farthest_point_down_sample(num_samples, start_index)
        out[b] = np.asarray(down.normals)[:, 0].astype(np.int64)
    return out


def farthest_point_sample(points: Array, num_samples: int, start_index: int = 0,
                          backend: str = 'auto', ordered: bool = False) -> Array:
    """Exact FPS of ``num_samples`` centres per cloud.

    Args:
        points: ``(B, N, 3)`` or ``(N, 3)`` tensor or array (extra channels after xyz ignored).
        num_samples: ``S <= N`` centres to choose.
        start_index: the first centre (the same for every cloud).
        backend: ``'auto'`` (Open3D on CPU, torch on GPU), ``'open3d'`` or ``'torch'``.
        ordered: return the selection order (forces the torch backend); default: ascending.

    Returns:
        indices ``(B, S)`` (or ``(S,)``) of the same kind as ``points`` (long tensor on the
        points' device, or an int64 array).
    """
    if backend not in BACKENDS:
        raise ValueError(f'farthest_point_sample: backend must be one of {BACKENDS}, '
                         f'got {backend!r}')
    is_tensor = isinstance(points, torch.Tensor)
    single = points.ndim == 2
    if single:
        points = points[None]
    if points.ndim != 3 or points.shape[-1] < 3:
        raise ValueError(f'farthest_point_sample expects (B, N, 3) or (N, 3) points, got '
                         f'{tuple(points.shape)}')
    n = points.shape[1]
    if not 0 < num_samples <= n:
        raise ValueError(f'farthest_point_sample: cannot choose {num_samples} centres from {n} '
                         f'points (resample the cloud first, see resample_points)')
    if not 0 <= start_index < n:
        raise ValueError(f'farthest_point_sample: start_index {start_index} not in [0, {n})')
    xyz = points[..., :3]
    if ordered:
        backend = 'torch'
    elif backend == 'auto':
        backend = choose_backend(xyz.device if is_tensor else 'cpu')
    if backend == 'open3d':
        arr = xyz.detach().cpu().numpy() if is_tensor else np.asarray(xyz)
        idx = fps_open3d(arr, num_samples, start_index)
        result = torch.from_numpy(idx).to(xyz.device) if is_tensor else idx
    else:
        t = xyz.detach() if is_tensor else torch.from_numpy(np.ascontiguousarray(xyz))
        idx = fps_torch(t, num_samples, start_index)
        if not ordered:
            idx = idx.sort(-1).values
        result = idx if is_tensor else idx.numpy()
    return result[0] if single else result


def knn_indices(points: torch.Tensor, centres: torch.Tensor, k: int) -> torch.Tensor:
    """Indices of the ``k`` nearest points of each centre (ascending distance).

    ``points (B, N, 3)``, ``centres (B, G, 3)`` -> ``(B, G, k)`` long."""
    dist = torch.cdist(centres.float(), points.float())  # (B, G, N)
    return dist.topk(k, dim=-1, largest=False).indices


def resample_points(points: Array, num_points: int,
                    generator: Optional[np.random.Generator] = None) -> Array:
    """Policy for clouds with fewer points than needed: keep every point once, then draw the
    missing ``num_points - N`` with replacement.  ``(N, C) -> (num_points, C)`` (or
    ``(B, N, C) -> (B, num_points, C)`` for tensors); clouds that are large enough are returned
    unchanged.  ``generator`` makes the draw reproducible (numpy arrays only)."""
    n = points.shape[-2]
    if n >= num_points:
        return points
    if n == 0:
        raise ValueError('resample_points: the cloud has no points')
    if isinstance(points, torch.Tensor):
        extra = torch.randint(0, n, (num_points - n,), device=points.device)
        idx = torch.cat([torch.arange(n, device=points.device), extra])
        return points[..., idx, :]
    rng = generator if generator is not None else np.random.default_rng()
    idx = np.concatenate([np.arange(n), rng.integers(0, n, num_points - n)])
    return points[..., idx, :]
