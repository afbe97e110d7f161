"""``SARConvEncoder``: the AllSpark paper's SAR encoder, a simple three-layer convolutional network.

Each layer is ``conv k x k -> BatchNorm -> ReLU -> 2 x 2 max-pool`` (or a stride-2 conv with
``pool='stride'``); the last feature map becomes one token per cell, plus a learned position
embedding and a LayerNorm:

    ``(B, C, H, W) -> (B, (H / 2^L) * (W / 2^L), widths[-1])``  (L = len(widths), 3 by default)

With ``in_chans=1`` (magnitude) or ``2`` (dual polarisation), ``img_size=88``, ``pool='stride'`` and
``widths=(32, 64, 128)``: ``(B, 1, 88, 88) -> (B, 121, 128)`` (stride-2 convolutions cost a fifth of
conv + max-pool on CPU).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from allspark.registry import ENCODERS


@ENCODERS.register_module()
class SARConvEncoder(nn.Module):
    """Args:
        in_chans: polarisation channels (1 or 2; any positive number works).
        img_size: input height = width (the position embedding is sized from it).
        widths: output channels per layer (the paper: three layers).
        kernel_sizes: kernel size per layer (an int means the same for every layer).
        pool: ``'max'`` (conv stride 1 + max-pool) or ``'stride'`` (conv stride 2).
        dropout: dropout on the tokens.
    """

    def __init__(self, in_chans: int = 1, img_size: int = 88,
                 widths: Sequence[int] = (16, 32, 64), kernel_sizes=(5, 3, 3),
                 pool: str = 'stride', dropout: float = 0.0):
        super().__init__()
        if pool not in ('max', 'stride'):
            raise ValueError(f"SARConvEncoder: pool must be 'max' or 'stride', got {pool!r}")
        kernel_sizes = [kernel_sizes] * len(widths) if isinstance(kernel_sizes, int) \
            else list(kernel_sizes)
        if len(kernel_sizes) != len(widths):
            raise ValueError(f'SARConvEncoder: {len(widths)} widths but {len(kernel_sizes)} '
                             f'kernel sizes')
        if img_size % (2 ** len(widths)):
            raise ValueError(f'SARConvEncoder: img_size {img_size} is not a multiple of '
                             f'2^{len(widths)}')
        self.in_chans, self.img_size, self.out_dim = in_chans, img_size, int(widths[-1])
        layers, cin = [], in_chans
        for cout, k in zip(widths, kernel_sizes):
            stride = 2 if pool == 'stride' else 1
            layers += [nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False),
                       nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
            if pool == 'max':
                layers.append(nn.MaxPool2d(2))
            cin = cout
        self.features = nn.Sequential(*layers)
        self.grid = img_size // 2 ** len(widths)
        self.pos = nn.Parameter(torch.zeros(1, self.grid * self.grid, self.out_dim))
        nn.init.trunc_normal_(self.pos, std=0.02)
        self.drop = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(self.out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C, H, W) -> (B, grid * grid, out_dim)``."""
        if x.dim() != 4 or x.shape[1] != self.in_chans or x.shape[-2:] != (self.img_size,
                                                                          self.img_size):
            raise ValueError(f'SARConvEncoder expects (B, {self.in_chans}, {self.img_size}, '
                             f'{self.img_size}), got {tuple(x.shape)}')
        tokens = self.features(x).flatten(2).transpose(1, 2) + self.pos
        return self.norm(self.drop(tokens))
