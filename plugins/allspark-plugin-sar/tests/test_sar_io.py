"""SAR readers and MSTARDataset on fixtures: formats, bands, bad files, NaN/nodata, classes."""
import os
import warnings

import numpy as np
import pytest
from mmengine.registry import DefaultScope
from PIL import Image
from sar_fixtures import (
    CLASSES,
    synthetic_chip,
    truncate,
    write_geotiff,
    write_geotiff_tree,
    write_jpeg_tree,
)

import allspark_plugin_sar.transforms  # noqa: F401  (registers the SAR transforms)
from allspark.datasets import DataError
from allspark_plugin_sar.dataset import MSTARDataset
from allspark_plugin_sar.io import center_crop, read_sar_chip
from allspark_plugin_sar.transforms import RandomSpeckle, SARToDecibel

REAL_MSTAR = os.path.join(os.path.dirname(__file__), '..', '..', '..', '..', 'shared', 'data',
                          'mstar')


@pytest.fixture(autouse=True)
def _allspark_scope():
    # pipelines name the core transforms (RandomCrop, CenterCrop) in the allspark scope
    with DefaultScope.overwrite_default_scope('allspark'):
        yield


def test_sar_jpeg_dataset_reads_crops_and_labels(tmp_path):
    root = write_jpeg_tree(str(tmp_path / 'mstar'))
    ds = MSTARDataset(root, 'train', crop_size=96,
                      pipeline=[dict(type='CenterCrop', size=88, keys='sar')])
    assert ds.classes == sorted(CLASSES) and len(ds) == 12
    item = ds[0]
    assert item['inputs']['sar'].shape == (1, 88, 88) and item['inputs']['sar'].dtype == np.float32
    assert 0.0 <= item['inputs']['sar'].min() and item['inputs']['sar'].max() <= 1.0
    assert item['data_samples']['gt_label'] == 0
    # cropping 96 on read then the centre 88 is the centre 88 of the original chip (AConvNets)
    for path in (ds.samples[0]['img_path'], ds.samples[4]['img_path']):  # 100x100 and 101x102
        raw, _ = read_sar_chip(path, 1)
        np.testing.assert_array_equal(center_crop(center_crop(raw, 96), 88), center_crop(raw, 88))
    stats = ds.stats()['inputs']['sar']
    manual = np.concatenate([ds.get_sample(i)['sar'].ravel() for i in range(len(ds))])
    assert stats['mean'][0] == pytest.approx(manual.mean(), rel=1e-5)
    assert stats['std'][0] == pytest.approx(manual.std(), rel=1e-4)


def test_sar_png_and_tiff_chips(tmp_path):
    rng = np.random.default_rng(1)
    chip8 = (synthetic_chip(0, (90, 92), rng)[0] * 255).astype(np.uint8)
    chip16 = (synthetic_chip(1, (90, 92), rng)[0] * 65535).astype(np.uint16)
    Image.fromarray(chip8, mode='L').save(tmp_path / 'a.png')
    Image.fromarray(chip16).save(tmp_path / 'b16.png')
    write_geotiff(str(tmp_path / 'c.tiff'), chip8[None], crs=None)  # plain TIFF, no georef
    a, info = read_sar_chip(str(tmp_path / 'a.png'), 1)
    np.testing.assert_allclose(a[0], chip8 / 255.0, atol=1e-6)
    b, _ = read_sar_chip(str(tmp_path / 'b16.png'), 1)
    np.testing.assert_allclose(b[0], chip16 / 65535.0, atol=1e-6)
    c, cinfo = read_sar_chip(str(tmp_path / 'c.tiff'), 1)
    np.testing.assert_allclose(c, a, atol=1e-6)
    assert cinfo['crs'] is None and info['bands'] == 1
    # the same chips as a class-folder dataset (mixed extensions)
    for split in ('train', 'test'):
        for name in ('a.png', 'c.tiff'):
            os.makedirs(tmp_path / 'ds' / split / 'X', exist_ok=True)
            os.link(tmp_path / name, tmp_path / 'ds' / split / 'X' / name)
    ds = MSTARDataset(str(tmp_path / 'ds'), 'test', crop_size=88)
    assert len(ds) == 2 and ds[1]['inputs']['sar'].shape == (1, 88, 88)


def test_sar_two_channel_geotiff(tmp_path):
    root = write_geotiff_tree(str(tmp_path / 'pol'))
    ds = MSTARDataset(root, 'train', channels=2, crop_size=88)
    x = ds[0]['inputs']['sar']
    assert x.shape == (2, 88, 88)
    _, info = read_sar_chip(ds.samples[0]['img_path'], 2)
    assert info['crs'] == 'EPSG:32633' and info['transform'][0] == pytest.approx(0.3)
    assert len(ds.stats()['inputs']['sar']['mean']) == 2


def test_sar_band_count_mismatch_names_file(tmp_path):
    root = write_jpeg_tree(str(tmp_path / 'mstar'))
    rgb = os.path.join(root, 'train', '2S1', 'rgb_chip.jpg')
    Image.fromarray(np.zeros((100, 100, 3), np.uint8)).save(rgb)
    ds = MSTARDataset(root, 'train', channels=1)
    index = [s['img_path'] for s in ds.samples].index(rgb)
    with pytest.raises(DataError, match=r'rgb_chip\.jpg: found 3 band\(s\), expected 1'):
        ds[index]
    pol = write_geotiff_tree(str(tmp_path / 'pol'), per_class=1)
    with pytest.raises(DataError, match=r'chip0\.tif: found 2 band\(s\), expected 1'):
        MSTARDataset(pol, 'train', channels=1)[0]


