"""``TimmTokenEncoder``: any timm backbone as a token encoder.

``(B, 3, H, W) -> (B, n, num_features)``: a transformer's ``forward_features`` tokens (class /
register tokens included) or a CNN's last feature map flattened to one token per cell
``(B, C, h, w) -> (B, h*w, C)``.

The AllSpark paper's RGB encoder is EVA-g (``eva_giant_patch14_224``: 40 blocks, width 1408),
frozen (``rgb::ucmerced_evag.py``); the CPU default is a small ViT trained from scratch.
``pretrained=False`` by default (nothing is downloaded); ``checkpoint_path`` loads local weights
(input channels adapted with timm's ``adapt_input_conv``, position embeddings resampled by the
model's own ``checkpoint_filter_fn`` where timm has one, classifier dropped).
"""
from __future__ import annotations

import logging
import sys
from typing import Optional

import timm
import torch
from timm.models._manipulate import adapt_input_conv
from torch import nn

from allspark.registry import ENCODERS

logger = logging.getLogger(__name__)


def load_timm_checkpoint(model: nn.Module, path: str) -> tuple[list, list]:
    """Load a local state dict into a timm ``model`` the way timm loads pretrained weights."""
    state = torch.load(path, map_location='cpu', weights_only=True)
    for key in ('state_dict', 'model', 'module'):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
    filter_fn = getattr(sys.modules.get(type(model).__module__), 'checkpoint_filter_fn', None)
    if filter_fn is not None:
        state = filter_fn(state, model)
    cfg = getattr(model, 'pretrained_cfg', {}) or {}
    target = model.state_dict()
    first = cfg.get('first_conv')
    for name in ([first] if isinstance(first, str) else list(first or [])):
        key = name + '.weight'
        if key in state and key in target and state[key].shape[1] != target[key].shape[1]:
            state[key] = adapt_input_conv(target[key].shape[1], state[key].float())
    classifier = cfg.get('classifier')
    for name in ([classifier] if isinstance(classifier, str) else list(classifier or [])):
        for key in (name + '.weight', name + '.bias'):
            if key in state and (key not in target or state[key].shape != target[key].shape):
                state.pop(key)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        logger.warning('TimmTokenEncoder: %s: missing keys %s, unexpected keys %s', path,
                       missing, unexpected)
    return missing, unexpected


@ENCODERS.register_module()
class TimmTokenEncoder(nn.Module):
    """Args:
        model_name: any ``timm.create_model`` name (``vit_tiny_patch16_224``,
            ``eva_giant_patch14_224``, ``resnet18``, ...).
        pretrained: timm's pretrained weights (must already be in timm's cache; off by default).
        checkpoint_path: local weights to load instead (see module docstring).
        frozen: freeze the backbone, keep it in eval mode and run it without gradients.
        in_chans: input channels (3 for RGB).
        img_size: input size for models that take one (ViT/EVA); ``None``: the model's default.
        model_kwargs: more ``timm.create_model`` arguments (``depth``, ``drop_path_rate``, ...).
    """

    def __init__(self, model_name: str = 'vit_tiny_patch16_224', pretrained: bool = False,
                 checkpoint_path: Optional[str] = None, frozen: bool = False, in_chans: int = 3,
                 img_size: Optional[int] = None, model_kwargs: Optional[dict] = None):
        super().__init__()
        kwargs = dict(num_classes=0, in_chans=in_chans, **(model_kwargs or {}))
        if img_size is not None:
            kwargs['img_size'] = img_size
        self.model_name, self.in_chans = model_name, in_chans
        self.backbone = timm.create_model(model_name, pretrained=pretrained and not checkpoint_path,
                                          **kwargs)
        if checkpoint_path:
            load_timm_checkpoint(self.backbone, checkpoint_path)
        elif frozen and not pretrained:
            logger.warning('TimmTokenEncoder: %s is frozen with random weights (no '
                           'pretrained / checkpoint_path): its tokens carry no learned features',
                           model_name)
        self.out_dim = self.backbone.num_features
        self.frozen = frozen
        if frozen:
            self.backbone.requires_grad_(False)
            self.backbone.eval()

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """timm's own gradient checkpointing of the backbone's blocks (``encoder=dict(...,
        grad_checkpointing=True)`` in a config).  timm checkpoints non-reentrantly unless
        ``TIMM_REENTRANT_CKPT=1``.  A frozen backbone runs without gradients and stores no
        activations: there it changes nothing."""
        if not hasattr(self.backbone, 'set_grad_checkpointing'):
            raise ValueError(f'TimmTokenEncoder({self.model_name}): this timm model has no '
                             f'set_grad_checkpointing(); remove grad_checkpointing')
        self.backbone.set_grad_checkpointing(enable)
        if enable and self.frozen:
            logger.info('TimmTokenEncoder(%s): frozen, so it runs without gradients and '
                        'gradient checkpointing saves nothing', self.model_name)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen:
            self.backbone.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x (B, C, H, W)`` -> tokens ``(B, n, out_dim)``."""
        if x.dim() != 4 or x.shape[1] != self.in_chans:
            raise ValueError(f'TimmTokenEncoder({self.model_name}) expects (B, {self.in_chans}, '
                             f'H, W), got {tuple(x.shape)}')
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
            feats = self.backbone.forward_features(x)
        if isinstance(feats, (list, tuple)):
            feats = feats[-1]
        if feats.dim() == 4:  # CNN feature map (B, C, h, w) -> (B, h*w, C)
            feats = feats.flatten(2).transpose(1, 2)
        return feats
