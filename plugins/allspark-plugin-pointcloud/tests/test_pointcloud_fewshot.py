"""ModelNet40's few-shot split (metainfo), ``split='all'`` and ``classes=`` subsets; the
few-shot configs build."""

import pytest
from pointcloud_fixtures import write_modelnet_npy


def _dataset(**kwargs):
    import allspark
    from allspark.plugins import load_plugins
    from allspark.registry import DATASETS

    allspark.register_all_modules()
    load_plugins()
    return DATASETS.build(dict(type='ModelNet40Dataset', num_points=64, **kwargs))


def test_modelnet40_fewshot_split_is_fixed_and_documented():
    from allspark_plugin_pointcloud.dataset import ModelNet40Dataset

    names = sorted(['airplane', 'bathtub', 'bed', 'bench', 'bookshelf', 'bottle', 'bowl', 'car',
                    'chair', 'cone', 'cup', 'curtain', 'desk', 'door', 'dresser', 'flower_pot',
                    'glass_box', 'guitar', 'keyboard', 'lamp', 'laptop', 'mantel', 'monitor',
                    'night_stand', 'person', 'piano', 'plant', 'radio', 'range_hood', 'sink',
                    'sofa', 'stairs', 'stool', 'table', 'tent', 'toilet', 'tv_stand', 'vase',
                    'wardrobe', 'xbox'])
    # the documented rule: every fourth class of the sorted 40, starting with the fourth
    assert list(ModelNet40Dataset.NOVEL_CLASSES) == names[3::4]


def test_modelnet40_all_split_and_class_subset(tmp_path):
    root = write_modelnet_npy(str(tmp_path / 'mn'), per_class=3)
    both = _dataset(data_root=root, split='all')
    assert len(both) == 18  # 3 classes x (3 train + 3 test)
    info = both.metainfo
    assert info['novel_classes'] == []  # none of ModelNet40's novel classes in this fixture
    assert info['base_classes'] == ['box', 'sphere', 'plane']
    sub = _dataset(data_root=root, split='train', classes=['plane', 'box'])
    assert sub.classes == ['box', 'plane']  # the file's (shape_names.txt) order is kept
    assert sorted({s['gt_label'] for s in sub.samples}) == [0, 1] and len(sub) == 6
    assert all('sphere' not in s['path'] for s in sub.samples)
    with pytest.raises(Exception, match="classes \\['cube'\\] are not among"):
        _dataset(data_root=root, split='train', classes=['cube'])


def test_modelnet40_fewshot_configs_build():
    from allspark.engine.runner import load_config

    base = load_config('pointcloud::modelnet40_fewshot_base.py')
    proto = load_config('pointcloud::modelnet40_fewshot_protonet.py')
    assert base.model.head.type == 'TextPrototypeHead' and len(base.model.head.class_texts) == 30
    assert base.train_dataloader.dataset.classes == base.base_classes
    assert proto.model.head.type == 'PrototypeHead'
    assert proto.train_dataloader.batch_size == 20
    assert proto.train_dataloader.sampler.type == 'EpisodicSampler'
    # same budget: epochs x 1,200 objects = epochs x 60 episodes x 20 objects
    assert base.train_cfg.max_epochs * 1200 == \
        proto.train_cfg.max_epochs * proto.train_dataloader.sampler.episodes_per_epoch * 20
