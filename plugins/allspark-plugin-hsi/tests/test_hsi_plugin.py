"""HSI plugin: readers (.mat, ENVI, GeoTIFF), bad input, NaN/nodata policy, encoder, and the
real config trained end to end on a tiny .mat fixture."""
import os

import numpy as np
import pytest
import scipy.io
import torch

from allspark.datasets import DataError
from allspark.engine.runner import setup
from allspark.testing import run_smoke_training

setup()  # loads the installed plugins (registers the hsi classes)

from allspark_plugin_hsi.dataset import HSIPixelDataset  # noqa: E402
from allspark_plugin_hsi.encoder import SpectralTransformerEncoder  # noqa: E402
from allspark_plugin_hsi.transforms import SpectralJitter  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
BANDS = 204


def make_scene(rows=8, cols=9, bands=BANDS, seed=0):
    """A cube whose classes have distinct spectra and a Salinas-like label map (ids 1, 10, 11)."""
    rng = np.random.default_rng(seed)
    gt = np.zeros((rows, cols), dtype=np.uint8)
    gt[:, :3], gt[:, 3:6], gt[:, 6:] = 1, 10, 11
    gt[0, 0] = gt[-1, -1] = 0  # unlabelled
    base = {0: 0, 1: 1000, 10: 3000, 11: 5000}
    cube = np.zeros((rows, cols, bands), dtype=np.int16)
    for label, level in base.items():
        shape = level * (1 + 0.3 * np.sin(np.linspace(0, 3, bands) * (1 + label % 3)))
        m = gt == label
        cube[m] = (shape + rng.normal(0, 20, (m.sum(), bands))).astype(np.int16)
    return cube, gt


def write_mat(folder, cube, gt):
    os.makedirs(folder, exist_ok=True)
    scipy.io.savemat(os.path.join(folder, 'cube.mat'), {'salinasA_corrected': cube})
    scipy.io.savemat(os.path.join(folder, 'gt.mat'), {'salinasA_gt': gt})
    return folder


def write_raster(path, array, driver, nodata=None):
    import rasterio
    from rasterio.transform import from_origin
    arr = array if array.ndim == 3 else array[..., None]
    with rasterio.open(path, 'w', driver=driver, width=arr.shape[1], height=arr.shape[0],
                       count=arr.shape[2], dtype=arr.dtype, crs='EPSG:32610',
                       transform=from_origin(600000, 4000000, 3.7, 3.7), nodata=nodata) as dst:
        dst.write(arr.transpose(2, 0, 1))


def dataset(root, split='train', **kw):
    kw.setdefault('image_file', 'cube.mat')
    kw.setdefault('gt_file', 'gt.mat')
    return HSIPixelDataset(data_root=root, split=split, num_bands=kw.pop('num_bands', BANDS),
                           **kw)


def test_hsi_mat_reader_and_stratified_split(tmp_path):
    cube, gt = make_scene()
    root = write_mat(str(tmp_path / 'mat'), cube, gt)
    train, test = dataset(root, 'train', train_ratio=0.4), dataset(root, 'test', train_ratio=0.4)
    assert train.classes[0] == 'Brocoli_green_weeds_1' and len(train.classes) == 3
    assert len(train) + len(test) == int((gt > 0).sum())  # unlabelled pixels ignored
    train_pix = {tuple(p) for p in train.samples}
    assert not train_pix & {tuple(p) for p in test.samples}
    _, y = train.train_arrays()
    for k, n in enumerate(np.bincount(gt[gt > 0].astype(int))[[1, 10, 11]]):
        assert (y == k).sum() == max(1, round(0.4 * n))  # stratified per class
    sample = train[0]
    assert sample['inputs']['hsi'].shape == (BANDS,) and sample['inputs']['hsi'].dtype == np.float32
    stats = train.stats()['inputs']['hsi']
    assert len(stats['mean']) == BANDS
    # same seed -> same split, other seed -> another split
    assert dataset(root, 'train', train_ratio=0.4).samples == train.samples
    assert dataset(root, 'train', train_ratio=0.4, seed=1).samples != train.samples


def test_hsi_val_ratio_holds_out_training_pixels(tmp_path):
    """val_ratio takes a stratified part of the training pixels as 'val'; test is unchanged."""
    cube, gt = make_scene(rows=12, cols=12)
    root = write_mat(str(tmp_path / 'mat'), cube, gt)
    pix = lambda d: {tuple(p) for p in d.samples}  # noqa: E731
    full_train, test = dataset(root, 'train'), dataset(root, 'test')
    train, val = dataset(root, 'train', val_ratio=0.25), dataset(root, 'val', val_ratio=0.25)
    assert pix(dataset(root, 'test', val_ratio=0.25)) == pix(test)
    assert pix(train) | pix(val) == pix(full_train) and not pix(train) & pix(val)
    assert not pix(val) & pix(test)
    _, y_full = full_train.train_arrays()
    _, y_val = val.train_arrays()
    for k in range(3):
        assert (y_val == k).sum() == round(0.25 * (y_full == k).sum())
    assert pix(dataset(root, 'val')) == pix(test)  # val_ratio=0: 'val' is the test split
    # statistics come from the pixels that train
    x_train, _ = train.train_arrays()
    assert np.allclose(train.stats()['inputs']['hsi']['mean'], x_train.mean(0))
    with pytest.raises(ValueError, match='val_ratio'):
        dataset(root, 'train', val_ratio=1.0)


