"""RGB plugin: class-folder scene datasets (TIFF / JPEG fixtures), splits, bad input, the timm
token encoder (ViT / CNN / frozen / adapted weights), the EVA-g config, and the real config
trained end to end on a tiny fixture."""
import os
import sys
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from allspark import plugins
from allspark.datasets import DataError

plugins.load_plugins()
if plugins.get_record('rgb') is None:  # not pip-installed: register from the source tree
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import allspark_plugin_rgb.dataset  # noqa: F401,E402
    import allspark_plugin_rgb.encoder  # noqa: F401,E402
    import allspark_plugin_rgb.prompts  # noqa: F401,E402
    import allspark_plugin_rgb.transforms  # noqa: F401,E402

from allspark_plugin_rgb.dataset import NWPURESISC45Dataset, UCMercedDataset  # noqa: E402
from allspark_plugin_rgb.encoder import TimmTokenEncoder  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def write_image(path, size=(40, 40), colour=(100, 150, 200), mode='RGB', seed=0):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rng = np.random.default_rng(seed)
    arr = np.clip(np.asarray(colour)[None, None] + rng.integers(-20, 20, (*size, 3)), 0, 255)
    img = Image.fromarray(arr.astype(np.uint8), 'RGB')
    if mode != 'RGB':
        img = img.convert(mode)
    img.save(path)
    return path


def make_folders(root, ext='.tif', classes=('beach', 'forest', 'river'), per_class=4):
    for k, cls in enumerate(classes):
        for i in range(per_class):
            write_image(os.path.join(root, cls, f'{cls}{i:02d}{ext}'),
                        colour=(60 * k + 40, 100, 200 - 60 * k), seed=i)
    return str(root)


@pytest.fixture
def ucm(tmp_path):
    return make_folders(tmp_path / 'ucm', '.tif')


def test_rgb_seeded_stratified_split(ucm):
    train = UCMercedDataset(ucm, 'train', train_ratio=0.5, seed=0)
    test = UCMercedDataset(ucm, 'test', train_ratio=0.5, seed=0)
    tr = {r['img_path'] for r in train.samples}
    te = {r['img_path'] for r in test.samples}
    assert len(tr) == len(te) == 6 and not tr & te  # 2 + 2 per class, disjoint
    assert np.bincount([r['gt_label'] for r in train.samples]).tolist() == [2, 2, 2]
    assert {r['img_path'] for r in UCMercedDataset(ucm, 'train', seed=0).samples} == tr
    other = [{r['img_path'] for r in UCMercedDataset(ucm, 'train', seed=s).samples}
             for s in range(1, 6)]
    assert any(o != tr for o in other)  # the seed matters
    s = train.get_sample(0)
    assert s['rgb'].shape == (3, 40, 40) and s['rgb'].dtype == np.float32
    assert train.metainfo['classes'] == ['beach', 'forest', 'river']
    mean = train.stats()['inputs']['rgb']['mean']
    pix = np.stack([train.get_sample(i)['rgb'] for i in range(len(train))])
    np.testing.assert_allclose(mean, pix.mean((0, 2, 3)), rtol=1e-6)
    assert UCMercedDataset(ucm, 'test', compute_stats=False).stats() is None


def test_rgb_nwpu_jpeg_twenty_percent(tmp_path):
    root = make_folders(tmp_path / 'nwpu', '.jpg', classes=('airplane', 'airport'),
                        per_class=10)
    train = NWPURESISC45Dataset(root, 'train')  # the paper's 20 % train
    test = NWPURESISC45Dataset(root, 'test')
    assert len(train) == 4 and len(test) == 16
    assert train.get_sample(0)['rgb'].shape == (3, 40, 40)


def test_rgb_split_files_and_unknown_test_class(ucm):
    os.makedirs(os.path.join(ucm, 'splits'))
    with open(os.path.join(ucm, 'splits', 'train.txt'), 'w') as f:
        f.write('# train\nbeach/beach00.tif\nforest/forest00.tif\n')
    with open(os.path.join(ucm, 'splits', 'test.txt'), 'w') as f:
        f.write('beach/beach01.tif\nriver/river01.tif\n')
    files = dict(train='splits/train.txt', test='splits/test.txt')
    assert len(UCMercedDataset(ucm, 'train', split_files=files)) == 2
    with pytest.raises(DataError, match=r"\['river'\] in the 'test' split are not in the "
                                        r"training split"):
        UCMercedDataset(ucm, 'test', split_files=files)


