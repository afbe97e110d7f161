"""Dataset packing, collation errors, statistics flowing into the model."""
import numpy as np
import pytest
import torch

import allspark
from allspark.datasets import DataError, allspark_collate
from allspark.datasets.synthetic import SyntheticGratingDataset
from allspark.datasets.transforms import CenterCrop, RandomCrop
from allspark.registry import MODELS

allspark.register_all_modules()


def test_synthetic_dataset_is_deterministic_and_packed():
    a = SyntheticGratingDataset(num_samples=8, split='train')
    b = SyntheticGratingDataset(num_samples=8, split='train')
    x, y = a[3], b[3]
    assert np.array_equal(x['inputs']['image'], y['inputs']['image'])
    assert x['data_samples']['gt_label'] == 3
    assert not np.array_equal(a[3]['inputs']['image'],
                              SyntheticGratingDataset(num_samples=8,
                                                      split='val')[3]['inputs']['image'])


def test_collate_stacks_and_keeps_strings():
    batch = allspark_collate([dict(inputs=dict(x=np.ones((2, 3), np.float32), t='a'),
                                   data_samples=dict(gt_label=1, path='p1')),
                              dict(inputs=dict(x=np.zeros((2, 3), np.float32), t='b'),
                                   data_samples=dict(gt_label=0, path='p2'))])
    assert batch['inputs']['x'].shape == (2, 2, 3) and batch['inputs']['t'] == ['a', 'b']
    assert batch['data_samples'][1] == dict(gt_label=0, path='p2')


def test_collate_shape_mismatch_names_the_input():
    with pytest.raises(DataError, match="input 'x'.*different shapes"):
        allspark_collate([dict(inputs=dict(x=np.ones((2, 3))), data_samples={}),
                          dict(inputs=dict(x=np.ones((2, 4))), data_samples={})])


def test_crops():
    sample = dict(img=np.arange(2 * 10 * 12, dtype=np.float32).reshape(2, 10, 12))
    out = CenterCrop(4, keys='img')(dict(sample))
    assert out['img'].shape == (2, 4, 4) and out['img'][0, 0, 0] == 3 * 12 + 4
    assert RandomCrop(8, padding=2, keys='img')(dict(sample))['img'].shape == (2, 8, 8)
    padded = CenterCrop(14, keys='img')(dict(sample))['img']
    assert padded.shape == (2, 14, 14) and padded[0, 0, 0] == 0


def test_dataset_stats_reach_the_model_buffers(tiny_lm_dir):
    model = MODELS.build(dict(
        type='AllSpark',
        modalities=dict(image=dict(encoder=dict(type='PatchEncoder', in_chans=2, img_size=8,
                                                patch_size=4, embed_dim=16),
                                   bridge=dict(type='PerceiverBridge', num_queries=2, depth=1,
                                               num_heads=2))),
        language_model=dict(type='HFLanguageModel', name_or_path=tiny_lm_dir),
        data_preprocessor=dict(type='AllSparkDataPreprocessor',
                               normalize=dict(image=dict(channels=2))),
        head=dict(type='LinearRegHead', out_dim=1)))
    model.apply_dataset_stats({'inputs': {'image': {'mean': [1.0, 2.0], 'std': [2.0, 4.0]}},
                               'target': {'mean': [10.0], 'std': [5.0]}})
    state = model.state_dict()
    assert torch.equal(state['data_preprocessor.image_mean'], torch.tensor([1.0, 2.0]))
    assert torch.equal(state['head.scaling.target_std'], torch.tensor([5.0]))
    x = torch.stack([torch.full((8, 8), 3.0), torch.full((8, 8), 6.0)])[None]
    out = model.data_preprocessor(dict(inputs=dict(image=x), data_samples=[{}]))
    assert torch.allclose(out['inputs']['image'], torch.ones_like(x))
    with pytest.raises(ValueError, match='2 channels'):
        model.apply_dataset_stats({'inputs': {'image': {'mean': [0.0] * 3, 'std': [1.0] * 3}}})
