"""``SwitchableTransformerEncoderLayer``: ``nn.TransformerEncoderLayer`` whose attention kernel
follows the framework's choice per device and dtype.

PyTorch's layer always calls scaled-dot-product attention (SDPA) in training; on a CPU its
bfloat16 backward can be the slow part (the HSI spectral encoder, 2 layers over 103 band tokens,
batch 32, forward+backward: float32 80 ms, bfloat16 SDPA 200 ms, bfloat16 eager 61 ms).  Whether
eager pays depends on the shapes: for the trajectory and table encoders it did not (a bfloat16
step x0.79 and x0.94 with it, session 10), so an encoder adopts this layer only where a
measurement shows the gain.  This layer exposes timm's ``fused_attn`` switch, which
``allspark.engine.precision.follow_attention_choice`` sets for every encoder before each call:
``True`` is PyTorch's own path, ``False`` computes ``softmax(q k^T) v`` with batched products
(``nn.MultiheadAttention`` with ``need_weights=True``).  Same parameters, same state dict as
``nn.TransformerEncoderLayer``, so checkpoints written with either load into the other.
``(B, N, D) -> (B, N, D)`` (``batch_first=True``) like the layer it replaces.
"""
from __future__ import annotations

from typing import Optional

import torch
from torch import nn


class SwitchableTransformerEncoderLayer(nn.TransformerEncoderLayer):
    """``nn.TransformerEncoderLayer`` with a ``fused_attn`` switch (``True``: SDPA, the
    default; ``False``: eager attention).  Takes ``nn.TransformerEncoderLayer``'s arguments."""

    fused_attn: bool = True

    def _sa_block(self, x: torch.Tensor, attn_mask: Optional[torch.Tensor],
                  key_padding_mask: Optional[torch.Tensor], is_causal: bool = False
                  ) -> torch.Tensor:
        if self.fused_attn:
            return super()._sa_block(x, attn_mask, key_padding_mask, is_causal)
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=True, average_attn_weights=False,
                           is_causal=is_causal)[0]
        return self.dropout1(x)
