"""Precision and attention choices: ``'auto'`` bfloat16 only where the device has bf16 units,
eager attention under bfloat16 on a CPU (same results as SDPA), and the switches reach the
optimizer wrapper, the evaluation loops, the language model and the bridge."""
import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from torch import nn

from allspark.engine import precision
from allspark.engine.precision import attention_implementation, resolve_bf16
from allspark.models.bridge import PerceiverBridge, eager_multihead_attention
from allspark.models.language_model import HFLanguageModel


def test_explicit_switches_win_and_auto_follows_the_environment(monkeypatch):
    monkeypatch.delenv('ALLSPARK_BF16', raising=False)
    assert resolve_bf16(True) is True and resolve_bf16(False) is False
    assert resolve_bf16('auto', 'cpu') == precision.bf16_is_fast('cpu')
    monkeypatch.setenv('ALLSPARK_BF16', '1')
    assert resolve_bf16('auto', 'cpu') is True
    assert resolve_bf16(False, 'cpu') is False          # an explicit False is kept
    monkeypatch.setenv('ALLSPARK_BF16', '0')
    assert resolve_bf16('auto', 'cpu') is False
    monkeypatch.setenv('ALLSPARK_BF16', 'maybe')
    with pytest.raises(ValueError, match='ALLSPARK_BF16'):
        resolve_bf16('auto', 'cpu')
    with pytest.raises(ValueError, match="'auto'"):
        resolve_bf16('sometimes', 'cpu')


def test_bf16_is_fast_follows_the_cpu_flags(monkeypatch):
    precision.bf16_is_fast.cache_clear()
    monkeypatch.setattr(torch.cpu, '_is_avx512_bf16_supported', lambda: False)
    monkeypatch.setattr(torch.cpu, '_is_amx_tile_supported', lambda: False)
    assert precision.bf16_is_fast('cpu') is False
    precision.bf16_is_fast.cache_clear()
    monkeypatch.setattr(torch.cpu, '_is_avx512_bf16_supported', lambda: True)
    assert precision.bf16_is_fast('cpu') is True
    precision.bf16_is_fast.cache_clear()


@pytest.fixture
def fast_cpu_bf16(monkeypatch):
    """Pretend the CPU has AVX512-BF16 (where eager attention wins under bfloat16)."""
    monkeypatch.delenv('ALLSPARK_ATTENTION', raising=False)
    monkeypatch.setattr(precision, 'bf16_is_fast', lambda device_type='cpu': True)


def test_attention_rule(monkeypatch):
    monkeypatch.delenv('ALLSPARK_ATTENTION', raising=False)
    monkeypatch.setattr(precision, 'bf16_is_fast', lambda device_type='cpu': False)
    assert attention_implementation('cpu', torch.bfloat16) == 'sdpa'   # emulated bf16: SDPA
    monkeypatch.setattr(precision, 'bf16_is_fast', lambda device_type='cpu': True)
    assert attention_implementation('cpu', torch.bfloat16) == 'eager'
    assert attention_implementation('cpu', torch.float32) == 'sdpa'
    # SDPA's bf16 forward is the faster one: eager only where a backward runs through it,
    # and not at long sequences (eager's score matrices lose there even with a backward)
    assert attention_implementation('cpu', torch.bfloat16, needs_backward=False) == 'sdpa'
    assert attention_implementation('cpu', torch.bfloat16,
                                    scores_per_head=precision.EAGER_MAX_SCORES) == 'eager'
    assert attention_implementation('cpu', torch.bfloat16,
                                    scores_per_head=512 * 512) == 'sdpa'
    assert attention_implementation('cuda', torch.bfloat16) == 'sdpa'
    assert attention_implementation('cpu', torch.bfloat16, requested='sdpa') == 'sdpa'
    monkeypatch.setenv('ALLSPARK_ATTENTION', 'sdpa')
    assert attention_implementation('cpu', torch.bfloat16) == 'sdpa'


