"""``PatchEncoder``: a small, generic raster token encoder (quickstart, tests, new modalities).

A strided convolution cuts the image into patches, a learnable position embedding is added and an
optional stack of transformer layers mixes them: ``(B, C, H, W) -> (B, (H/p)*(W/p), embed_dim)``.
"""
from __future__ import annotations

import torch
from torch import nn

from allspark.registry import ENCODERS


@ENCODERS.register_module()
class PatchEncoder(nn.Module):

    def __init__(self, in_chans: int = 3, img_size: int = 32, patch_size: int = 4,
                 embed_dim: int = 64, depth: int = 0, num_heads: int = 4):
        super().__init__()
        if img_size % patch_size:
            raise ValueError(f'PatchEncoder: img_size {img_size} is not a multiple of '
                             f'patch_size {patch_size}')
        self.in_chans, self.img_size, self.out_dim = in_chans, img_size, embed_dim
        self.proj = nn.Conv2d(in_chans, embed_dim, patch_size, stride=patch_size)
        self.pos = nn.Parameter(torch.zeros(1, (img_size // patch_size) ** 2, embed_dim))
        nn.init.trunc_normal_(self.pos, std=0.02)
        layer = nn.TransformerEncoderLayer(embed_dim, num_heads, embed_dim * 2, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False) \
            if depth else nn.Identity()
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != self.in_chans or x.shape[-1] != self.img_size \
                or x.shape[-2] != self.img_size:
            raise ValueError(f'PatchEncoder expects (B, {self.in_chans}, {self.img_size}, '
                             f'{self.img_size}), got {tuple(x.shape)}')
        tokens = self.proj(x).flatten(2).transpose(1, 2) + self.pos
        return self.norm(self.blocks(tokens))
