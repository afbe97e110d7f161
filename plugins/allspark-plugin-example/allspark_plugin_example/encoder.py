"""``SignalPatchEncoder``: a 1-D signal cut into patches, one token per patch.

``(B, C, L) -> (B, L / patch_size, embed_dim)``.
"""
import torch
from torch import nn

from allspark.registry import ENCODERS


@ENCODERS.register_module()
class SignalPatchEncoder(nn.Module):

    def __init__(self, in_chans: int = 1, length: int = 128, patch_size: int = 8,
                 embed_dim: int = 64):
        super().__init__()
        if length % patch_size:
            raise ValueError(f'SignalPatchEncoder: length {length} is not a multiple of '
                             f'patch_size {patch_size}')
        self.in_chans, self.length = in_chans, length
        self.out_dim = embed_dim  # the core reads this to size the bridge
        self.proj = nn.Conv1d(in_chans, embed_dim, patch_size, stride=patch_size)
        self.pos = nn.Parameter(torch.zeros(1, length // patch_size, embed_dim))
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or x.shape[1] != self.in_chans or x.shape[2] != self.length:
            raise ValueError(f'SignalPatchEncoder expects (B, {self.in_chans}, {self.length}), '
                             f'got {tuple(x.shape)}')
        return self.norm(self.proj(x).transpose(1, 2) + self.pos)