@pytest.mark.parametrize('kind', ['jpeg', 'geotiff'])
def test_sar_truncated_file_error_and_skip(tmp_path, kind):
    if kind == 'jpeg':
        root = write_jpeg_tree(str(tmp_path / 'mstar'))
        bad = truncate(os.path.join(root, 'train', 'BMP2', 'HB10001.JPG'))
        channels = 1
    else:
        root = write_geotiff_tree(str(tmp_path / 'pol'))
        bad = truncate(os.path.join(root, 'train', 'BMP2', 'chip1.tif'))
        channels = 2
    ds = MSTARDataset(root, 'train', channels=channels)
    index = [s['img_path'] for s in ds.samples].index(bad)
    with pytest.raises(DataError, match=os.path.basename(bad)):
        ds[index]
    # explicit skip_bad_files: a warning naming the file, a count at the end, never silent
    with pytest.warns(UserWarning) as record:
        ds = MSTARDataset(root, 'train', channels=channels, skip_bad_files=True)
    messages = [str(w.message) for w in record]
    assert any(os.path.basename(bad) in m and 'skipping bad file' in m for m in messages)
    assert any('skipped 1 bad file(s) of' in m for m in messages)
    assert len(ds.skipped) == 1 and ds.skipped[0][0] == bad
    assert bad not in [s['img_path'] for s in ds.samples]
    assert ds.metainfo['skipped'] == [bad]


def test_sar_nan_and_nodata_policy(tmp_path):
    data = np.full((2, 90, 90), 0.5, np.float32)
    data[0, :10, :] = np.nan          # 900 NaN pixels
    data[1, -5:, :] = -9999.0         # 450 nodata pixels
    path = write_geotiff(str(tmp_path / 'nan.tif'), data, nodata=-9999.0)
    arr, info = read_sar_chip(path, 2, nodata='fill', fill_value=0.0)
    assert np.isfinite(arr).all()
    assert (arr[0, :10] == 0).all() and (arr[1, -5:] == 0).all() and arr[0, 50, 50] == 0.5
    assert info['nodata_fraction'] == pytest.approx(1350 / data.size)
    with pytest.raises(DataError, match=r'nan\.tif: 1350 NaN/inf/nodata'):
        read_sar_chip(path, 2, nodata='error')
    empty = write_geotiff(str(tmp_path / 'empty.tif'), np.full((1, 8, 8), np.nan, np.float32))
    with pytest.raises(DataError, match=r'empty\.tif: every pixel'):
        read_sar_chip(empty, 1)
    # through the dataset: the policy is a config value and the fraction is in the sample
    for split in ('train', 'test'):
        os.makedirs(tmp_path / 'ds' / split / 'A', exist_ok=True)
        os.link(path, tmp_path / 'ds' / split / 'A' / 'nan.tif')
    sample = MSTARDataset(str(tmp_path / 'ds'), 'test', channels=2)[0]
    assert sample['data_samples']['nodata_fraction'] == pytest.approx(1350 / data.size)
    with pytest.raises(DataError, match='nan.tif'):
        MSTARDataset(str(tmp_path / 'ds'), 'test', channels=2, nodata='error')[0]


def test_sar_test_class_missing_from_train(tmp_path):
    root = write_jpeg_tree(str(tmp_path / 'mstar'))
    write_jpeg_tree(root, classes=('ZSU_23_4',), per_class=1, splits=('test',))
    MSTARDataset(root, 'train')  # fine
    with pytest.raises(DataError, match=r"class folder 'ZSU_23_4' .* not in the training split"):
        MSTARDataset(root, 'test')


def test_sar_empty_or_missing_folders(tmp_path):
    with pytest.raises(DataError, match='folder not found'):
        MSTARDataset(str(tmp_path / 'nothing'), 'train')
    with pytest.raises(ValueError, match='nodata policy'):
        read_sar_chip(str(tmp_path / 'x.jpg'), 1, nodata='ignore')
    (tmp_path / 'notes.txt').write_text('x')
    with pytest.raises(DataError, match='unsupported extension'):
        read_sar_chip(str(tmp_path / 'notes.txt'), 1)


def test_sar_transforms():
    np.random.seed(0)
    x = np.full((1, 4, 4), 0.01, np.float32)
    assert SARToDecibel()(dict(sar=x.copy()))['sar'] == pytest.approx(np.full((1, 4, 4), -20.0))
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        y = RandomSpeckle(prob=1.0, looks=4)(dict(sar=np.ones((1, 64, 64), np.float32)))['sar']
    assert y.dtype == np.float32 and abs(float(y.mean()) - 1.0) < 0.05 and y.std() > 0.3


def test_sar_real_mstar_listing():
    if not os.path.isdir(REAL_MSTAR):
        pytest.skip('real MSTAR data not present')
    train, test = MSTARDataset(REAL_MSTAR, 'train'), MSTARDataset(REAL_MSTAR, 'test')
    assert len(train) == 2746 and len(test) == 2425
    assert train.classes == ['2S1', 'BMP2', 'BRDM_2', 'BTR60', 'BTR70', 'D7', 'T62', 'T72',
                             'ZIL131', 'ZSU_23_4']
    arr, info = read_sar_chip(test.samples[0]['img_path'], 1)
    assert arr.shape == (1, 158, 158) and info['bands'] == 1
