"""Elevation plugin: terrain on known planes, nodata mask, chips + centres, every bad input."""
import math
import pickle

import numpy as np
import pytest
import torch

rasterio = pytest.importorskip('rasterio')
from rasterio.transform import from_origin  # noqa: E402

from allspark.datasets import DataError, allspark_collate  # noqa: E402
from allspark.geo import pixel_size_metres, raster_center_latlon  # noqa: E402
from allspark_plugin_elevation import io  # noqa: E402
from allspark_plugin_elevation.dataset import DEMChipDataset  # noqa: E402
from allspark_plugin_elevation.encoder import ElevationViTEncoder  # noqa: E402
from allspark_plugin_elevation.transforms import ElevationRelative  # noqa: E402


def write_tif(path, data, crs='EPSG:32631', transform=None, nodata=None, **profile):
    data = np.asarray(data)
    if data.ndim == 2:
        data = data[None]
    kwargs = dict(driver='GTiff', height=data.shape[1], width=data.shape[2], count=data.shape[0],
                  dtype=data.dtype, transform=transform or from_origin(500000, 5000000, 30, 30))
    if crs is not None:
        kwargs['crs'] = crs
    if nodata is not None:
        kwargs['nodata'] = nodata
    kwargs.update(profile)
    with rasterio.open(path, 'w', **kwargs) as dst:
        dst.write(data)
    return str(path)


def utm_plane(h=64, w=64, gx=0.1, gy=0.05, pixel=30.0):
    """z = 100 + gx * east + gy * north (metres) on a north-up grid of ``pixel`` m."""
    east = np.arange(w) * pixel
    north = -np.arange(h) * pixel  # row 0 is the northern edge
    return (100 + gx * east[None, :] + gy * north[:, None]).astype(np.float32)


def test_slope_aspect_hillshade_of_a_plane_in_metres(tmp_path):
    path = write_tif(tmp_path / 'plane.tif', utm_plane())
    data, info = io.read_dem(path, channels=['elevation', 'mask', 'slope', 'aspect',
                                             'aspect_sin', 'aspect_cos', 'hillshade'])
    elev, mask, slope, aspect, asin, acos, shade = data
    assert np.all(mask == 1) and elev[0, 0] == pytest.approx(100.0)
    expected = math.degrees(math.atan(math.hypot(0.1, 0.05)))  # 6.38 deg everywhere
    assert np.allclose(slope, expected, atol=1e-4)
    # rising to the east and north: the slope faces south-west, azimuth 180 + atan(0.1 / 0.05)
    expected_aspect = 180.0 + math.degrees(math.atan2(0.1, 0.05))
    assert np.allclose(aspect, expected_aspect, atol=1e-3)
    assert np.allclose(asin, math.sin(math.radians(expected_aspect)), atol=1e-5)
    assert np.allclose(acos, math.cos(math.radians(expected_aspect)), atol=1e-5)
    s, a = math.radians(expected), math.radians(expected_aspect)
    z = math.radians(45.0)
    hs = math.cos(z) * math.cos(s) + math.sin(z) * math.sin(s) * math.cos(math.radians(315) - a)
    assert np.allclose(shade, hs, atol=1e-5)


def test_flat_ground_has_zero_slope_and_no_aspect(tmp_path):
    path = write_tif(tmp_path / 'flat.tif', np.full((16, 16), 250, np.int16))
    data, _ = io.read_dem(path, channels=['slope', 'aspect_sin', 'aspect_cos'])
    assert np.all(data == 0)


def test_geographic_degrees_converted_to_metres(tmp_path):
    # a lat/lon DEM (3" pixels at 45 N) whose heights rise 0.2 m per metre northwards
    pixel = 1 / 1200
    lat0 = 45.05
    h = w = 32
    lats = lat0 - (np.arange(h) + 0.5) * pixel
    _, m_per_px_lat = pixel_size_metres('EPSG:4326', (pixel, 0, 5, 0, -pixel, lat0), 45.0)
    north_m = (lats - lats[-1]) / pixel * m_per_px_lat
    z = np.repeat((0.2 * north_m)[:, None], w, axis=1).astype(np.float32)
    path = write_tif(tmp_path / 'geo.tif', z, crs='EPSG:4326',
                     transform=from_origin(5.0, lat0, pixel, pixel))
    data, info = io.read_dem(path, channels=['slope', 'aspect'])
    assert np.allclose(data[0], math.degrees(math.atan(0.2)), atol=0.05)  # not ~90 deg
    assert np.allclose(data[1], 180.0, atol=1e-3)  # rises northwards: faces south
    assert info['center_lat'] == pytest.approx(lat0 - 16 * pixel)
    assert info['center_lon'] == pytest.approx(5.0 + 16 * pixel)


