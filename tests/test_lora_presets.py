"""LoRA presets (issue 16): ``allspark::_base_/lora/minilm.py`` (query, value) and
``allspark::_base_/lora/llama.py`` (q_proj, v_proj) build adapters through peft on exactly those
projections, and the ``--cfg-options`` spelling in their headers gives the same dict."""
import argparse
import os

import pytest
import torch
from mmengine.config import DictAction

from allspark.config import load_config
from allspark.engine.runner import setup
from allspark.models.language_model import HFLanguageModel
from allspark.registry import MODELS

pytest.importorskip('peft')


def lora_counts(lm: HFLanguageModel) -> dict:
    counts = {}
    for name, p in lm.named_parameters():
        if p.requires_grad:
            assert 'lora_' in name, name
            proj = name.split('.lora_')[0].rsplit('.', 1)[-1]
            counts[proj] = counts.get(proj, 0) + p.numel()
    return counts


def test_minilm_preset_in_a_config(tmp_path, repo_root, tiny_lm_dir):
    setup()
    cfg_file = tmp_path / 'quickstart_lora.py'
    cfg_file.write_text(
        f"_base_ = [{os.path.join(repo_root, 'configs', 'quickstart.py')!r}, "
        f"'allspark::_base_/lora/minilm.py']\n"
        "model = dict(language_model=dict(lora={{_base_.lora_minilm}}))\n")
    cfg = load_config(str(cfg_file), {'model.language_model.name_or_path': tiny_lm_dir})
    assert cfg.model.language_model.lora == dict(r=8, lora_alpha=16, lora_dropout=0.05,
                                                 target_modules=['query', 'value'])
    model = MODELS.build(cfg.model)
    # tiny BERT: 2 layers, width 32 -> per projection 2 x (32 x 8 + 8 x 32)
    assert lora_counts(model.language_model) == {'query': 1024, 'value': 1024}


def test_minilm_preset_count_on_the_real_minilm():
    preset = load_config('allspark::_base_/lora/minilm.py').lora_minilm
    lm = HFLanguageModel(lora=dict(preset))  # the embedded all-MiniLM-L6-v2
    counts = lora_counts(lm)
    assert counts == {'query': 36864, 'value': 36864}  # 73,728 as the preset's header says


def test_presets_match_their_cfg_options_spelling(repo_root):
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    for name, targets in (('minilm', 'query,value'), ('llama', 'q_proj,v_proj')):
        args = parser.parse_args([
            '--cfg-options', 'model.language_model.lora.r=8',
            'model.language_model.lora.lora_alpha=16',
            'model.language_model.lora.lora_dropout=0.05',
            f'model.language_model.lora.target_modules=[{targets}]'])
        cfg = load_config(os.path.join(repo_root, 'configs', 'quickstart.py'), args.cfg_options)
        preset = load_config(os.path.join(repo_root, 'allspark', 'configs', '_base_', 'lora',
                                          f'{name}.py'))
        assert cfg.model.language_model.lora == preset[f'lora_{name}']


def test_llama_preset_targets_q_and_v():
    setup()
    preset = load_config('allspark::_base_/lora/llama.py').lora_llama
    lm = HFLanguageModel('tiny-llama', causal=False, lora=dict(preset), from_config=dict(
        model_type='llama', hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2, vocab_size=100,
        max_position_embeddings=64))
    assert lora_counts(lm) == {'q_proj': 1024, 'v_proj': 1024}
    lm.train()
    out = lm(torch.randn(1, 4, 32), torch.ones(1, 4, dtype=torch.long))
    out.sum().backward()
    assert any(p.grad is not None for n, p in lm.named_parameters() if 'lora_B' in n)
