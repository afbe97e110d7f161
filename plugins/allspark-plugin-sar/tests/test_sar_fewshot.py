"""MSTAR's few-shot split (metainfo: 3 novel classes, descriptive class texts) and the few-shot
configs (base training on the 7 base classes only, ProtoNet with the same budget)."""
from sar_fixtures import write_jpeg_tree


def _dataset(**kwargs):
    import allspark
    from allspark.plugins import load_plugins
    from allspark.registry import DATASETS

    allspark.register_all_modules()
    load_plugins()
    return DATASETS.build(dict(type='MSTARDataset', **kwargs))


def test_mstar_fewshot_metainfo(tmp_path):
    root = write_jpeg_tree(str(tmp_path / 'mstar'), classes=('2S1', 'BRDM_2', 'D7', 'T72'),
                           per_class=2)
    info = _dataset(data_root=root, split='test').metainfo
    assert info['novel_classes'] == ['BRDM_2', 'D7']  # the ones of the fixed 3 present here
    assert info['base_classes'] == ['2S1', 'T72']
    assert info['class_texts']['D7'] == 'bulldozer'
    base_only = _dataset(data_root=root, split='train', classes=['2S1', 'T72']).metainfo
    assert base_only['novel_classes'] == [] and base_only['classes'] == ['2S1', 'T72']


def test_mstar_fewshot_configs():
    from allspark.engine.runner import load_config
    from allspark_plugin_sar.dataset import MSTARDataset

    base = load_config('sar::mstar_fewshot_base.py')
    proto = load_config('sar::mstar_fewshot_protonet.py')
    assert not set(base.train_dataloader.dataset.classes) & set(MSTARDataset.NOVEL_CLASSES)
    assert len(base.train_dataloader.dataset.classes) == 7
    assert base.model.head.class_texts == [MSTARDataset.CLASS_TEXTS[c]
                                           for c in base.base_classes]
    assert proto.model.head.type == 'PrototypeHead'
    sampler = proto.train_dataloader.sampler
    assert proto.train_dataloader.batch_size == sampler.way * (sampler.shot + sampler.query)
    # same budget: 1,850 training chips of the base classes per epoch in both
    assert abs(base.train_cfg.max_epochs * 1850 -
               proto.train_cfg.max_epochs * sampler.episodes_per_epoch * 20) <= 20