def test_language_model_switches_attention_per_call(tiny_lm_dir, fast_cpu_bf16):
    torch.manual_seed(0)
    lm = HFLanguageModel(name_or_path=tiny_lm_dir)
    x = torch.randn(2, 6, lm.hidden_size, requires_grad=True)  # a bridge's output: trains
    mask = torch.ones(2, 6, dtype=torch.long)
    mask[0, 4:] = 0
    sdpa_out = lm(x, mask)
    assert lm.model.config._attn_implementation == 'sdpa'
    with torch.autocast('cpu', dtype=torch.bfloat16):
        lm(x, mask)
        assert lm.model.config._attn_implementation == 'eager'
        with torch.no_grad():                            # inference: SDPA's bf16 forward
            lm(x, mask)
        assert lm.model.config._attn_implementation == 'sdpa'
        lm(x.detach(), mask)                             # frozen LM, inputs need no gradient
        assert lm.model.config._attn_implementation == 'sdpa'
    lm(x, mask)                                          # back in float32: SDPA again
    assert lm.model.config._attn_implementation == 'sdpa'
    fixed = HFLanguageModel(name_or_path=tiny_lm_dir, attn_implementation='eager')
    eager_out = fixed(x, mask)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        fixed(x, mask)
    assert fixed.model.config._attn_implementation == 'eager'   # fixed: never switched
    valid = mask.bool()
    torch.testing.assert_close(eager_out[valid], sdpa_out[valid], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('kv_dim', [24, 32])   # separate q/k/v weights and one in_proj weight
def test_eager_bridge_attention_equals_multihead_attention(kv_dim):
    torch.manual_seed(0)
    attn = nn.MultiheadAttention(32, 4, kdim=kv_dim, vdim=kv_dim, batch_first=True)
    q = torch.randn(3, 5, 32, requires_grad=True)
    kv = torch.randn(3, 7, kv_dim, requires_grad=True)
    pad = torch.zeros(3, 7, dtype=torch.bool)
    pad[1, 4:] = True
    ref, _ = attn(q, kv, kv, key_padding_mask=pad, need_weights=False)
    got = eager_multihead_attention(attn, q, kv, pad)
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-5)
    g_ref = torch.autograd.grad(ref.square().sum(), (q, kv, attn.in_proj_bias))
    g_got = torch.autograd.grad(got.square().sum(), (q, kv, attn.in_proj_bias))
    for a, b in zip(g_got, g_ref):
        torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)
    # the padded key has no influence
    kv2 = kv.detach().clone()
    kv2[1, 5] += 10
    torch.testing.assert_close(eager_multihead_attention(attn, q, kv2, pad)[1], got[1])


