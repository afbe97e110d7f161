"""``MSIViTEncoder``: a timm Vision Transformer whose patch embedding takes the band count.

``(B, C, H, W) -> (B, 1 + (H/p)*(W/p), embed_dim)`` (class token first, then one token per patch).

The ViT is built with ``timm`` (``in_chans`` = number of spectral bands, 13 for Sentinel-2).
Weights: ``pretrained=False`` (default, random init; nothing is downloaded); ``checkpoint_path``
loads a local timm/ViT state dict.  When that checkpoint was trained on a different band count
(typically RGB), the first convolution is adapted the way timm does it when it loads pretrained
weights (``timm.models._manipulate.adapt_input_conv``: repeat the RGB filters over the bands and
rescale by ``3 / in_chans``), and the position embedding is resampled to the grid of
``img_size / patch_size``.  ``pretrained=True`` without a path uses timm's own pretrained loading
(which adapts ``in_chans`` the same way) and needs the weights in timm's cache.
"""
from __future__ import annotations

import logging
from typing import Optional

import timm
import torch
from timm.layers import resample_abs_pos_embed
from timm.models._manipulate import adapt_input_conv
from torch import nn

from allspark.registry import ENCODERS

logger = logging.getLogger(__name__)


def _unwrap_state_dict(obj) -> dict:
    for key in ('state_dict', 'model', 'module'):
        if isinstance(obj, dict) and key in obj and isinstance(obj[key], dict):
            obj = obj[key]
    return obj


def adapt_vit_state_dict(state_dict: dict, model: nn.Module) -> dict:
    """Make a ViT state dict (any band count, grid size) fit ``model``.

    * ``patch_embed.proj.weight`` ``(D, C_ckpt, p, p)`` -> ``(D, C_model, p, p)`` with
      ``adapt_input_conv`` (timm's rule);
    * ``pos_embed`` resampled to the model's patch grid (``resample_abs_pos_embed``);
    * classifier weights (``head.*``) dropped (the encoder has no classifier).
    """
    out = {}
    target = model.state_dict()
    for key, value in state_dict.items():
        key = key[len('module.'):] if key.startswith('module.') else key
        if key.startswith('head.'):
            continue
        if key == 'patch_embed.proj.weight' and key in target:
            want = target[key].shape[1]
            if value.shape[1] != want:
                logger.info('MSIViTEncoder: adapting patch embedding from %d to %d bands '
                            '(timm adapt_input_conv)', value.shape[1], want)
                value = adapt_input_conv(want, value.float())
        elif key == 'pos_embed' and key in target and value.shape != target[key].shape:
            prefix = 0 if getattr(model, 'no_embed_class', False) else model.num_prefix_tokens
            value = resample_abs_pos_embed(value, new_size=list(model.patch_embed.grid_size),
                                           num_prefix_tokens=prefix)
        out[key] = value
    return out


@ENCODERS.register_module()
class MSIViTEncoder(nn.Module):
    """ViT token encoder for multispectral rasters.

    Args:
        in_chans: number of spectral bands of the input (13 for Sentinel-2 L1C / EuroSAT-MS).
        img_size: input height = width (EuroSAT tiles are 64).
        patch_size: ViT patch size (64 / 8 -> 8 x 8 = 64 patch tokens).
        model_name: timm ViT architecture (sizes below override its defaults when given).
        embed_dim, depth, num_heads: ViT width / number of blocks / heads (``None``: model's).
        pretrained: load timm's pretrained weights (needs them cached; never on by default).
        checkpoint_path: local state dict to load (band count adapted, see module docstring).
        frozen: freeze all ViT weights (and keep it in eval mode).
        drop_path_rate: stochastic depth.
    """

    def __init__(self, in_chans: int = 13, img_size: int = 64, patch_size: int = 8,
                 model_name: str = 'vit_tiny_patch16_224', embed_dim: Optional[int] = None,
                 depth: Optional[int] = None, num_heads: Optional[int] = None,
                 pretrained: bool = False, checkpoint_path: Optional[str] = None,
                 frozen: bool = False, drop_path_rate: float = 0.0):
        super().__init__()
        kwargs = dict(in_chans=in_chans, img_size=img_size, patch_size=patch_size,
                      num_classes=0, drop_path_rate=drop_path_rate)
        kwargs.update({k: v for k, v in dict(embed_dim=embed_dim, depth=depth,
                                             num_heads=num_heads).items() if v is not None})
        self.vit = timm.create_model(model_name, pretrained=pretrained and not checkpoint_path,
                                     **kwargs)
        self.in_chans, self.img_size = in_chans, img_size
        self.out_dim = self.vit.num_features
        if checkpoint_path:
            self.load_checkpoint(checkpoint_path)
        self.frozen = frozen
        if frozen:
            self.vit.requires_grad_(False)
            self.vit.eval()

    def load_checkpoint(self, path: str) -> None:
        """Load a local ViT state dict, adapting band count and position grid."""
        state = _unwrap_state_dict(torch.load(path, map_location='cpu', weights_only=True))
        state = adapt_vit_state_dict(state, self.vit)
        missing, unexpected = self.vit.load_state_dict(state, strict=False)
        if missing or unexpected:
            logger.warning('MSIViTEncoder: %s: missing keys %s, unexpected keys %s', path,
                           missing, unexpected)

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen:
            self.vit.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x (B, C, H, W)`` -> tokens ``(B, 1 + N, D)``."""
        if x.dim() != 4 or x.shape[1] != self.in_chans:
            raise ValueError(f'MSIViTEncoder expects (B, {self.in_chans}, {self.img_size}, '
                             f'{self.img_size}) with {self.in_chans} bands, got '
                             f'{tuple(x.shape)}')
        return self.vit.forward_features(x)
