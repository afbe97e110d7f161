"""Readers: every supported format from a tiny fixture, and every bad-input case."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pointcloud_fixtures import box_mesh, shape_points, write_h5, write_las  # noqa: E402

from allspark.datasets import DataError  # noqa: E402
from allspark_plugin_pointcloud.io import (  # noqa: E402
    fixed_size,
    normalize_unit_sphere,
    read_h5_point_clouds,
    read_point_cloud,
)

RNG = np.random.default_rng(0)
PTS = shape_points('sphere', 200, RNG).astype(np.float64)


def test_npy_xyz_and_normals(tmp_path):
    np.save(tmp_path / 'a.npy', PTS.astype(np.float32))
    out = read_point_cloud(str(tmp_path / 'a.npy'))
    assert out.shape == (200, 3) and out.dtype == np.float32
    normals = np.c_[PTS, PTS / np.linalg.norm(PTS, axis=1, keepdims=True)]
    np.save(tmp_path / 'b.npy', normals)
    assert read_point_cloud(str(tmp_path / 'b.npy')).shape == (200, 3)
    assert read_point_cloud(str(tmp_path / 'b.npy'), use_normals=True).shape == (200, 6)
    with pytest.raises(DataError, match='a.npy.*expected 6'):
        read_point_cloud(str(tmp_path / 'a.npy'), use_normals=True)


def test_h5_release(tmp_path):
    root = write_h5(str(tmp_path / 'h5'))
    data, label = read_h5_point_clouds(os.path.join(root, 'ply_data_train0.h5'))
    assert data.shape == (6, 128, 3) and label.tolist() == [0, 1, 2, 0, 1, 2]
    import h5py
    with h5py.File(tmp_path / 'bad.h5', 'w') as f:
        f['points'] = np.zeros((2, 4, 3))
    with pytest.raises(DataError, match="bad.h5: missing dataset 'data'"):
        read_h5_point_clouds(str(tmp_path / 'bad.h5'))


@pytest.mark.parametrize('ext', ['.ply', '.pcd', '.xyz', '.pts'])
def test_open3d_point_files(tmp_path, ext):
    import open3d as o3d

    path = str(tmp_path / f'cloud{ext}')
    pcd = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(PTS))
    assert o3d.io.write_point_cloud(path, pcd, write_ascii=True)
    out = read_point_cloud(path)
    assert out.shape == (200, 3)
    np.testing.assert_allclose(out, PTS, atol=1e-4)


@pytest.mark.parametrize('ext', ['.off', '.obj', '.ply'])
def test_meshes_are_sampled(tmp_path, ext):
    import open3d as o3d

    path = str(tmp_path / f'box{ext}')
    assert o3d.io.write_triangle_mesh(path, box_mesh(), write_ascii=True)
    out = read_point_cloud(path, mesh_points=300)
    assert out.shape == (300, 3)
    # points lie on the 1 x 2 x 0.5 box
    assert out.min() >= -1e-6 and (out.max(0) <= np.array([1, 2, 0.5]) + 1e-6).all()
    np.testing.assert_array_equal(out, read_point_cloud(path, mesh_points=300))  # seeded


@pytest.mark.parametrize('ext', ['.las', '.laz'])
def test_las_laz(tmp_path, ext):
    pts = PTS * 100 + np.array([500000.0, 4200000.0, 50.0])  # airborne-LiDAR-like coordinates
    path = write_las(str(tmp_path / f'tile{ext}'), pts)
    out = read_point_cloud(path)
    assert out.shape == (200, 3)
    np.testing.assert_allclose(out.astype(np.float64), pts, atol=0.5)  # float32 of UTM metres
    sphere = normalize_unit_sphere(out)
    assert np.isclose(np.linalg.norm(sphere, axis=1).max(), 1.0, atol=1e-5)


# ------------------------------------------------------------------ bad input
def test_empty_clouds_name_the_file(tmp_path):
    np.save(tmp_path / 'empty.npy', np.zeros((0, 3), np.float32))
    with pytest.raises(DataError, match=r'empty\.npy.*empty \(0 points\)'):
        read_point_cloud(str(tmp_path / 'empty.npy'))
    (tmp_path / 'empty.xyz').write_text('')
    with pytest.raises(DataError, match=r'empty\.xyz.*empty \(0 points\)'):
        read_point_cloud(str(tmp_path / 'empty.xyz'))


def test_all_nan_cloud_names_the_file(tmp_path):
    np.save(tmp_path / 'nan.npy', np.full((50, 3), np.nan, np.float32))
    with pytest.raises(DataError, match=r'nan\.npy.*all 50 points are NaN'):
        read_point_cloud(str(tmp_path / 'nan.npy'))
    partly = PTS.astype(np.float32).copy()
    partly[:10] = np.nan
    np.save(tmp_path / 'partly.npy', partly)
    assert read_point_cloud(str(tmp_path / 'partly.npy')).shape == (190, 3)  # NaN rows dropped


@pytest.mark.parametrize('name,text', [
    ('flat.off', 'OFF\n4 0 0\n0 0 0\n1 0 0\n0 1 0\n0 0 1\n'),
    ('flat.obj', 'v 0 0 0\nv 1 0 0\nv 0 1 0\n'),
])
def test_mesh_without_faces_names_the_file(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    with pytest.raises(DataError, match=rf'{name}: field "faces": .*no faces'):
        read_point_cloud(str(tmp_path / name))


def test_unsupported_and_missing(tmp_path):
    (tmp_path / 'a.txt').write_text('1 2 3\n')
    with pytest.raises(DataError, match=r"a\.txt: unsupported point cloud format '\.txt'"):
        read_point_cloud(str(tmp_path / 'a.txt'))
    with pytest.raises(DataError, match='nope.npy: file not found'):
        read_point_cloud(str(tmp_path / 'nope.npy'))


def test_fixed_size_policy():
    small = PTS[:10].astype(np.float32)
    out = fixed_size(small, 64, np.random.default_rng(0))
    assert out.shape == (64, 3)
    np.testing.assert_array_equal(out[:10], small)  # every original point kept once
    assert {tuple(p) for p in out} <= {tuple(p) for p in small}  # the rest drawn from them
    big = fixed_size(PTS.astype(np.float32), 64, np.random.default_rng(0))
    assert big.shape == (64, 3) and len({tuple(p) for p in big}) == 64  # without replacement
