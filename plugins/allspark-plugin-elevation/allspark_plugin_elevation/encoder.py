"""``ElevationViTEncoder``: a timm Vision Transformer over DEM chips, ``in_chans`` = channel count.

``(B, C, H, W) -> (B, 1 + (H/p)*(W/p), embed_dim)`` (class token first, then one token per patch).

The channels are whatever the dataset stacks (``elevation``, ``mask``, ``slope``, ...; see
:mod:`allspark_plugin_elevation.io`), so ``in_chans`` must equal ``len(channels)``.  Weights are
randomly initialised (``pretrained=False``, the default): nothing is downloaded, and no public
ViT was pre-trained on heights.  ``pool(tokens)`` gives the pooled embedding (the class token),
for the direct (no language model) alignment path.

Citation: A. Dosovitskiy et al., "An Image is Worth 16x16 Words", ICLR 2021; R. Wightman,
PyTorch Image Models (timm).
"""
from __future__ import annotations

from typing import Optional

import timm
import torch
from torch import nn

from allspark.registry import ENCODERS


@ENCODERS.register_module()
class ElevationViTEncoder(nn.Module):
    """Args:
        in_chans: number of input channels (``len(channels)`` of the dataset).
        img_size: chip height = width.
        patch_size: ViT patch size (64 / 8 -> 64 patch tokens).
        model_name: timm ViT architecture; ``embed_dim``/``depth``/``num_heads`` override it.
        pretrained: timm's pretrained weights (needs them cached; off by default).
        drop_path_rate: stochastic depth.
    """

    def __init__(self, in_chans: int = 2, img_size: int = 64, patch_size: int = 8,
                 model_name: str = 'vit_tiny_patch16_224', embed_dim: Optional[int] = 128,
                 depth: Optional[int] = 4, num_heads: Optional[int] = 4,
                 pretrained: bool = False, drop_path_rate: float = 0.0):
        super().__init__()
        if img_size % patch_size:
            raise ValueError(f'ElevationViTEncoder: img_size {img_size} is not a multiple of '
                             f'patch_size {patch_size}')
        kwargs = dict(in_chans=in_chans, img_size=img_size, patch_size=patch_size,
                      num_classes=0, drop_path_rate=drop_path_rate)
        kwargs.update({k: v for k, v in dict(embed_dim=embed_dim, depth=depth,
                                             num_heads=num_heads).items() if v is not None})
        self.vit = timm.create_model(model_name, pretrained=pretrained, **kwargs)
        self.in_chans, self.img_size = in_chans, img_size
        self.out_dim = self.vit.num_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W)`` -> tokens ``(B, 1 + N, D)``."""
        if x.dim() != 4 or x.shape[1] != self.in_chans or x.shape[-1] != self.img_size \
                or x.shape[-2] != self.img_size:
            raise ValueError(f'ElevationViTEncoder expects (B, {self.in_chans}, {self.img_size}, '
                             f'{self.img_size}) (in_chans = number of dataset channels), got '
                             f'{tuple(x.shape)}')
        return self.vit.forward_features(x)

    def pool(self, tokens: torch.Tensor) -> torch.Tensor:
        """The class token: ``(B, 1 + N, D) -> (B, D)``."""
        return tokens[:, 0]