def test_nodata_is_masked_and_filled(tmp_path):
    z = utm_plane(16, 16).astype(np.int16)
    z[:4, :4] = -32768
    path = write_tif(tmp_path / 'holes.tif', z, nodata=-32768)
    data, info = io.read_dem(path, channels=['elevation', 'mask', 'slope'])
    assert np.all(data[1, :4, :4] == 0) and data[1].sum() == 16 * 16 - 16
    assert np.all(data[0, :4, :4] == pytest.approx(z[z != -32768].mean()))
    assert np.all(data[2, :4, :4] == 0)
    assert info['valid_fraction'] == pytest.approx(1 - 16 / 256)


def test_chips_are_colocated_with_their_centre(tmp_path):
    path = write_tif(tmp_path / 'big.tif', utm_plane(96, 128))
    ds = DEMChipDataset(data_root=str(tmp_path), split='all', chip_size=32,
                        channels=['elevation', 'mask', 'slope'])
    assert len(ds) == 3 * 4
    item = ds[5]
    x, loc = item['inputs']['elevation'], item['inputs']['location']
    assert x.shape == (3, 32, 32) and loc.shape == (2,)
    row, col, h, w = item['data_samples']['window']
    assert (row, col) == (32, 32)
    with rasterio.open(path) as src:
        expected = src.read(1, window=rasterio.windows.Window(col, row, w, h))
        t = rasterio.windows.transform(rasterio.windows.Window(col, row, w, h), src.transform)
    assert np.array_equal(x[0], expected)
    lat, lon = raster_center_latlon('EPSG:32631', t, w, h)
    assert np.allclose(loc, [lat, lon], atol=1e-5)
    assert 44.0 < loc[0] < 46.0 and 2.9 < loc[1] < 3.1  # (lat, lon), near UTM 31's meridian
    batch = allspark_collate([ds[i] for i in range(4)])
    assert tuple(batch['inputs']['elevation'].shape) == (4, 3, 32, 32)
    assert tuple(batch['inputs']['location'].shape) == (4, 2)


def test_block_aligned_grid(tmp_path):
    path = write_tif(tmp_path / 'tiled.tif', utm_plane(96, 96), tiled=True, blockxsize=16,
                     blockysize=16)
    ds = DEMChipDataset(data_root=path, split='all', chip_size=32, stride=24)
    assert ds.file_info[path]['block_shape'] == (16, 16)
    assert ds.file_info[path]['steps'] == (32, 32)  # 24 rounded up to whole blocks
    assert all(r % 16 == 0 and c % 16 == 0 for r, c, _, _ in (s['window'] for s in ds.samples))
    free = DEMChipDataset(data_root=path, split='all', chip_size=32, stride=24,
                          block_aligned=False)
    assert {s['window'][0] for s in free.samples} == {0, 24, 48}
    assert {s['window'][0] for s in ds.samples} == {0, 32, 64}


def test_file_opened_once_per_process_and_never_pickled(tmp_path, monkeypatch):
    write_tif(tmp_path / 'a.tif', utm_plane(64, 64))
    ds = DEMChipDataset(data_root=str(tmp_path), split='all', chip_size=16)
    opened = []
    real_open = io.open_dem

    def counting_open(*args, **kwargs):
        opened.append(args[0])
        return real_open(*args, **kwargs)

    monkeypatch.setattr('allspark_plugin_elevation.dataset.open_dem', counting_open)
    for i in range(len(ds)):
        ds[i]
    assert len(opened) == 1
    clone = pickle.loads(pickle.dumps(ds))  # what a DataLoader worker receives
    assert clone._handles == {}
    assert np.array_equal(clone[3]['inputs']['elevation'], ds[3]['inputs']['elevation'])
    assert len(opened) == 2  # the copy opened its own handle


def test_splits_partition_the_chips(tmp_path):
    write_tif(tmp_path / 'a.tif', utm_plane(128, 128))
    kw = dict(data_root=str(tmp_path), chip_size=16, seed=1)
    for mode in ('random', 'checkerboard'):
        tr = DEMChipDataset(split='train', split_mode=mode, **kw)
        te = DEMChipDataset(split='test', split_mode=mode, **kw)
        a = {s['window'] for s in tr.samples}
        b = {s['window'] for s in te.samples}
        assert a and b and not a & b and len(a | b) == 64


