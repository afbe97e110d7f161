"""MSI plugin, co-located data: EuroSATCoLocatedDataset (MSI, RGB, tile centre, caption; dropped
modalities), SatCLIPS2Dataset, and the alignment config + `allspark retrieval` end to end on
tiny GeoTIFF fixtures in the original layouts."""
import argparse
import json
import os
import sys

import numpy as np
import pytest

from allspark import plugins
from allspark.datasets import DataError, allspark_collate

plugins.load_plugins()
if plugins.get_record('msi') is None:  # not pip-installed: register from the source tree
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import allspark_plugin_msi.colocated  # noqa: F401,E402
    import allspark_plugin_msi.dataset  # noqa: F401,E402
    import allspark_plugin_msi.encoder  # noqa: F401,E402
    import allspark_plugin_msi.s2_100k  # noqa: F401,E402

rasterio = pytest.importorskip('rasterio')
from rasterio.transform import from_origin  # noqa: E402

from allspark_plugin_msi.colocated import EuroSATCoLocatedDataset  # noqa: E402
from allspark_plugin_msi.s2_100k import S2_100K_BANDS, SatCLIPS2Dataset  # noqa: E402

SIZE = 64


def write_tif(path, data, crs='EPSG:32631', origin=(500000 - 320.0, 5000320.0), pixel=10.0):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    c, h, w = data.shape
    with rasterio.open(path, 'w', driver='GTiff', count=c, height=h, width=w, dtype=data.dtype,
                       crs=crs, transform=from_origin(*origin, pixel, pixel)) as dst:
        dst.write(data)
    return path


def make_colocated(root, classes=('Forest', 'SeaLake'), n_train=4, n_test=2, seed=0):
    """EuroSAT layout; each class sits in its own place (tiles 100 km apart along a row)."""
    rng = np.random.default_rng(seed)
    for split, n in (('train', n_train), ('test', n_test)):
        for k, cls in enumerate(classes):
            for i in range(n):
                data = (800 + 1500 * k + 200 * rng.random((13, SIZE, SIZE))).astype(np.uint16)
                east = 500000 - 320.0 + 100000 * k + 2000 * i + (1000 if split == 'test' else 0)
                write_tif(os.path.join(root, split, cls, f'{cls}_{i}.tif'), data,
                          origin=(east, 5000320.0))
    return str(root)


@pytest.fixture
def colocated(tmp_path):
    return make_colocated(tmp_path / 'eurosat')


def test_four_colocated_modalities(colocated):
    ds = EuroSATCoLocatedDataset(colocated, 'train')
    assert len(ds) == 8 and ds.modalities == ['msi', 'rgb', 'location', 'caption']
    sample = ds[0]
    inputs, meta = sample['inputs'], sample['data_samples']
    assert inputs['msi'].shape == (13, SIZE, SIZE)
    raw = ds.get_sample(0)['msi']
    np.testing.assert_allclose(inputs['rgb'], np.clip(raw[[3, 2, 1]] * 3e-4, 0, 1), rtol=1e-6)
    # UTM 31N, centre on the central meridian (3 deg E) at northing 5,000,000 m
    lat, lon = inputs['location']
    assert lon == pytest.approx(3.0, abs=1e-6) and lat == pytest.approx(45.1535, abs=1e-3)
    assert tuple(meta['coords']) == tuple(inputs['location'])  # (lat, lon): latitude first
    assert inputs['caption'] == 'A satellite image of a forest.'
    assert meta['class_name'] == 'Forest'
    # the next class sits 100 km east
    assert ds[4]['inputs']['location'][1] > 4.2
    stats = ds.stats()['inputs']
    assert len(stats['msi']['mean']) == 13 and len(stats['rgb']['mean']) == 3


def test_dropped_modalities_are_absent_and_masked(colocated):
    ds = EuroSATCoLocatedDataset(colocated, 'train', drop_prob=dict(rgb=0.5, caption=0.5),
                                 drop_seed=3)
    kept = [ds.kept_modalities(i) for i in range(len(ds))]
    assert kept == [ds.kept_modalities(i) for i in range(len(ds))]  # the same tiles, always
    assert any('rgb' not in k for k in kept) and any('rgb' in k for k in kept)
    batch = allspark_collate([ds[i] for i in range(len(ds))])
    mask = batch['inputs']['modality_mask']
    assert mask['rgb'].tolist() == ['rgb' in k for k in kept]
    assert 'msi' not in mask  # never dropped
    # nothing at all: a sample keeps one modality
    every = EuroSATCoLocatedDataset(colocated, 'train', modalities=['msi', 'location'],
                                    drop_prob=dict(msi=0.99, location=0.99))
    assert all(len(every.kept_modalities(i)) == 1 for i in range(len(every)))
    with pytest.raises(ValueError, match="drop_prob names \\['rgb'\\]"):
        EuroSATCoLocatedDataset(colocated, 'train', modalities=['msi'], drop_prob=dict(rgb=0.5))


def test_extra_roots_join_the_split(colocated, tmp_path):
    extra = make_colocated(tmp_path / 'more', classes=('Forest',), n_train=2, n_test=1, seed=1)
    ds = EuroSATCoLocatedDataset(colocated, 'test', extra_roots=[extra])
    assert len(ds) == 4 + 1 and ds.classes == ['Forest', 'SeaLake']
    bad = make_colocated(tmp_path / 'bad', classes=('Pasture',), n_train=1, n_test=1)
    with pytest.raises(DataError, match='Pasture'):
        EuroSATCoLocatedDataset(colocated, 'train', extra_roots=[bad])


