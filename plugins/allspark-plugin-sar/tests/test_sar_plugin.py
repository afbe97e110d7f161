"""SAR plugin: discovery through its entry point, encoder, baseline, the real configs end to end."""
import math
import os
import sys

import pytest
import torch
from mmengine.registry import DefaultScope
from sar_fixtures import write_geotiff_tree, write_jpeg_tree

from allspark import plugins
from allspark.benchmarking import labelled_inputs, predict_classifier, train_classifier
from allspark.registry import DATASETS, ENCODERS
from allspark.testing import run_smoke_training
from allspark_plugin_sar.baselines import AConvNets, normalize_chips
from allspark_plugin_sar.dataset import MSTARDataset
from allspark_plugin_sar.encoder import SARConvEncoder

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
if REPO not in sys.path:
    sys.path.insert(0, REPO)
from tests.plugin_env import PluginSandbox, make_distribution  # noqa: E402


@pytest.mark.parametrize('channels', [1, 2])
@pytest.mark.parametrize('pool', ['stride', 'max'])
def test_sar_encoder_shapes(channels, pool):
    enc = SARConvEncoder(in_chans=channels, img_size=88, widths=(8, 16, 24), pool=pool)
    tokens = enc(torch.randn(2, channels, 88, 88))
    assert tokens.shape == (2, 121, 24) and enc.out_dim == 24
    tokens.sum().backward()
    assert enc.features[0].weight.grad is not None
    with pytest.raises(ValueError, match=r'expects \(B, %d, 88, 88\)' % channels):
        enc(torch.randn(2, channels + 1, 88, 88))
    with pytest.raises(ValueError, match='multiple of'):
        SARConvEncoder(img_size=90)


def test_sar_aconvnets_baseline_trains(tmp_path):
    root = write_jpeg_tree(str(tmp_path / 'mstar'), per_class=3)
    with DefaultScope.overwrite_default_scope('allspark'):
        train = MSTARDataset(root, 'train', crop_size=96,
                             pipeline=[dict(type='RandomCrop', size=88, keys='sar')])
        test = MSTARDataset(root, 'test', crop_size=88)
    model = AConvNets(num_classes=3)
    assert model(torch.randn(2, 1, 88, 88)).shape == (2, 3)
    stats = train.stats()['inputs']['sar']
    to_xy = labelled_inputs('sar', normalize_chips(stats['mean'], stats['std']))
    info = train_classifier(model, train, 2, batch_size=4, to_xy=to_xy, log=None)
    assert info['iters'] == 4 and math.isfinite(info['final_loss'])
    out = predict_classifier(model, test, to_xy=to_xy)
    assert out['pred'].shape == (9,) and out['samples_per_s'] > 0
    with pytest.raises(ValueError, match='88 x 88'):
        model(torch.randn(1, 1, 96, 96))


def _sandbox(tmp_path):
    site = make_distribution(str(tmp_path / 'site'), 'allspark-plugin-sar', '0.1.0',
                             {'sar': 'allspark_plugin_sar:plugin'})
    return PluginSandbox(site, os.path.join(REPO, 'plugins', 'allspark-plugin-sar'))


def test_sar_config_trains_end_to_end(tmp_path):
    config = 'sar::mstar_cpu.py'
    data = write_jpeg_tree(str(tmp_path / 'mstar'), per_class=4)
    png = str(tmp_path / 'confusion.png')
    with _sandbox(tmp_path) as recs:
        rec = plugins.get_record('sar')
        assert rec is not None and rec.status == 'ok', recs
        assert rec.modalities == ['sar']
        assert ENCODERS.get('SARConvEncoder') is SARConvEncoder
        assert DATASETS.get('MSTARDataset') is MSTARDataset
        metrics = run_smoke_training(
            config, str(tmp_path / 'work'), max_iters=20,
            cfg_options={'train_dataloader.dataset.data_root': data,
                         'val_dataloader.dataset.data_root': data,
                         'test_dataloader.dataset.data_root': data,
                         'test_evaluator.confusion_png': png})
    # 3 classes (chance 33%), targets of class-dependent shape: the model must have learnt them
    assert metrics['accuracy'] >= 66.0 and 'kappa' in metrics, metrics
    assert os.path.exists(tmp_path / 'work' / 'iter_20.pth') and os.path.getsize(png) > 0
    ckpt = torch.load(tmp_path / 'work' / 'iter_20.pth', map_location='cpu', weights_only=True)
    mean = ckpt['state_dict']['data_preprocessor.sar_mean']
    assert 0.0 < float(mean) < 1.0  # training-split statistics saved with the checkpoint


def test_sar_two_channel_config_trains(tmp_path):
    data = write_geotiff_tree(str(tmp_path / 'pol'), per_class=4)
    with _sandbox(tmp_path):
        metrics = run_smoke_training(
            'sar::mstar_cpu.py', str(tmp_path / 'work'),
            max_iters=20, cfg_options={
                'channels': 2,
                'model.data_preprocessor.normalize.sar.channels': 2,
                'model.modalities.sar.encoder.in_chans': 2,
                'train_dataloader.dataset.channels': 2, 'test_dataloader.dataset.channels': 2,
                'val_dataloader.dataset.channels': 2,
                'train_dataloader.dataset.data_root': data,
                'val_dataloader.dataset.data_root': data,
                'test_dataloader.dataset.data_root': data,
                'test_evaluator.confusion_png': None})
    assert metrics['accuracy'] >= 66.0, metrics  # 3 classes: chance is 33%


def test_sar_full_config_builds_and_steps(tmp_path):
    """The full-schedule config (not trained in the tests: same code path, 8 queries, 30 epochs)."""
    from allspark.engine.runner import load_config
    from allspark.registry import MODELS
    from allspark.testing import tiny_language_model_cfg

    cfg = load_config('sar::mstar.py')
    assert cfg.train_cfg.max_epochs == 30 and cfg.model.modalities.sar.bridge.num_queries == 8
    cfg.model.language_model = tiny_language_model_cfg()
    model = MODELS.build(cfg.model)
    inputs = {'sar': torch.rand(2, 1, 88, 88)}
    samples = [dict(gt_label=0), dict(gt_label=9)]
    losses = model(**model.data_preprocessor(dict(inputs=inputs, data_samples=samples), True),
                   mode='loss')
    losses['loss_cls'].backward()
    assert model.encoders['sar'].features[0].weight.grad is not None
    assert model.bridges['sar'].num_queries == 8
