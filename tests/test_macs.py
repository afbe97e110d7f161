"""``allspark.macs`` / ``allspark benchmark --macs``: MACs counted on the meta device (no weights)
equal the count of the same model run for real, agree with a hand count, and the command writes
them out."""
import json
import os

import torch

from allspark import macs


def _quickstart(repo_root):
    from allspark.engine.runner import load_config

    cfg = load_config(os.path.join(repo_root, 'configs', 'quickstart.py'))
    cfg.model.language_model = dict(macs.TINY_LANGUAGE_MODEL)  # from a config: meta-buildable
    return cfg


def test_meta_count_equals_real_count(repo_root):
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    from allspark.registry import MODELS

    cfg = _quickstart(repo_root)
    torch.manual_seed(0)
    real = MODELS.build(cfg.model).eval().requires_grad_(False)  # no grad hooks for the counter
    with torch.device('meta'):
        meta = MODELS.build(cfg.model)
    assert next(meta.language_model.parameters()).is_meta
    # the real model on real zeros, counted directly; attention through the math kernel, since
    # the flop counter does not count the fused CPU kernel (_scaled_dot_product_flash_attention_
    # for_cpu): without it the real count misses the attention products the meta count has
    x = torch.zeros(1, 1, 32, 32)
    with torch.no_grad(), sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        real(inputs={'image': x}, mode='tensor')
    # the meta model on its example input (same shape), through allspark.macs
    inputs = macs.example_inputs(meta, cfg.test_dataloader)
    assert tuple(inputs['image'].shape) == (1, 1, 32, 32) and inputs['image'].is_meta
    trainable = [p.requires_grad for p in meta.parameters()]
    r = macs.count_macs(meta, inputs)
    assert r['macs'] == counter.get_total_flops() / 2 > 0
    assert [p.requires_grad for p in meta.parameters()] == trainable  # flags restored
    # hand count of the patch encoder: a 4x4 convolution, 1 -> 64 channels, on an 8x8 grid
    assert r['components']['encoder:image'] == 8 * 8 * 64 * 1 * 4 * 4
    assert {'bridge:image', 'language_model'} <= set(r['components'])
    assert sum(r['components'].values()) <= r['macs']
    # the LM reads the 8 bridged queries after the (first, evaluation) prompt's tokens
    assert len(r['lm_tokens']) == 1 and r['lm_tokens'][0] > 8


def test_benchmark_macs_command(repo_root, tmp_path):
    from allspark.commands import benchmark

    out = tmp_path / 'macs.json'
    rc = benchmark.main(['--macs', os.path.join(repo_root, 'configs', 'quickstart.py'),
                         '--tiny-lm', '--batch-size', '2', '--out', str(out)])
    assert rc == 0
    (r,) = json.loads(out.read_text())
    assert r['batch_size'] == 2 and r['macs_per_sample'] > 0
    assert r['components']['encoder:image'] == 8 * 8 * 64 * 1 * 4 * 4  # per sample
