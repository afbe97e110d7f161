"""Checkpoints leave the frozen language model out, record its identity, refuse another one at
load time, still load older full checkpoints, keep LoRA adapters, and resume bit-identically."""
import os

import pytest
import torch

from allspark.engine.checkpoint import register_safe_globals
from allspark.engine.runner import build_runner, load_config
from allspark.models.language_model import (
    HFLanguageModel,
    LanguageModelMismatchError,
    decode_identity,
)
from allspark.registry import MODELS
from allspark.testing import smoke_config


def _model_cfg(repo_root, lm_dir, **lm):
    cfg = load_config(os.path.join(repo_root, 'configs', 'quickstart.py'))
    model = cfg.model.to_dict() if hasattr(cfg.model, 'to_dict') else dict(cfg.model)
    model['language_model'] = dict(type='HFLanguageModel', name_or_path=lm_dir, **lm)
    return model


def test_state_dict_has_what_trains_and_the_identity(repo_root, tiny_lm_dir):
    model = MODELS.build(_model_cfg(repo_root, tiny_lm_dir))
    state = model.state_dict()
    assert not [k for k in state if k.startswith('language_model.model.')]
    identity = decode_identity(state['language_model._extra_state'])
    assert identity['name_or_path'] == tiny_lm_dir
    assert len(identity['frozen_weights_sha256']) == 64
    assert identity['frozen_parameters'] == sum(1 for _ in model.language_model.parameters())
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and trainable <= set(state)

    # round trip into a freshly built model: strict, same outputs
    other = MODELS.build(_model_cfg(repo_root, tiny_lm_dir))
    assert not other.load_state_dict(state, strict=True).missing_keys
    other.eval(), model.eval()
    inputs = {'image': torch.randn(2, 1, 32, 32)}
    torch.testing.assert_close(other(inputs)['tokens'], model(inputs)['tokens'])


def test_another_language_model_is_refused_with_both_names(repo_root, tiny_lm_dir):
    state = MODELS.build(_model_cfg(repo_root, tiny_lm_dir)).state_dict()
    other = MODELS.build(_model_cfg(repo_root, tiny_lm_dir))
    with torch.no_grad():
        other.language_model.input_embeddings().weight.mul_(1.5)   # other weights, same name
    with pytest.raises(LanguageModelMismatchError, match='trained with the frozen language model'):
        other.load_state_dict(state, strict=True)


def test_full_checkpoints_still_load(repo_root, tiny_lm_dir):
    full_model = MODELS.build(_model_cfg(repo_root, tiny_lm_dir, save_frozen=True))
    full = full_model.state_dict()
    assert [k for k in full if k.startswith('language_model.model.')]
    slim = MODELS.build(_model_cfg(repo_root, tiny_lm_dir))
    with torch.no_grad():   # different weights are fine: the file carries its own
        slim.language_model.input_embeddings().weight.mul_(1.5)
    slim.load_state_dict(full, strict=True)
    torch.testing.assert_close(slim.language_model.input_embeddings().weight,
                               full_model.language_model.input_embeddings().weight)
    del full['language_model._extra_state']                  # as saved before this change
    slim.load_state_dict(full, strict=True)


def test_lora_adapters_are_kept(tiny_lm_dir):
    pytest.importorskip('peft')
    lm = HFLanguageModel(name_or_path=tiny_lm_dir,
                         lora=dict(r=2, lora_alpha=4, target_modules=['query', 'value']))
    state = lm.state_dict()
    lora_keys = [k for k in state if 'lora_' in k]
    assert lora_keys
    trainable = {n for n, p in lm.named_parameters() if p.requires_grad}
    assert trainable == set(lora_keys)
    assert set(state) == trainable | {'_extra_state'}


def _resume_cfg(repo_root, lm_dir, work_dir, name):
    cfg = load_config(os.path.join(repo_root, 'configs', 'quickstart.py'))
    cfg = smoke_config(cfg, work_dir, max_iters=4, batch_size=8, tiny_lm=False)
    cfg.model.language_model = dict(type='HFLanguageModel', name_or_path=lm_dir)
    cfg.model.modalities.image.bridge.update(dropout=0.1)   # the random state matters
    cfg.train_dataloader.dataset.num_samples = 64
    for key in ('val_dataloader', 'test_dataloader'):
        cfg[key].dataset.num_samples = 16
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=2, by_epoch=False,
                                        max_keep_ckpts=10)
    cfg.experiment_name = name
    return cfg


def test_slim_checkpoint_resumes_bit_identically(tmp_path, repo_root, tiny_lm_dir):
    register_safe_globals()
    ref_dir, run_dir = str(tmp_path / 'ref'), str(tmp_path / 'run')
    build_runner(_resume_cfg(repo_root, tiny_lm_dir, ref_dir, 'slim_ref')).train()
    ref = torch.load(os.path.join(ref_dir, 'iter_4.pth'), map_location='cpu', weights_only=True)
    assert not [k for k in ref['state_dict'] if k.startswith('language_model.model.')]
    assert 'language_model._extra_state' in ref['state_dict']

    os.makedirs(run_dir)
    os.link(os.path.join(ref_dir, 'iter_2.pth'), os.path.join(run_dir, 'iter_2.pth'))
    runner = build_runner(_resume_cfg(repo_root, tiny_lm_dir, run_dir, 'slim_run'),
                          resume=os.path.join(run_dir, 'iter_2.pth'))
    runner.train()
    got = torch.load(os.path.join(run_dir, 'iter_4.pth'), map_location='cpu', weights_only=True)
    assert got['state_dict'].keys() == ref['state_dict'].keys()
    for key, value in ref['state_dict'].items():
        if isinstance(value, torch.Tensor):
            assert torch.equal(value, got['state_dict'][key]), f'{key} differs after resume'
    for a, b in zip(ref['optimizer']['state'].values(), got['optimizer']['state'].values()):
        assert torch.equal(a['exp_avg'], b['exp_avg'])
