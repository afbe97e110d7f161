"""Modal bridges: map an encoder's tokens ``(B, n, d)`` to the language model's width ``(B, N, D)``.

``PerceiverBridge`` is the paper's modal bridge (a Flamingo/Lynx-style resampler): ``N`` learnable
queries of width ``D`` attend to the encoder tokens through ``depth`` pre-norm layers of
cross-attention + FFN.  Its cost is mostly the FFN at width ``D`` and the K/V projection of the
encoder tokens, so keep ``num_queries`` small on CPU.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from allspark.registry import BRIDGES


class _CrossAttentionBlock(nn.Module):
    """One pre-norm layer: ``q = q + XAttn(LN(q), LN(kv)); q = q + FFN(LN(q))``."""

    def __init__(self, dim: int, kv_dim: int, num_heads: int, ffn_ratio: float, dropout: float):
        super().__init__()
        self.norm_q = nn.LayerNorm(dim)
        self.norm_kv = nn.LayerNorm(kv_dim)
        self.attn = nn.MultiheadAttention(dim, num_heads, dropout=dropout, kdim=kv_dim, vdim=kv_dim,
                                          batch_first=True)
        self.norm_ffn = nn.LayerNorm(dim)
        hidden = int(dim * ffn_ratio)
        self.ffn = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, dim), nn.Dropout(dropout))

    def forward(self, q: torch.Tensor, kv: torch.Tensor,
                kv_padding_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        kv = self.norm_kv(kv)
        attn, _ = self.attn(self.norm_q(q), kv, kv, key_padding_mask=kv_padding_mask,
                            need_weights=False)
        q = q + attn
        return q + self.ffn(self.norm_ffn(q))


@BRIDGES.register_module()
class PerceiverBridge(nn.Module):
    """Perceiver-style resampler.

    Args:
        in_dim: width ``d`` of the encoder tokens (filled in from the encoder's ``out_dim``).
        out_dim: width ``D`` of the language model (filled in from the language model).
        num_queries: ``N``, the number of bridged tokens.
        depth: number of cross-attention + FFN layers.

    Shapes: tokens ``(B, n, d)`` (+ optional padding mask ``(B, n)``, True = pad) -> ``(B, N, D)``.
    """

    def __init__(self, in_dim: int, out_dim: int, num_queries: int = 16, depth: int = 2,
                 num_heads: int = 8, ffn_ratio: float = 2.0, dropout: float = 0.0,
                 query_init_std: float = 0.02):
        super().__init__()
        if out_dim % num_heads:
            raise ValueError(f'PerceiverBridge: out_dim={out_dim} is not divisible by '
                             f'num_heads={num_heads}')
        self.in_dim, self.out_dim, self.num_queries = in_dim, out_dim, num_queries
        self.queries = nn.Parameter(torch.randn(num_queries, out_dim) * query_init_std)
        self.layers = nn.ModuleList(
            _CrossAttentionBlock(out_dim, in_dim, num_heads, ffn_ratio, dropout) for _ in range(depth))
        self.norm = nn.LayerNorm(out_dim)

    def forward(self, tokens: torch.Tensor,
                padding_mask: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, None]:
        if tokens.dim() != 3 or tokens.shape[-1] != self.in_dim:
            raise ValueError(f'PerceiverBridge expects encoder tokens (B, n, {self.in_dim}), '
                             f'got {tuple(tokens.shape)}')
        q = self.queries.unsqueeze(0).expand(tokens.shape[0], -1, -1)
        for layer in self.layers:
            q = layer(q, tokens, padding_mask)
        # Every bridged token is valid, whatever padding the encoder tokens had.
        return self.norm(q), None


@BRIDGES.register_module()
class LinearBridge(nn.Module):
    """Per-token linear projection ``(B, n, d) -> (B, n, D)``; keeps the token count and mask.

    Use it where token identity matters downstream (e.g. one token per graph node) or for
    inputs that are already language-model tokens (``in_dim == out_dim`` gives an identity)."""

    def __init__(self, in_dim: int, out_dim: int):
        super().__init__()
        self.in_dim, self.out_dim = in_dim, out_dim
        self.proj = nn.Identity() if in_dim == out_dim else nn.Linear(in_dim, out_dim)

    def forward(self, tokens: torch.Tensor,
                padding_mask: Optional[torch.Tensor] = None
                ) -> tuple[torch.Tensor, Optional[torch.Tensor]]:
        if tokens.dim() != 3 or tokens.shape[-1] != self.in_dim:
            raise ValueError(f'LinearBridge expects encoder tokens (B, n, {self.in_dim}), '
                             f'got {tuple(tokens.shape)}')
        return self.proj(tokens), padding_mask