def test_hsi_val_fold_is_k_fold_cross_validation(tmp_path):
    """val_ratio=1/k with val_fold 0..k-1 holds out disjoint slices of the training pixels."""
    cube, gt = make_scene(rows=12, cols=12)
    root = write_mat(str(tmp_path / 'mat'), cube, gt)
    pix = lambda d: {tuple(p) for p in d.samples}  # noqa: E731
    full_train, test = pix(dataset(root, 'train')), pix(dataset(root, 'test'))
    folds = [pix(dataset(root, 'val', val_ratio=0.5, val_fold=f)) for f in range(2)]
    assert folds[0] and folds[1] and not folds[0] & folds[1]
    assert folds[0] | folds[1] <= full_train and not (folds[0] | folds[1]) & test
    assert pix(dataset(root, 'train', val_ratio=0.5, val_fold=1)) == full_train - folds[1]
    assert folds[0] == pix(dataset(root, 'val', val_ratio=0.5))  # fold 0 is the default
    other = pix(dataset(root, 'val', val_ratio=0.5, val_seed=3))  # repeated CV: new partition
    assert other != folds[0] and other <= full_train
    assert pix(dataset(root, 'test', val_ratio=0.5, val_seed=3)) == test
    with pytest.raises(ValueError, match='val_fold'):
        dataset(root, 'val', val_ratio=0.5, val_fold=2)


@pytest.mark.parametrize('driver,ext', [('GTiff', '.tif'), ('ENVI', '.img')])
def test_hsi_rasterio_readers(tmp_path, driver, ext):
    cube, gt = make_scene()
    write_raster(str(tmp_path / f'cube{ext}'), cube, driver)
    write_raster(str(tmp_path / f'gt{ext}'), gt, driver)
    image_file = 'cube.hdr' if driver == 'ENVI' else f'cube{ext}'  # ENVI: header works too
    ds = dataset(str(tmp_path), image_file=image_file, gt_file=f'gt{ext}')
    ref = dataset(write_mat(str(tmp_path / 'mat'), cube, gt))
    assert ds.samples == ref.samples
    np.testing.assert_array_equal(ds.train_arrays()[0], ref.train_arrays()[0])


def test_hsi_band_count_mismatch_names_file(tmp_path):
    cube, gt = make_scene(bands=100)
    root = write_mat(str(tmp_path), cube, gt)
    with pytest.raises(DataError) as err:
        dataset(root)
    msg = str(err.value)
    assert 'cube.mat' in msg and '100 bands' in msg and str(BANDS) in msg


