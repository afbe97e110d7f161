"""Gradient checkpointing, one config key away (issue 16): ``language_model=dict(...,
gradient_checkpointing=True)`` and ``encoder=dict(..., grad_checkpointing=True)``.

Each case checks the gradients are the same (within 1e-6) with and without checkpointing, and
that checkpointing is really active, without measuring memory or time: a forward hook inside a
checkpointed layer fires twice per training step (the forward, then the recomputation in the
backward pass) instead of once.
"""
import pytest
import torch

from allspark.models.checkpointing import enable_encoder_grad_checkpointing, is_checkpointed
from allspark.models.language_model import HFLanguageModel
from allspark.registry import MODELS

TOL = 1e-6


def build_model(tiny_lm_dir, lm=None, encoder=None, seed=0):
    torch.manual_seed(seed)
    cfg = dict(
        type='AllSpark',
        modalities=dict(image=dict(
            encoder=dict(type='PatchEncoder', in_chans=1, img_size=16, patch_size=4,
                         embed_dim=32, depth=2, num_heads=2, **(encoder or {})),
            bridge=dict(type='PerceiverBridge', num_queries=4, depth=1, num_heads=2))),
        language_model=dict(type='HFLanguageModel', name_or_path=tiny_lm_dir, **(lm or {})),
        prompts=dict(image=['Classify this image.']),
        head=dict(type='LinearClsHead', num_classes=3))
    return MODELS.build(cfg)


def loss_and_grads(model, seed=1):
    from mmengine.structures import BaseDataElement

    torch.manual_seed(seed)
    x = torch.randn(2, 1, 16, 16)
    samples = [BaseDataElement(gt_label=torch.tensor(i % 3)) for i in range(2)]
    model.train()
    model.zero_grad(set_to_none=True)
    torch.manual_seed(seed + 1)  # same dropout masks in both runs (unfrozen LM)
    losses = model(dict(image=x), [dict(gt_label=s.gt_label) for s in samples], mode='loss')
    loss = sum(v for k, v in losses.items() if 'loss' in k)
    loss.backward()
    return loss.detach(), {n: p.grad.detach().clone() for n, p in model.named_parameters()
                           if p.grad is not None}


def assert_same_grads(a, b):
    assert a.keys() == b.keys() and a
    worst = max((a[k] - b[k]).abs().max().item() for k in a)
    assert worst <= TOL, f'largest gradient difference {worst}'


def count_calls(module):
    calls = []
    module.register_forward_hook(lambda *args: calls.append(1))
    return calls


def test_frozen_lm_checkpointing_keeps_encoder_and_bridge_gradients(tiny_lm_dir):
    plain = build_model(tiny_lm_dir)
    ckpt = build_model(tiny_lm_dir, lm=dict(gradient_checkpointing=True))
    assert ckpt.language_model.frozen
    layers = ckpt.language_model.checkpointed_layers()
    assert len(layers) == ckpt.language_model.model.config.num_hidden_layers == 2
    assert not plain.language_model.checkpointed_layers()
    # the tiny BERT has dropout 0.1: frozen, it must stay off with checkpointing too
    assert ckpt.language_model.model.config.hidden_dropout_prob > 0
    inner = count_calls(ckpt.language_model.model.encoder.layer[0].attention)
    inner_plain = count_calls(plain.language_model.model.encoder.layer[0].attention)
    loss_p, grads_p = loss_and_grads(plain)
    loss_c, grads_c = loss_and_grads(ckpt)
    assert len(inner_plain) == 1
    assert len(inner) == 2, 'the checkpointed layer was not recomputed in the backward pass'
    assert torch.equal(loss_p, loss_c)
    assert any(k.startswith('encoders.image') for k in grads_c)
    assert any(k.startswith('bridges.image') for k in grads_c)
    assert not any(k.startswith('language_model') for k in grads_c)  # frozen: no LM gradients
    assert_same_grads(grads_p, grads_c)
    # in training mode only the checkpointed layer modules are marked as training; dropout off
    assert all(m.training for m in layers)
    assert not any(m.training for m in ckpt.language_model.model.modules()
                   if isinstance(m, torch.nn.Dropout))
    ckpt.eval()
    assert not any(m.training for m in layers)
    inner.clear()
    with torch.no_grad():
        ckpt(dict(image=torch.randn(2, 1, 16, 16)), mode='tensor')
    assert len(inner) == 1  # no gradients: nothing is checkpointed


