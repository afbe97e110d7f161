"""MSI plugin: EuroSAT GeoTIFF reading (rasterio fixtures with a CRS), bad input, band-count
adaptation of RGB weights, and the real config trained end to end on a tiny fixture."""
import os
import sys
import warnings

import numpy as np
import pytest
import torch

from allspark import plugins
from allspark.datasets import DataError

plugins.load_plugins()
if plugins.get_record('msi') is None:  # not pip-installed: register from the source tree
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import allspark_plugin_msi.dataset  # noqa: F401,E402
    import allspark_plugin_msi.encoder  # noqa: F401,E402
    import allspark_plugin_msi.prompts  # noqa: F401,E402
    import allspark_plugin_msi.transforms  # noqa: F401,E402

rasterio = pytest.importorskip('rasterio')
from rasterio.transform import from_origin  # noqa: E402

from allspark_plugin_msi.dataset import EuroSATDataset  # noqa: E402
from allspark_plugin_msi.encoder import MSIViTEncoder  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
SIZE = 64


def write_tif(path, data, crs='EPSG:32631', origin=(500000 - 320.0, 320.0), nodata=None):
    """Write ``data (C, H, W)`` as a GeoTIFF with a UTM CRS and 10 m pixels."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    c, h, w = data.shape
    with rasterio.open(path, 'w', driver='GTiff', count=c, height=h, width=w,
                       dtype=data.dtype, crs=crs, transform=from_origin(*origin, 10.0, 10.0),
                       nodata=nodata) as dst:
        dst.write(data)
    return path


def make_eurosat(root, classes=('Forest', 'SeaLake'), n_train=3, n_test=1, seed=0):
    rng = np.random.default_rng(seed)
    for split, n in (('train', n_train), ('test', n_test)):
        for k, cls in enumerate(classes):
            for i in range(n):
                base = 800 + 1500 * k
                data = (base + 200 * rng.random((13, SIZE, SIZE))).astype(np.uint16)
                write_tif(os.path.join(root, split, cls, f'{cls}_{i}.tif'), data)
    return str(root)


@pytest.fixture
def eurosat(tmp_path):
    return make_eurosat(tmp_path / 'eurosat')


def test_msi_geotiff_metadata_and_stats(eurosat):
    ds = EuroSATDataset(eurosat, 'train')
    assert len(ds) == 6 and ds.classes == ['Forest', 'SeaLake']
    s = ds.get_sample(0)
    assert s['msi'].shape == (13, SIZE, SIZE) and s['msi'].dtype == np.float32
    assert s['crs'] == 'EPSG:32631'
    assert s['transform'] == (10.0, 0.0, 499680.0, 0.0, -10.0, 320.0)
    # tile centre: easting 500000 on UTM 31N's central meridian (3 deg E), northing 0 (equator)
    assert s['center_lon'] == pytest.approx(3.0, abs=1e-6)
    assert s['center_lat'] == pytest.approx(0.0, abs=1e-6)
    meta = ds.metainfo
    assert meta['bands'][12] == 'B8A' and meta['wavelengths_nm'][3] == pytest.approx(664.6)
    # statistics: training split only, also when asked from the test split
    train = np.stack([ds.get_sample(i)['msi'] for i in range(len(ds))]).astype(np.float64)
    stats = ds.stats()['inputs']['msi']
    np.testing.assert_allclose(stats['mean'], train.mean((0, 2, 3)), rtol=1e-6)
    np.testing.assert_allclose(stats['std'], train.std((0, 2, 3)), rtol=1e-4)
    test_stats = EuroSATDataset(eurosat, 'test').stats()['inputs']['msi']
    np.testing.assert_allclose(test_stats['mean'], stats['mean'])
    # the packed sample keeps the geo metadata next to the label
    packed = ds[0]
    assert set(packed['inputs']) == {'msi'} and packed['data_samples']['crs'] == 'EPSG:32631'


def test_msi_wrong_band_count(eurosat):
    bad = write_tif(os.path.join(eurosat, 'train', 'Forest', 'Forest_bad.tif'),
                    np.ones((12, SIZE, SIZE), np.uint16))
    with pytest.raises(DataError) as err:
        EuroSATDataset(eurosat, 'train')
    msg = str(err.value)
    assert bad in msg and '12 bands' in msg and 'expected 13' in msg
    with pytest.warns(UserWarning, match='skipped 1 bad file'):
        ds = EuroSATDataset(eurosat, 'train', skip_bad_files=True)
    assert len(ds) == 6 and ds.skipped[0][0] == bad


def test_msi_unreadable_and_truncated(eurosat):
    truncated = os.path.join(eurosat, 'test', 'Forest', 'Forest_0.tif')
    size = os.path.getsize(truncated)
    with open(truncated, 'r+b') as f:
        f.truncate(size // 2)
    garbage = os.path.join(eurosat, 'test', 'SeaLake', 'SeaLake_9.tif')
    with open(garbage, 'wb') as f:
        f.write(b'this is not a tiff')
    with pytest.raises(DataError, match='SeaLake_9.tif'):
        EuroSATDataset(eurosat, 'test')
    os.remove(garbage)
    ds = EuroSATDataset(eurosat, 'test')  # header intact: the pixel read fails, naming the file
    with pytest.raises(DataError, match='Forest_0.tif'):
        for i in range(len(ds)):
            ds.get_sample(i)
    with open(garbage, 'wb') as f:
        f.write(b'this is not a tiff')
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        ds = EuroSATDataset(eurosat, 'test', skip_bad_files=True)
    messages = [str(w.message) for w in caught]
    assert any('skipped 2 bad file(s) of 3' in m for m in messages), messages
    assert any('Forest_0.tif' in m for m in messages)
    assert any('SeaLake_9.tif' in m for m in messages)
    assert len(ds) == 1 and ds.get_sample(0)['msi'].shape == (13, SIZE, SIZE)


def test_msi_nan_and_nodata_are_filled(eurosat):
    data = np.full((13, SIZE, SIZE), 1000.0, np.float32)
    data[:, :, 0] = 3000.0
    data[2, 5, 5] = np.nan
    data[4, 0:2, 1] = -9999.0
    path = write_tif(os.path.join(eurosat, 'train', 'Forest', 'Forest_nan.tif'), data,
                     nodata=-9999.0)
    ds = EuroSATDataset(eurosat, 'train')
    s = ds.get_sample([r['img_path'] for r in ds.samples].index(path))
    assert np.isfinite(s['msi']).all() and s['invalid_pixels'] == 3
    valid2 = np.delete(data[2].ravel(), 5 * SIZE + 5)
    assert s['msi'][2, 5, 5] == pytest.approx(valid2.mean(), rel=1e-5)
    assert s['msi'][4, 0, 1] == pytest.approx(np.mean(data[4][data[4] != -9999.0]), rel=1e-5)
    assert np.isfinite(ds.stats()['inputs']['msi']['mean']).all()
    data[7] = np.nan  # a band without any valid pixel cannot be filled: error naming the band
    write_tif(path, data, nodata=-9999.0)
    with pytest.raises(DataError, match=r'Forest_nan.tif: band B08'):
        ds.get_sample([r['img_path'] for r in ds.samples].index(path))


def test_msi_class_only_in_test(eurosat):
    write_tif(os.path.join(eurosat, 'test', 'River', 'River_0.tif'),
              np.ones((13, SIZE, SIZE), np.uint16))
    with pytest.raises(DataError, match=r"\['River'\].*not in the training split"):
        EuroSATDataset(eurosat, 'test')


def test_msi_rgb_weights_adapted_to_13_bands(tmp_path):
    import timm
    from timm.models._manipulate import adapt_input_conv

    torch.manual_seed(0)
    rgb = timm.create_model('vit_tiny_patch16_224', pretrained=False, img_size=32,
                            patch_size=8, embed_dim=32, depth=1, num_heads=2, in_chans=3,
                            num_classes=5)
    path = str(tmp_path / 'rgb_vit.pth')
    torch.save(dict(state_dict=rgb.state_dict()), path)
    enc = MSIViTEncoder(in_chans=13, img_size=64, patch_size=8, embed_dim=32, depth=1,
                        num_heads=2, checkpoint_path=path)
    w_rgb = rgb.state_dict()['patch_embed.proj.weight']
    w = enc.vit.patch_embed.proj.weight
    assert w.shape == (32, 13, 8, 8)
    torch.testing.assert_close(w, adapt_input_conv(13, w_rgb.clone()))
    # timm's rule: RGB filters repeated over the bands, scaled by 3 / 13
    torch.testing.assert_close(w[:, 3], w_rgb[:, 0] * 3 / 13)
    torch.testing.assert_close(enc.vit.blocks[0].attn.qkv.weight, rgb.blocks[0].attn.qkv.weight)
    assert enc.vit.pos_embed.shape == (1, 1 + 64, 32)  # 4x4 grid resampled to 8x8
    tokens = enc(torch.randn(2, 13, 64, 64))
    assert tokens.shape == (2, 65, 32) and enc.out_dim == 32
    with pytest.raises(ValueError, match='13 bands'):
        enc(torch.randn(2, 12, 64, 64))


def test_msi_config_trains_end_to_end(tmp_path):
    from allspark.testing import run_smoke_training

    eurosat = make_eurosat(tmp_path / 'eurosat', n_test=4)  # 8 test tiles, not 2
    work = str(tmp_path / 'work')
    opts = {f'{k}.dataset.data_root': eurosat
            for k in ('train_dataloader', 'val_dataloader', 'test_dataloader')}
    metrics = run_smoke_training('msi::eurosat.py', work,
                                 max_iters=20, batch_size=2, cfg_options=opts)
    assert metrics['accuracy'] >= 75.0, metrics  # 2 classes of distinct brightness: chance 50%
    ckpt = torch.load(os.path.join(work, 'iter_20.pth'), map_location='cpu', weights_only=True)
    mean = ckpt['state_dict']['data_preprocessor.msi_mean']
    expected = EuroSATDataset(eurosat, 'train').stats()['inputs']['msi']['mean']
    np.testing.assert_allclose(mean.numpy(), expected, rtol=1e-5)