def test_hsi_truncated_or_unreadable_file_names_file(tmp_path):
    cube, gt = make_scene()
    root = write_mat(str(tmp_path), cube, gt)
    path = os.path.join(root, 'cube.mat')
    data = open(path, 'rb').read()
    open(path, 'wb').write(data[:len(data) // 3])  # truncated .mat
    with pytest.raises(DataError, match='cube.mat'):
        dataset(root)
    write_raster(str(tmp_path / 'cube.tif'), cube, 'GTiff')
    tif = str(tmp_path / 'cube.tif')
    data = open(tif, 'rb').read()
    open(tif, 'wb').write(data[:len(data) // 2])  # truncated GeoTIFF
    with pytest.raises(DataError, match='cube.tif'):
        dataset(root, image_file='cube.tif')
    open(path, 'wb').write(b'not a mat file at all')
    with pytest.raises(DataError, match='cube.mat'):
        dataset(root)
    with pytest.raises(DataError, match='missing.mat'):
        dataset(root, image_file='missing.mat')


def test_hsi_nan_and_nodata_policy(tmp_path):
    cube, gt = make_scene()
    cube = cube.astype(np.float32)
    cube[1, 1, 5] = np.nan          # a NaN band in a labelled pixel
    cube[2, 4, :] = -9999           # a nodata pixel (nodata value given in the config)
    root = write_mat(str(tmp_path), cube, gt)
    n_labelled = int((gt > 0).sum())
    kw = dict(train_ratio=0.5, nodata_value=-9999)
    # exclude: both pixels are left out of train and test, and nothing NaN remains
    tr, te = dataset(root, 'train', **kw), dataset(root, 'test', **kw)
    assert len(tr) + len(te) == n_labelled - 2
    assert {(1, 1), (2, 4)}.isdisjoint(set(tr.samples) | set(te.samples))
    assert np.isfinite(tr.train_arrays()[0]).all() and np.isfinite(te.train_arrays()[0]).all()
    # fill: kept, bad bands get the band's training mean
    tr, te = (dataset(root, s, nodata_policy='fill', **kw) for s in ('train', 'test'))
    assert len(tr) + len(te) == n_labelled
    x = np.concatenate([tr.train_arrays()[0], te.train_arrays()[0]])
    assert np.isfinite(x).all() and not (x == -9999).any()
    # error: names the file and the pixel
    with pytest.raises(DataError, match=r'cube.mat.*row 1, col 1'):
        dataset(root, nodata_policy='error', **kw)
    # GeoTIFF nodata from the file's own metadata
    write_raster(str(tmp_path / 'cube.tif'), np.nan_to_num(cube, nan=-9999), 'GTiff',
                 nodata=-9999)
    ds = dataset(root, 'train', image_file='cube.tif', train_ratio=0.5)
    assert (1, 1) not in ds.samples and (2, 4) not in ds.samples


def test_hsi_encoder_shapes_and_transform():
    enc = SpectralTransformerEncoder(num_bands=12, embed_dim=16, depth=1, num_heads=2)
    assert enc(torch.randn(3, 12)).shape == (3, 12, 16)
    grouped = SpectralTransformerEncoder(num_bands=12, embed_dim=16, depth=1, num_heads=2,
                                         group_size=4)
    assert grouped(torch.randn(3, 12)).shape == (3, 3, 16)
    # spectrum_token: one more token first, a linear function of the whole spectrum
    whole = SpectralTransformerEncoder(num_bands=12, embed_dim=16, depth=1, num_heads=2,
                                       group_size=4, spectrum_token=True)
    seen = {}
    whole.blocks.register_forward_hook(lambda m, args, out: seen.update(tokens=args[0]))
    x = torch.randn(3, 12)
    assert whole(x).shape == (3, 4, 16)
    assert torch.allclose(seen['tokens'][:, 0], whole.spectrum_proj(x), atol=1e-6)
    with pytest.raises(ValueError, match='12'):
        enc(torch.randn(3, 10))
    x = np.linspace(1, 2, 12).astype(np.float32)
    out = SpectralJitter(scale=0.1, noise=0.01)({'hsi': x.copy()})['hsi']
    assert out.shape == x.shape and out.dtype == np.float32 and not np.allclose(out, x)


def test_hsi_encoder_follows_the_attention_choice(monkeypatch):
    """Under bfloat16 on a CPU with bf16 units the band-mixing layers use eager attention (SDPA's
    bf16 backward is slow there); it is the same function, with the same parameters and state
    dict keys as ``nn.TransformerEncoderLayer`` (old checkpoints load)."""
    from allspark.engine import precision

    monkeypatch.delenv('ALLSPARK_ATTENTION', raising=False)
    monkeypatch.setattr(precision, 'bf16_is_fast', lambda device_type='cpu': True)
    torch.manual_seed(0)
    enc = SpectralTransformerEncoder(num_bands=12, embed_dim=16, depth=2, num_heads=2).train()
    reference = torch.nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, activation='gelu',
                                                 batch_first=True, norm_first=True)
    assert set(enc.blocks.layers[0].state_dict()) == set(reference.state_dict())
    x = torch.randn(3, 12)

    def run():
        enc.zero_grad()
        out = enc(x)
        out.square().sum().backward()
        return out.detach(), [p.grad.clone() for p in enc.parameters()]

    precision.follow_attention_choice(enc, 'cpu', torch.float32)
    assert all(layer.fused_attn for layer in enc.blocks.layers)
    fused_out, fused_grads = run()
    precision.follow_attention_choice(enc, 'cpu', torch.bfloat16)
    assert not any(layer.fused_attn for layer in enc.blocks.layers)

    def no_sdpa(*args, **kwargs):
        raise AssertionError('SDPA called in eager mode')

    monkeypatch.setattr(torch.nn.functional, 'scaled_dot_product_attention', no_sdpa)
    eager_out, eager_grads = run()
    torch.testing.assert_close(eager_out, fused_out, rtol=1e-5, atol=1e-5)
    for eager, fused in zip(eager_grads, fused_grads):
        torch.testing.assert_close(eager, fused, rtol=1e-3, atol=1e-4)  # float rounding


def test_hsi_config_trains_end_to_end(tmp_path):
    cube, gt = make_scene()
    root = write_mat(str(tmp_path / 'data'), cube, gt)
    png = str(tmp_path / 'work' / 'map.png')
    opts = {}
    for loader in ('train_dataloader', 'test_dataloader'):
        opts[f'{loader}.dataset.data_root'] = root
        opts[f'{loader}.dataset.image_file'] = 'cube.mat'
        opts[f'{loader}.dataset.gt_file'] = 'gt.mat'
    opts['test_evaluator.map_png'] = png
    opts['test_evaluator.num_classes'] = 3
    opts['model.head.num_classes'] = 3
    metrics = run_smoke_training('hsi::salinas_a.py',
                                 str(tmp_path / 'work'), max_iters=20, batch_size=8,
                                 cfg_options=opts)
    # 3 classes with distinct spectra (chance 33%): the model must have learnt them
    assert metrics['accuracy'] >= 66.0 and 'kappa' in metrics, metrics
    assert os.path.getsize(png) > 1000  # the predicted map next to the ground truth
    assert os.path.exists(tmp_path / 'work' / 'iter_20.pth')