def test_tile_without_crs_is_an_error_naming_it(colocated):
    path = os.path.join(colocated, 'train', 'Forest', 'Forest_0.tif')
    data = np.full((13, SIZE, SIZE), 900, np.uint16)
    with rasterio.open(path, 'w', driver='GTiff', count=13, height=SIZE, width=SIZE,
                       dtype='uint16') as dst:
        dst.write(data)
    ds = EuroSATCoLocatedDataset(colocated, 'train')
    with pytest.raises(DataError, match=r'Forest_0\.tif has no CRS'):
        ds[0]


def make_s2_examples(root, n=3):
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        data = (100 * (np.arange(12)[:, None, None] + 1)
                + rng.integers(0, 5, (12, 16, 16))).astype(np.uint16)
        east = 500000 - 80.0 + 50000 * i
        path = write_tif(os.path.join(root, 'images', f'patch_{i}.tif'), data,
                         origin=(east, 5000080.0))
        with rasterio.open(path) as src:
            from allspark.geo import raster_center_latlon
            lat, lon = raster_center_latlon(src.crs, src.transform, 16, 16)
        rows.append(f'{lat},{lon},https://example.invalid/patch_{i}.tif,patch_{i}.tif')
    with open(os.path.join(root, 'index.csv'), 'w') as f:
        f.write('lat,lon,url,fn\n' + '\n'.join(rows) + '\n')
    return str(root)


def test_satclip_s2_patches_fit_a_eurosat_model(tmp_path):
    root = make_s2_examples(tmp_path / 's2')
    ds = SatCLIPS2Dataset(root, modalities=['msi', 'rgb', 'location'])
    sample = ds[0]['inputs']
    assert sample['msi'].shape == (13, 4, 4) and sample['rgb'].shape == (3, 4, 4)
    means = sample['msi'].mean(axis=(1, 2))
    assert means[9] == 0  # B10 (cirrus) is not in L2A: filled with zeros
    # B8A (S2-100K index 8, mean ~900) is EuroSAT's last band, B09 (index 9, ~1000) 10th
    assert 898 <= means[12] <= 905 and 998 <= means[8] <= 1005
    assert S2_100K_BANDS[8] == 'B8A'
    raw = SatCLIPS2Dataset(root, eurosat_layout=False, downsample=1)[0]['inputs']['msi']
    assert raw.shape == (12, 16, 16)


def test_satclip_index_errors_name_file_and_line(tmp_path):
    root = make_s2_examples(tmp_path / 's2')
    index = os.path.join(root, 'index.csv')
    lines = open(index).read().splitlines()
    lat, lon, url, fn = lines[2].split(',')
    lines[2] = ','.join([lon, lat, url, fn])  # (lon, lat) swapped: 3 deg "latitude"
    open(index, 'w').write('\n'.join(lines) + '\n')
    ds = SatCLIPS2Dataset(root)
    with pytest.raises(DataError, match=r'line 3: .* km from the centre'):
        ds[1]
    open(index, 'w').write('latitude,lon,fn\n1,2,patch_0.tif\n')
    with pytest.raises(DataError, match=r"lacks columns \['lat'\]"):
        SatCLIPS2Dataset(root)
    open(index, 'w').write('lat,lon,fn\n95,2,patch_0.tif\n')
    with pytest.raises(DataError, match=r'index.csv line 2: \(lat, lon\) = \(95.0, 2.0\)'):
        SatCLIPS2Dataset(root)


def test_alignment_config_and_retrieval_tool_end_to_end(colocated, tmp_path, capsys):
    from allspark.commands import retrieval
    from allspark.testing import run_smoke_training, smoke_config

    work = str(tmp_path / 'work')
    opts = {f'{k}.dataset.data_root': colocated
            for k in ('train_dataloader', 'val_dataloader', 'test_dataloader')}
    opts.update({f'{k}.dataset.extra_roots': [] for k in
                 ('train_dataloader', 'val_dataloader', 'test_dataloader')})
    opts['train_dataloader.dataset.drop_prob'] = dict(rgb=0.3, caption=0.3)  # incomplete data
    metrics = run_smoke_training('msi::eurosat_align_all.py', work, max_iters=3, batch_size=4,
                                 cfg_options=opts)
    assert 'msi->location/recall@5' in metrics and 'mean_excl_location/recall@5' in metrics
    # the retrieval tool on the checkpoint: a config file as the user has it
    cfg = smoke_config('msi::eurosat_align_all.py', work, 3, 4, True, opts)
    cfg_path = os.path.join(str(tmp_path), 'align.py')
    cfg.dump(cfg_path)
    out = str(tmp_path / 'out')
    parser = argparse.ArgumentParser()
    retrieval.add_arguments(parser)
    args = parser.parse_args([cfg_path, os.path.join(work, 'iter_3.pth'), '--out-dir', out,
                              '--grid-step', '30', '--region-step', '1', '--num-queries', '2',
                              '--topk', 'auto'])
    assert retrieval.run(args) == 0
    printed = capsys.readouterr().out
    assert '| msi -> location |' in printed and 'centroid' in printed
    result = json.load(open(os.path.join(out, 'retrieval.json')))
    assert result['pairs']['rgb->msi']['gallery'] == 4  # the whole test split
    assert set(result['geolocation']) == {'train', 'grid_30deg', 'region_1deg'}
    assert result['geolocation']['train']['msi']['n'] == 4
    assert 'within_25km' in result['centroid_baseline']
    assert result['topk_selection']['msi']['k'] in (1, 3, 5, 10, 25)
    assert os.path.getsize(os.path.join(out, 'retrieval.png')) > 10000
    with pytest.raises(SystemExit, match='checkpoint not found'):
        retrieval.run(parser.parse_args([cfg_path, 'nope.pth']))
