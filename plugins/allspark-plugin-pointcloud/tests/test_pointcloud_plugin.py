"""The plugin end to end: discovery, both datasets, augmentations, and the real configs trained
for a few iterations on fixtures (tiny random language model)."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pointcloud_fixtures import CLASSES, write_h5, write_modelnet_npy  # noqa: E402

from allspark import plugins  # noqa: E402
from allspark.datasets import DataError  # noqa: E402
from allspark.testing import run_smoke_training  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
DATA = '/work/shared/data/modelnet40'


def test_plugin_is_discovered():
    from allspark.registry import DATASETS, ENCODERS, TRANSFORMS

    plugins.load_plugins()
    rec = plugins.get_record('pointcloud')
    assert rec is not None and rec.status == 'ok', rec
    assert rec.modalities == ['pointcloud'] and rec.package == 'allspark_plugin_pointcloud'
    # (other tests may have imported the modules first, so check the registries themselves)
    encoder = ENCODERS.get('PointTransformerEncoder')
    assert encoder.__module__ == 'allspark_plugin_pointcloud.encoder'
    from allspark_plugin_pointcloud import dataset, dataset_h5, transforms

    assert DATASETS.get('ModelNet40Dataset') is dataset.ModelNet40Dataset
    assert DATASETS.get('ModelNet40H5Dataset') is dataset_h5.ModelNet40H5Dataset
    assert TRANSFORMS.get('PointCloudScaleTranslate') is transforms.PointCloudScaleTranslate
    assert TRANSFORMS.get('PointCloudRandomDropout') is transforms.PointCloudRandomDropout


def test_datasets_and_policy(tmp_path):
    from allspark_plugin_pointcloud.dataset import ModelNet40Dataset
    from allspark_plugin_pointcloud.dataset_h5 import ModelNet40H5Dataset

    root = write_modelnet_npy(str(tmp_path / 'mn'), per_class=2, n=40)  # 40 < 64 points
    ds = ModelNet40Dataset(root, 'test', num_points=64)
    assert ds.classes == list(CLASSES) and len(ds) == 6
    sample = ds[0]
    cloud = sample['inputs']['pointcloud']
    assert cloud.shape == (64, 3) and sample['data_samples']['gt_label'] == 0
    np.testing.assert_array_equal(cloud, ds[0]['inputs']['pointcloud'])  # deterministic at test
    # the same layout without index files is scanned
    bare = write_modelnet_npy(str(tmp_path / 'bare'), per_class=2, n=80, with_index=False)
    assert len(ModelNet40Dataset(bare, 'train', num_points=64)) == 6
    h5 = ModelNet40H5Dataset(write_h5(str(tmp_path / 'h5')), 'train', num_points=100)
    assert len(h5) == 6 and h5[1]['inputs']['pointcloud'].shape == (100, 3)
    # a bad file inside a dataset: the error names it
    np.save(os.path.join(root, 'ModelNet40', 'box', 'test', 'box_0000.npy'),
            np.full((10, 3), np.nan, np.float32))
    with pytest.raises(DataError, match=r'box_0000\.npy.*NaN'):
        ds[0]


def test_augmentations_keep_shape():
    from allspark_plugin_pointcloud.transforms import (
        PointCloudRandomDropout,
        PointCloudScaleTranslate,
    )

    np.random.seed(0)
    pts = np.random.rand(128, 3).astype(np.float32)
    out = PointCloudScaleTranslate(0.8, 1.25, 0.1)({'pointcloud': pts})['pointcloud']
    ratio = (out - out.mean(0)).std(0) / (pts - pts.mean(0)).std(0)
    assert out.shape == pts.shape and ((ratio > 0.79) & (ratio < 1.26)).all()
    drop = PointCloudRandomDropout(0.875)({'pointcloud': pts})['pointcloud']
    assert drop.shape == pts.shape and len(np.unique(drop, axis=0)) < 128


@pytest.mark.parametrize('config', ['pointcloud::modelnet40_cpu.py',
                                    'pointcloud::modelnet40_long.py',
                                    'pointcloud::modelnet40.py'])
def test_config_trains_end_to_end(tmp_path, config):
    root = write_modelnet_npy(str(tmp_path / 'mn'), per_class=2, n=200)
    opts = {f'{k}.dataset.data_root': root
            for k in ('train_dataloader', 'val_dataloader', 'test_dataloader')}
    if config == 'pointcloud::modelnet40.py':  # the paper-sized encoder, cut to 1 layer here
        opts['model.modalities.pointcloud.encoder.depth'] = 1
    metrics = run_smoke_training(config, str(tmp_path / 'work'),
                                 max_iters=2, batch_size=3,
                                 cfg_options={**opts, 'model.head.num_classes': 3,
                                              'val_evaluator.num_classes': 3,
                                              'test_evaluator.num_classes': 3})
    # 2 steps: each config builds, trains, evaluates and checkpoints (learning is not asserted here)
    assert {'accuracy', 'mean_class_accuracy'} <= set(metrics)
    assert os.path.exists(tmp_path / 'work' / 'iter_2.pth')


def test_real_data_when_present():
    if not os.path.isdir(DATA):
        pytest.skip('shared ModelNet40 copy not present')
    from allspark_plugin_pointcloud.dataset import ModelNet40Dataset

    ds = ModelNet40Dataset(DATA, 'test')
    assert len(ds) == 910 and len(ds.classes) == 40
    assert ds[0]['inputs']['pointcloud'].shape == (1024, 3)
