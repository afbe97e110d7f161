"""Modal bridges: map an encoder's tokens ``(B, n, d)`` to the language model's width ``(B, N, D)``.

``PerceiverBridge`` is the paper's modal bridge (a Flamingo/Lynx-style resampler): ``N`` learnable
queries of width ``D`` attend to the encoder tokens through ``depth`` pre-norm layers of
cross-attention + FFN.  Its cost is mostly the FFN at width ``D`` and the K/V projection of the
encoder tokens, so keep ``num_queries`` small on CPU.

Its cross-attention runs through ``nn.MultiheadAttention`` (SDPA inside) or, under bfloat16 on a
CPU, through the same weights in plain matmuls (``attention='auto'``; PyTorch's CPU SDPA backward
is several times slower in bfloat16, see ``allspark.engine.precision``).
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from allspark.engine.precision import (
    AUTO,
    attention_implementation,
    backward_will_run,
    compute_dtype,
)
from allspark.registry import BRIDGES


def eager_multihead_attention(attn: nn.MultiheadAttention, query: torch.Tensor,
                              kv: torch.Tensor, key_padding_mask: Optional[torch.Tensor] = None
                              ) -> torch.Tensor:
    """``attn(query, kv, kv, need_weights=False)[0]`` in plain matmuls, with ``attn``'s weights.

    Shapes: query ``(B, N, E)``, kv ``(B, n, kdim)``, mask ``(B, n)`` (True = pad) -> ``(B, N, E)``.
    """
    if not attn.batch_first or attn.bias_k is not None or attn.add_zero_attn:
        raise NotImplementedError('eager_multihead_attention covers batch_first attention '
                                  'without bias_kv / zero_attn')
    if attn._qkv_same_embed_dim:
        w_q, w_k, w_v = attn.in_proj_weight.chunk(3)
    else:
        w_q, w_k, w_v = attn.q_proj_weight, attn.k_proj_weight, attn.v_proj_weight
    b_q = b_k = b_v = None
    if attn.in_proj_bias is not None:
        b_q, b_k, b_v = attn.in_proj_bias.chunk(3)
    heads, width = attn.num_heads, attn.embed_dim
    batch, num_q, num_kv = query.shape[0], query.shape[1], kv.shape[1]
    head_dim = width // heads
    q = F.linear(query, w_q, b_q).view(batch, num_q, heads, head_dim).transpose(1, 2)
    k = F.linear(kv, w_k, b_k).view(batch, num_kv, heads, head_dim).transpose(1, 2)
    v = F.linear(kv, w_v, b_v).view(batch, num_kv, heads, head_dim).transpose(1, 2)
    scores = (q * head_dim ** -0.5) @ k.transpose(-2, -1)           # (B, H, N, n)
    if key_padding_mask is not None:
        scores = scores.masked_fill(key_padding_mask.bool()[:, None, None, :], float('-inf'))
    probs = F.dropout(scores.softmax(dim=-1), attn.dropout, attn.training)
    out = (probs.to(v.dtype) @ v).transpose(1, 2).reshape(batch, num_q, width)
    return attn.out_proj(out)


class _CrossAttentionBlock(nn.Module):
    """One pre-norm layer: ``q = q + XAttn(LN(q), LN(kv)); q = q + FFN(LN(q))``."""

    def __init__(self, dim: int, kv_dim: int, num_heads: int, ffn_ratio: float, dropout: float,
                 attention: str = AUTO):
        super().__init__()
        self.attention = attention
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
        query = self.norm_q(q)
        impl = attention_implementation(
            query.device.type, compute_dtype(query), self.attention,
            needs_backward=backward_will_run(self.attn, query, kv),
            scores_per_head=query.shape[-2] * kv.shape[-2])
        if impl == 'eager':
            attn = eager_multihead_attention(self.attn, query, kv, kv_padding_mask)
        else:
            attn, _ = self.attn(query, kv, kv, key_padding_mask=kv_padding_mask,
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
        attention: ``'auto'`` (eager under bfloat16 on a CPU, else SDPA), ``'eager'`` or
            ``'sdpa'``.

    Shapes: tokens ``(B, n, d)`` (+ optional padding mask ``(B, n)``, True = pad) -> ``(B, N, D)``.
    """

    def __init__(self, in_dim: int, out_dim: int, num_queries: int = 16, depth: int = 2,
                 num_heads: int = 8, ffn_ratio: float = 2.0, dropout: float = 0.0,
                 query_init_std: float = 0.02, attention: str = AUTO):
        super().__init__()
        if attention not in (AUTO, 'eager', 'sdpa'):
            raise ValueError(f"PerceiverBridge: attention must be 'auto', 'eager' or 'sdpa', "
                             f"got {attention!r}")
        if out_dim % num_heads:
            raise ValueError(f'PerceiverBridge: out_dim={out_dim} is not divisible by '
                             f'num_heads={num_heads}')
        self.in_dim, self.out_dim, self.num_queries = in_dim, out_dim, num_queries
        self.queries = nn.Parameter(torch.randn(num_queries, out_dim) * query_init_std)
        self.layers = nn.ModuleList(
            _CrossAttentionBlock(out_dim, in_dim, num_heads, ffn_ratio, dropout, attention)
            for _ in range(depth))
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