def test_all_nodata_file_names_the_file(tmp_path):
    path = write_tif(tmp_path / 'void.tif', np.full((32, 32), -32768, np.int16), nodata=-32768)
    with pytest.raises(DataError, match=r'void.tif is entirely nodata'):
        DEMChipDataset(data_root=path, split='all', chip_size=16)
    with pytest.raises(DataError, match=r'void.tif.*entirely nodata'):
        io.read_dem(path)


def test_all_nodata_chip_error_or_drop(tmp_path):
    z = utm_plane(32, 32).astype(np.int16)
    z[:16, 16:] = -9999
    path = write_tif(tmp_path / 'part.tif', z, nodata=-9999)
    ds = DEMChipDataset(data_root=path, split='all', chip_size=16)
    assert len(ds) == 4
    bad = [i for i, s in enumerate(ds.samples) if s['window'][:2] == (0, 16)][0]
    with pytest.raises(DataError, match=rf'part.tif window \(row 0, col 16, 16 x 16\) of sample '
                                        rf'{bad} is entirely nodata'):
        ds[bad]
    dropped = DEMChipDataset(data_root=path, split='all', chip_size=16, empty_chips='drop')
    assert len(dropped) == 3 and dropped.dropped_chips == 1


def test_no_crs_is_an_error_unless_configured(tmp_path):
    path = write_tif(tmp_path / 'nocrs.tif', utm_plane(32, 32), crs=None,
                     transform=from_origin(5.0, 46.0, 0.001, 0.001))
    with pytest.raises(DataError, match=r'nocrs.tif has no CRS.*crs="EPSG:'):
        DEMChipDataset(data_root=path, split='all', chip_size=16)
    ds = DEMChipDataset(data_root=path, split='all', chip_size=16, crs='EPSG:4326')
    assert ds[0]['inputs']['location'] == pytest.approx([46.0 - 0.008, 5.008], abs=1e-6)


def test_multiband_file_is_an_error_unless_band_given(tmp_path):
    stack = np.stack([utm_plane(32, 32), utm_plane(32, 32) + 1000])
    path = write_tif(tmp_path / 'two.tif', stack)
    with pytest.raises(DataError, match=r'two.tif has 2 bands.*band=<1-based index>'):
        DEMChipDataset(data_root=path, split='all', chip_size=16)
    ds = DEMChipDataset(data_root=path, split='all', chip_size=16, band=2)
    assert ds[0]['inputs']['elevation'][0, 0, 0] == pytest.approx(1100.0)
    with pytest.raises(DataError, match=r'band=3 is out of range; the file has 2 band'):
        DEMChipDataset(data_root=path, split='all', chip_size=16, band=3)


def test_unreadable_and_missing_files(tmp_path):
    (tmp_path / 'junk.tif').write_bytes(b'not a tiff')
    with pytest.raises(DataError, match=r'cannot open .*junk.tif as a GeoTIFF'):
        DEMChipDataset(data_root=str(tmp_path), split='all', chip_size=16)
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(DataError, match='no file matching'):
        DEMChipDataset(data_root=str(empty), split='all')


def test_unknown_channel():
    with pytest.raises(ValueError, match='unknown channel'):
        io.check_channels(['elevation', 'curvature'])


def test_relative_transform_keeps_mean():
    x = np.stack([np.full((4, 4), 1500.0), np.ones((4, 4))]).astype(np.float32)
    x[0, 0, 0] = 1516.0
    out = ElevationRelative()({'elevation': x})
    assert out['mean_elevation'] == pytest.approx(1501.0)
    assert out['elevation'][0].mean() == pytest.approx(0.0, abs=1e-5)


def test_vit_encoder_channels_and_batch_independence():
    torch.manual_seed(0)
    enc = ElevationViTEncoder(in_chans=3, img_size=32, patch_size=8, embed_dim=32, depth=1,
                              num_heads=2).eval()
    x = torch.randn(3, 3, 32, 32)
    tokens = enc(x)
    assert tokens.shape == (3, 1 + 16, 32) and enc.out_dim == 32
    assert enc.pool(tokens).shape == (3, 32)
    y = x.clone()
    y[1:] = torch.randn(2, 3, 32, 32)
    assert torch.allclose(enc(y)[0], tokens[0], atol=1e-5)
    with pytest.raises(ValueError, match=r'expects \(B, 3, 32, 32\) \(in_chans = number of '
                                         r'dataset channels\), got \(1, 2, 32, 32\)'):
        enc(torch.randn(1, 2, 32, 32))