def test_bridge_uses_eager_attention_under_cpu_bf16(monkeypatch, fast_cpu_bf16):
    torch.manual_seed(0)
    bridge = PerceiverBridge(16, 32, num_queries=4, depth=1, num_heads=4)
    calls = []
    import allspark.models.bridge as bridge_mod
    real = bridge_mod.eager_multihead_attention
    monkeypatch.setattr(bridge_mod, 'eager_multihead_attention',
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    x = torch.randn(2, 9, 16)
    ref, _ = bridge(x)
    assert not calls                                    # float32: nn.MultiheadAttention (SDPA)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out, _ = bridge(x)
    assert calls                                        # bfloat16: the eager path
    torch.testing.assert_close(out.float(), ref, atol=0.1, rtol=0.05)
    calls.clear()
    with torch.autocast('cpu', dtype=torch.bfloat16), torch.no_grad():
        bridge(x)
    assert not calls                                    # no backward to pay for: SDPA
    with pytest.raises(ValueError, match='attention'):
        PerceiverBridge(16, 32, attention='flash')


def test_autocast_wrapper_auto(monkeypatch):
    model = nn.Linear(4, 2)
    for env, expected in (('1', torch.bfloat16), ('0', torch.float32)):
        monkeypatch.setenv('ALLSPARK_BF16', env)
        with DefaultScope.overwrite_default_scope('allspark'):
            wrapper = build_optim_wrapper(model, dict(type='AutocastOptimWrapper', enabled='auto',
                                                      optimizer=dict(type='SGD', lr=0.1)))
        with wrapper.optim_context(model):
            assert model(torch.randn(3, 4)).dtype == expected


def test_prepare_config_resolves_auto_loop_precision(monkeypatch, repo_root):
    import os

    from allspark.engine.runner import load_config, prepare_config
    cfg = load_config(os.path.join(repo_root, 'configs', 'quickstart.py'))
    cfg.val_cfg = dict(fp16='auto')
    cfg.test_cfg = dict(fp16=True)
    monkeypatch.setenv('ALLSPARK_BF16', '0')
    out = prepare_config(cfg, work_dir='/tmp/unused')
    assert out.val_cfg['fp16'] is False and out.test_cfg['fp16'] is True
    monkeypatch.setenv('ALLSPARK_BF16', '1')
    assert prepare_config(cfg, work_dir='/tmp/unused').val_cfg['fp16'] is True


def test_timm_encoders_follow_the_attention_choice(fast_cpu_bf16):
    """An AllSpark model switches its timm encoders' attention per call: eager under bfloat16 on
    a CPU with bf16 units (SDPA's bf16 backward is slow there), SDPA in float32; same output."""
    import timm

    from allspark.engine.precision import follow_attention_choice

    torch.manual_seed(0)
    vit = timm.create_model('vit_tiny_patch16_224', pretrained=False, img_size=32,
                            num_classes=0, depth=2)
    x = torch.randn(2, 3, 32, 32)
    follow_attention_choice(vit, 'cpu', torch.float32)
    blocks = vit._allspark_attention_blocks
    assert len(blocks) == 2 and all(b.fused_attn for b in blocks)
    sdpa = vit(x)
    follow_attention_choice(vit, 'cpu', torch.bfloat16)
    assert not any(b.fused_attn for b in blocks)
    torch.testing.assert_close(vit(x), sdpa, rtol=1e-5, atol=1e-5)   # the same function


def test_model_forward_switches_encoder_attention(fast_cpu_bf16):
    from allspark.registry import MODELS
    from allspark.testing import tiny_language_model_cfg

    model = MODELS.build(dict(
        type='AllSpark', language_model=tiny_language_model_cfg(),
        modalities=dict(rgb=dict(encoder=dict(type='TimmTokenEncoder',
                                              model_name='vit_tiny_patch16_224',
                                              pretrained=False, img_size=32, in_chans=3),
                                 bridge=dict(type='PerceiverBridge', num_queries=2, depth=1,
                                             num_heads=2))),
        prompts=dict(rgb=['a photo']),
        head=dict(type='LinearClsHead', num_classes=3)))
    enc = model.encoders['rgb']
    x = dict(rgb=torch.randn(2, 3, 32, 32))
    with torch.autocast('cpu', dtype=torch.bfloat16):
        model._encode_tokens('rgb', x['rgb'])
    assert enc._allspark_fused_attn is False
    model._encode_tokens('rgb', x['rgb'])
    assert enc._allspark_fused_attn is True
    enc.requires_grad_(False)       # a frozen encoder (EVA-g): no backward, SDPA's bf16 forward
    with torch.autocast('cpu', dtype=torch.bfloat16):
        model._encode_tokens('rgb', x['rgb'])
    assert enc._allspark_fused_attn is True


def test_cast_caching_linear_is_autocast_with_the_frozen_cast_kept():
    """A frozen linear layer under autocast: the same output and input gradient as autocast's own
    ``nn.Linear``, the bfloat16 weight cast once and kept, recast when the weight is loaded
    again; trainable weights and float32 calls are plain ``nn.Linear``."""
    from allspark.engine.precision import CastCachingLinear, cache_frozen_casts

    torch.manual_seed(0)
    plain = torch.nn.Linear(8, 5).requires_grad_(False)
    model = torch.nn.Sequential(torch.nn.Linear(8, 5), torch.nn.ReLU())
    model[0].load_state_dict(plain.state_dict())
    model[0].requires_grad_(False)
    assert cache_frozen_casts(model) == 1 and type(model[0]) is CastCachingLinear
    assert set(model[0].state_dict()) == {'weight', 'bias'}
    x = torch.randn(3, 8, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_(True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out, ref = model[0](x), plain(x_ref)
    assert out.dtype == ref.dtype == torch.bfloat16
    assert torch.equal(out, ref)
    out.float().sum().backward()
    ref.float().sum().backward()
    assert torch.equal(x.grad, x_ref.grad)
    cached = model[0]._cast_cache[1]
    with torch.autocast('cpu', dtype=torch.bfloat16):
        model[0](x)
    assert model[0]._cast_cache[1] is cached          # kept between calls
    model[0].load_state_dict({'weight': torch.ones(5, 8), 'bias': torch.zeros(5)})
    with torch.autocast('cpu', dtype=torch.bfloat16):
        again = model[0](torch.ones(1, 8))
    assert model[0]._cast_cache[1] is not cached and torch.all(again == 8)  # the new weight
    assert model[0](torch.ones(1, 8)).dtype == torch.float32   # outside autocast: plain
    model[0].requires_grad_(True)                     # trainable: autocast's own path
    with torch.autocast('cpu', dtype=torch.bfloat16):
        model[0](x).float().sum().backward()
    assert model[0].weight.grad is not None
