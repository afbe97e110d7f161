"""Component contracts (``allspark.models.protocols``): the shipped components implement them, and
a component missing a member fails when ``AllSpark`` is built, naming its type and the member."""
import pytest
import torch
from torch import nn

import allspark
from allspark.models.heads import LinearClsHead, LinearRegHead
from allspark.models.protocols import (
    BindsLanguageModel,
    Bridge,
    Encoder,
    Head,
    PoolingEncoder,
    TakesTargetStats,
    check_component,
    missing_members,
)
from allspark.registry import BRIDGES, ENCODERS, MODELS

allspark.register_all_modules()


class NoWidthEncoder(nn.Module):
    """Returns tokens but does not say how wide they are (no ``out_dim``)."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(4, 8)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, 4) -> (B, 1, 8)
        return self.proj(x).unsqueeze(1)


class CallableBridge:
    """Callable, but neither a module nor anything with ``forward``."""

    def __init__(self, in_dim: int, out_dim: int):
        self.in_dim, self.out_dim = in_dim, out_dim

    def __call__(self, tokens, pad=None):
        return tokens, pad


class LossOnlyHead(nn.Module):
    """Has a loss but no ``predict`` and no ``supports_mixup`` flag (not a ``BaseHead``)."""

    def __init__(self, in_dim: int):
        super().__init__()
        self.fc = nn.Linear(in_dim, 2)

    def loss(self, features: dict, data_samples: list) -> dict:
        return dict(loss_cls=self.fc(features['tokens'].mean(1)).sum())


def _model_cfg(tiny_lm_dir, encoder=None, bridge=None, head=None) -> dict:
    return dict(
        type='AllSpark',
        modalities=dict(image=dict(
            encoder=encoder or dict(type='PatchEncoder', in_chans=1, img_size=8, patch_size=4,
                                    embed_dim=16),
            bridge=bridge or dict(type='PerceiverBridge', num_queries=2, depth=1, num_heads=2))),
        language_model=dict(type='HFLanguageModel', name_or_path=tiny_lm_dir),
        prompts=dict(image=[]), head=head or dict(type='LinearClsHead', num_classes=2))


def test_shipped_components_implement_the_protocols():
    enc = ENCODERS.build(dict(type='PatchEncoder', in_chans=1, img_size=8, patch_size=4,
                              embed_dim=16))
    assert isinstance(enc, Encoder) and not isinstance(enc, PoolingEncoder)
    assert isinstance(ENCODERS.build(dict(type='TextEncoder')), BindsLanguageModel)
    bridge = BRIDGES.build(dict(type='PerceiverBridge', in_dim=16, out_dim=32, num_queries=2,
                                depth=1, num_heads=2))
    assert isinstance(bridge, Bridge)
    tokens, pad = bridge(enc(torch.randn(2, 1, 8, 8)), None)
    assert tokens.shape == (2, 2, 32)  # (B, N, D): N queries at the language model's width
    cls, reg = LinearClsHead(in_dim=32, num_classes=3), LinearRegHead(in_dim=32, out_dim=1)
    assert isinstance(cls, Head) and cls.supports_mixup
    assert isinstance(reg, Head) and not reg.supports_mixup
    assert isinstance(reg, TakesTargetStats) and not isinstance(cls, TakesTargetStats)
    assert missing_members(NoWidthEncoder(), Encoder) == ['out_dim']
    assert missing_members(LossOnlyHead(4), Head) == ['predict', 'supports_mixup']


def test_check_component_names_role_type_and_members():
    with pytest.raises(TypeError, match=r"encoder of modality 'x': Linear does not implement the "
                                        r"Encoder protocol: missing \['out_dim'\]"):
        check_component(nn.Linear(2, 2), Encoder, "encoder of modality 'x'")
    check_component(LinearClsHead(in_dim=4, num_classes=2), Head, 'head')  # no error


def test_encoder_without_out_dim_fails_at_build(tiny_lm_dir):
    with pytest.raises(TypeError, match=r"encoder of modality 'image': NoWidthEncoder does not "
                                        r"implement the Encoder protocol: missing \['out_dim'\]"):
        MODELS.build(_model_cfg(tiny_lm_dir, encoder=dict(type=NoWidthEncoder)))


def test_bridge_without_forward_fails_at_build(tiny_lm_dir):
    with pytest.raises(TypeError, match=r"bridge of modality 'image': CallableBridge does not "
                                        r"implement the Bridge protocol: missing \['forward'\]"):
        MODELS.build(_model_cfg(tiny_lm_dir, bridge=dict(type=CallableBridge)))


def test_head_without_predict_fails_at_build(tiny_lm_dir):
    with pytest.raises(TypeError, match=r"head: LossOnlyHead does not implement the Head "
                                        r"protocol: missing \['predict', 'supports_mixup'\]"):
        MODELS.build(_model_cfg(tiny_lm_dir, head=dict(type=LossOnlyHead)))
