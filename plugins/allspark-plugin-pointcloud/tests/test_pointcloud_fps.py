"""Exact FPS: Open3D and the torch reference choose the same centres; grouping and its cache."""
import numpy as np
import pytest
import torch

from allspark_plugin_pointcloud.encoder import PointGrouper, PointTransformerEncoder
from allspark_plugin_pointcloud.fps import (
    choose_backend,
    farthest_point_sample,
    fps_torch,
    resample_points,
)


def brute_force_fps(points: np.ndarray, s: int, start: int = 0) -> list:
    """The textbook definition, in float64 NumPy, one point at a time."""
    chosen = [start]
    dist = ((points - points[start]) ** 2).sum(1)
    for _ in range(s - 1):
        nxt = int(np.argmax(dist))
        chosen.append(nxt)
        dist = np.minimum(dist, ((points - points[nxt]) ** 2).sum(1))
    return chosen


def test_backends_agree_with_reference():
    rng = np.random.default_rng(0)
    clouds = rng.standard_normal((6, 500, 3)).astype(np.float32)
    o3d_idx = farthest_point_sample(clouds, 32, backend='open3d')
    torch_idx = farthest_point_sample(torch.from_numpy(clouds), 32, backend='torch')
    np.testing.assert_array_equal(o3d_idx, torch_idx.numpy())
    for b in range(6):
        ref = brute_force_fps(clouds[b].astype(np.float64), 32)
        np.testing.assert_array_equal(o3d_idx[b], np.sort(ref))
        ordered = farthest_point_sample(torch.from_numpy(clouds[b]), 32, ordered=True)
        assert ordered.tolist() == ref  # selection order, starting at start_index
    # another start point
    idx = farthest_point_sample(clouds, 16, start_index=7, backend='open3d')
    ref = fps_torch(torch.from_numpy(clouds), 16, start_index=7).sort(-1).values.numpy()
    np.testing.assert_array_equal(idx, ref)
    assert (idx == 7).any(1).all()


def test_auto_backend_and_errors():
    assert choose_backend('cpu') == 'open3d'
    assert choose_backend('cuda') == 'torch'
    pts = torch.rand(2, 10, 3)
    assert farthest_point_sample(pts, 4).shape == (2, 4)
    assert farthest_point_sample(pts[0], 4).shape == (4,)
    with pytest.raises(ValueError, match='cannot choose 11 centres from 10'):
        farthest_point_sample(pts, 11)
    with pytest.raises(ValueError, match='backend'):
        farthest_point_sample(pts, 4, backend='cuda')


def test_resample_with_replacement_policy():
    pts = torch.rand(2, 5, 3)
    out = resample_points(pts, 12)
    assert out.shape == (2, 12, 3)
    assert torch.equal(out[:, :5], pts)
    assert resample_points(pts, 3) is pts  # large enough: unchanged


def test_grouper_small_cloud_and_cache():
    grouper = PointGrouper(num_groups=8, group_size=6).eval()
    small = torch.rand(3, 5, 3)  # fewer points than max(G, k) = 8: resampled with replacement
    groups, centres = grouper(small)
    assert groups.shape == (3, 8, 6, 3) and centres.shape == (3, 8, 3)
    clouds = torch.rand(4, 64, 3)
    g1, c1 = grouper(clouds)
    misses = grouper.cache_misses
    g2, c2 = grouper(clouds)
    assert grouper.cache_misses == misses and grouper.cache_hits >= 4  # second pass: cached
    assert torch.equal(g1, g2) and torch.equal(c1, c2)
    # groups are the k nearest neighbours, relative to their centre
    d = torch.cdist(c1, clouds)
    assert torch.allclose(g1.norm(dim=-1).max(-1).values, d.topk(6, largest=False).values[..., -1],
                          atol=1e-5)
    grouper.train()  # training never uses (or fills) the cache
    hits = grouper.cache_hits
    grouper(clouds)
    assert grouper.cache_hits == hits


def test_encoder_shapes():
    enc = PointTransformerEncoder(num_groups=8, group_size=8, embed_dim=32, depth=1, num_heads=2,
                                  mini_channels=(8, 16, 32))
    out = enc(torch.rand(2, 100, 3))
    assert out.shape == (2, 9, 32) and enc.out_dim == 32
    with pytest.raises(ValueError, match=r'expects points \(B, N, 3\)'):
        enc(torch.rand(2, 100, 6))