def test_rgb_presplit_folders_unknown_test_class(tmp_path):
    root = tmp_path / 'presplit'
    make_folders(root / 'train', classes=('beach', 'forest'), per_class=2)
    make_folders(root / 'test', classes=('beach', 'harbor'), per_class=1)
    assert len(UCMercedDataset(str(root), 'train')) == 4
    with pytest.raises(DataError, match='harbor'):
        UCMercedDataset(str(root), 'test')


def test_rgb_wrong_band_count(ucm):
    grey = write_image(os.path.join(ucm, 'beach', 'beach90.tif'), mode='L')
    rgba = write_image(os.path.join(ucm, 'forest', 'forest90.tif'), mode='RGBA')
    ds = UCMercedDataset(ucm, 'train', train_ratio=0.5, seed=0)
    ds.samples = [dict(img_path=grey, gt_label=0), dict(img_path=rgba, gt_label=1)]
    with pytest.raises(DataError) as err:
        ds.get_sample(0)
    assert grey in str(err.value) and 'has 1 bands' in str(err.value) and 'expected 3' in str(
        err.value)
    with pytest.raises(DataError, match=r'forest90.tif has 4 bands .*expected 3'):
        ds.get_sample(1)


def test_rgb_truncated_and_unreadable(tmp_path):
    root = make_folders(tmp_path / 'nwpu', '.jpg', classes=('airplane', 'airport'), per_class=5)
    big = os.path.join(root, 'airplane', 'airplane00.jpg')
    write_image(big, size=(256, 256))
    with open(big, 'r+b') as f:
        f.truncate(os.path.getsize(big) // 3)
    with open(os.path.join(root, 'airport', 'airport00.jpg'), 'wb') as f:
        f.write(b'not a jpeg at all')
    ds = NWPURESISC45Dataset(root, 'test', train_ratio=0.2, seed=0)
    errors = []
    for i in range(len(ds)):
        try:
            ds.get_sample(i)
        except DataError as exc:
            errors.append(str(exc))
    assert len(errors) == 2 and any('airplane00.jpg' in e for e in errors) and any(
        'airport00.jpg' in e for e in errors), errors
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        both = [NWPURESISC45Dataset(root, s, train_ratio=0.2, seed=0, skip_bad_files=True)
                for s in ('train', 'test')]
    assert sum(len(d.skipped) for d in both) == 2
    assert sum(len(d) for d in both) == 8
    assert any('skipped' in str(w.message) and 'bad file(s)' in str(w.message) for w in caught)


def test_rgb_nan_and_nodata_filled(tmp_path):
    rasterio = pytest.importorskip('rasterio')
    root = make_folders(tmp_path / 'ucm', '.tif', classes=('beach', 'forest'), per_class=2)
    data = np.full((3, 8, 8), 50.0, np.float32)
    data[:, 0, :] = 150.0
    data[1, 4, 4] = np.nan
    path = os.path.join(root, 'beach', 'beach_float.tif')
    with rasterio.open(path, 'w', driver='GTiff', count=3, height=8, width=8,
                       dtype='float32') as dst:
        dst.write(data)
    ds = UCMercedDataset(root, 'train', train_ratio=0.5, seed=0)
    ds.samples = [dict(img_path=path, gt_label=0)]
    s = ds.get_sample(0)
    assert np.isfinite(s['rgb']).all() and s['invalid_pixels'] == 1
    assert s['rgb'][1, 4, 4] == pytest.approx(np.nanmean(data[1]), rel=1e-5)
    # nodata value for 8-bit images (e.g. black borders): filled the same way
    img = np.full((8, 8, 3), 90, np.uint8)
    img[:2] = 0
    jpg = os.path.join(root, 'forest', 'forest_border.tif')
    Image.fromarray(img).save(jpg)
    ds = UCMercedDataset(root, 'train', train_ratio=0.5, seed=0, nodata=0)
    ds.samples = [dict(img_path=jpg, gt_label=1)]
    s = ds.get_sample(0)
    assert s['invalid_pixels'] == 2 * 8 * 3 and (s['rgb'] == 90).all()


def test_rgb_timm_token_encoder(tmp_path):
    vit = TimmTokenEncoder('vit_tiny_patch16_224', img_size=32,
                           model_kwargs=dict(patch_size=8, embed_dim=32, depth=1, num_heads=2))
    assert vit(torch.randn(2, 3, 32, 32)).shape == (2, 17, 32) and vit.out_dim == 32
    cnn = TimmTokenEncoder('resnet18', frozen=True)
    assert cnn(torch.randn(1, 3, 64, 64)).shape == (1, 4, 512)  # 2 x 2 cells of 512
    assert not any(p.requires_grad for p in cnn.parameters())
    cnn.train()
    assert not cnn.backbone.training  # frozen backbone stays in eval mode
    # RGB weights into a 4-channel backbone: first conv adapted the timm way
    from timm.models._manipulate import adapt_input_conv
    src = TimmTokenEncoder('resnet18').backbone
    path = str(tmp_path / 'r18.pth')
    torch.save(src.state_dict(), path)
    four = TimmTokenEncoder('resnet18', in_chans=4, checkpoint_path=path)
    torch.testing.assert_close(four.backbone.conv1.weight,
                               adapt_input_conv(4, src.conv1.weight.detach().clone()))
    torch.testing.assert_close(four.backbone.layer4[1].conv2.weight, src.layer4[1].conv2.weight)


def test_rgb_evag_config_builds():
    """The paper's EVA-g config: built on the meta device (no 4 GB of weights in a test)."""
    from allspark.engine.runner import load_config
    from allspark.registry import ENCODERS

    cfg = load_config('rgb::ucmerced_evag.py')
    enc_cfg = cfg.model.modalities.rgb.encoder
    assert enc_cfg.model_name == 'eva_giant_patch14_224' and enc_cfg.frozen
    with torch.device('meta'):
        enc = ENCODERS.build(enc_cfg)
    assert enc.out_dim == 1408 and len(enc.backbone.blocks) == 40
    assert not any(p.requires_grad for p in enc.parameters())
    assert cfg.train_dataloader.dataset.compute_stats is False


def test_rgb_config_trains_end_to_end(tmp_path):
    from allspark.testing import run_smoke_training

    ucm = make_folders(tmp_path / 'ucm', '.tif', per_class=8)  # enough test images to tell
    work = str(tmp_path / 'work')
    opts = {f'{k}.dataset.data_root': ucm
            for k in ('train_dataloader', 'val_dataloader', 'test_dataloader')}
    metrics = run_smoke_training('rgb::ucmerced.py', work,
                                 max_iters=20, batch_size=2, cfg_options=opts)
    # 3 classes of distinct colour (chance 33%): the model must have learnt them
    assert metrics['accuracy'] >= 66.0, metrics
    ckpt = torch.load(os.path.join(work, 'iter_20.pth'), map_location='cpu', weights_only=True)
    expected = UCMercedDataset(ucm, 'train').stats()['inputs']['rgb']['mean']
    np.testing.assert_allclose(ckpt['state_dict']['data_preprocessor.rgb_mean'].numpy(),
                               expected, rtol=1e-5)


def test_rgb_nwpu_config_datasets(tmp_path):
    from mmengine.registry import DefaultScope

    from allspark.engine.runner import load_config
    from allspark.registry import DATASETS

    root = make_folders(tmp_path / 'nwpu', '.jpg', classes=('airplane', 'airport'),
                        per_class=10)
    cfg = load_config('rgb::nwpu.py')
    with DefaultScope.overwrite_default_scope('allspark'):
        train = DATASETS.build(dict(cfg.train_dataloader.dataset, data_root=root))
        test = DATASETS.build(dict(cfg.test_dataloader.dataset, data_root=root))
        assert len(train) == 4 and len(test) == 16
        assert test[0]['inputs']['rgb'].shape == (3, 96, 96)