def test_lm_checkpointing_state_dict_unchanged(tiny_lm_dir):
    plain = build_model(tiny_lm_dir)
    ckpt = build_model(tiny_lm_dir, lm=dict(gradient_checkpointing=True),
                       encoder=dict(grad_checkpointing=True))
    assert plain.state_dict().keys() == ckpt.state_dict().keys()
    ckpt.load_state_dict(plain.state_dict())


def test_unfrozen_lm_checkpointing_same_gradients(tiny_lm_dir):
    plain = build_model(tiny_lm_dir, lm=dict(freeze=False))
    ckpt = build_model(tiny_lm_dir, lm=dict(freeze=False, gradient_checkpointing=True))
    inner = count_calls(ckpt.language_model.model.encoder.layer[1].attention)
    _, grads_p = loss_and_grads(plain)
    _, grads_c = loss_and_grads(ckpt)
    assert len(inner) == 2
    assert any(k.startswith('language_model') for k in grads_c)
    assert_same_grads(grads_p, grads_c)


def test_lora_with_checkpointing_same_adapter_gradients(tiny_lm_dir):
    pytest.importorskip('peft')
    lora = dict(r=2, lora_alpha=4, target_modules=['query', 'value'])
    plain = build_model(tiny_lm_dir, lm=dict(lora=lora))
    ckpt = build_model(tiny_lm_dir, lm=dict(lora=lora, gradient_checkpointing=True))
    with torch.no_grad():  # non-zero B so that A gets gradients too
        for m in (plain, ckpt):
            torch.manual_seed(3)
            for n, p in m.named_parameters():
                if 'lora_B' in n:
                    p.normal_(0, 0.1)
    assert len(ckpt.language_model.checkpointed_layers()) == 2
    _, grads_p = loss_and_grads(plain)
    _, grads_c = loss_and_grads(ckpt)
    assert any('lora_A' in k for k in grads_c) and any('lora_B' in k for k in grads_c)
    assert_same_grads(grads_p, grads_c)


def test_generic_encoder_blocks_checkpointed(tiny_lm_dir):
    plain = build_model(tiny_lm_dir)
    ckpt = build_model(tiny_lm_dir, encoder=dict(grad_checkpointing=True))
    blocks = ckpt.encoders['image'].blocks.layers  # PatchEncoder: an nn.TransformerEncoder
    assert all(is_checkpointed(b) for b in blocks)
    assert not any(is_checkpointed(b) for b in plain.encoders['image'].blocks.layers)
    inner = count_calls(blocks[0].self_attn)
    _, grads_p = loss_and_grads(plain)
    _, grads_c = loss_and_grads(ckpt)
    assert len(inner) == 2
    assert_same_grads(grads_p, grads_c)


def test_encoder_without_blocks_is_a_clear_error():
    with pytest.raises(ValueError, match='grad_checkpointing=True, but Linear has no'):
        enable_encoder_grad_checkpointing(torch.nn.Linear(2, 2), 'encoder of modality x')


def test_timm_encoder_uses_timm_checkpointing():
    pytest.importorskip('timm')
    rgb = pytest.importorskip('allspark_plugin_rgb.encoder')
    kwargs = dict(model_name='vit_tiny_patch16_224', img_size=32,
                  model_kwargs=dict(depth=2, embed_dim=48, num_heads=2))
    torch.manual_seed(0)
    plain = rgb.TimmTokenEncoder(**kwargs)
    torch.manual_seed(0)
    ckpt = rgb.TimmTokenEncoder(**kwargs)
    how = enable_encoder_grad_checkpointing(ckpt)
    assert how == 'TimmTokenEncoder.set_grad_checkpointing'
    assert ckpt.backbone.grad_checkpointing and not plain.backbone.grad_checkpointing
    inner = count_calls(ckpt.backbone.blocks[0].attn)
    x = torch.randn(2, 3, 32, 32)
    grads = []
    for enc in (plain, ckpt):
        enc.train()
        enc(x).pow(2).mean().backward()
        grads.append({n: p.grad.clone() for n, p in enc.named_parameters()})
    assert len(inner) == 2
    assert_same_grads(*grads)


def test_language_model_without_support_is_refused(tiny_lm_dir, monkeypatch):
    from transformers import BertModel

    monkeypatch.setattr(BertModel, 'supports_gradient_checkpointing', False)
    with pytest.raises(ValueError, match='does not support gradient checkpointing'):
        HFLanguageModel(tiny_lm_dir, gradient_checkpointing=True)
