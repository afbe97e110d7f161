"""``TabularTokenEncoder``: one token per column of a table row, after TabFormer.

Every column has its own embedding table (one shared ``nn.Embedding`` with per-column offsets):
discrete columns (station, wind direction, hour, month, ...) embed their category index, and
continuous columns embed the index of their quantile bin (bins from the training split, see
``PRSADataset``).  Index 0 of every column is that column's *missing* token.  Optionally a
continuous column also adds ``frac * slope[bin]`` where ``frac`` in [0, 1] is the position of the
value inside its bin (a piecewise-linear encoding; ``frac`` is 0 for discrete columns), so values
in one bin are not all identical.  A learned column embedding is added, then a small transformer
encoder (TabFormer's field-level encoder: one layer by default) mixes the columns.

Input: ``{'index': int64 (B, C), 'frac': float32 (B, C)}`` -> tokens ``(B, C, embed_dim)``.
"""
from __future__ import annotations

import torch
from torch import nn

from allspark.registry import ENCODERS


@ENCODERS.register_module()
class TabularTokenEncoder(nn.Module):
    """Args:
        num_columns: ``C``, the number of columns (tokens) per row.
        vocab_size: entries per column's table (largest number of bins / categories + 1).
        embed_dim: token width ``d`` (``out_dim``).
        depth: transformer encoder layers over the column tokens (TabFormer: 1).
        num_heads: attention heads.
        ffn_ratio: hidden width of the FFN relative to ``embed_dim``.
        piecewise_linear: add ``frac * slope[bin]`` to continuous columns' tokens.
        dropout: dropout inside the transformer layers.
    """

    def __init__(self, num_columns: int, vocab_size: int, embed_dim: int = 64, depth: int = 1,
                 num_heads: int = 4, ffn_ratio: float = 2.0, piecewise_linear: bool = True,
                 dropout: float = 0.0):
        super().__init__()
        self.num_columns, self.vocab_size = num_columns, vocab_size
        self.out_dim = embed_dim
        self.value_embed = nn.Embedding(num_columns * vocab_size, embed_dim)
        nn.init.normal_(self.value_embed.weight, std=0.02)
        self.slope_embed = None
        if piecewise_linear:
            self.slope_embed = nn.Embedding(num_columns * vocab_size, embed_dim)
            nn.init.zeros_(self.slope_embed.weight)
        self.column_embed = nn.Parameter(torch.randn(1, num_columns, embed_dim) * 0.02)
        self.register_buffer('offsets', torch.arange(num_columns) * vocab_size, persistent=False)
        layer = nn.TransformerEncoderLayer(embed_dim, num_heads, int(embed_dim * ffn_ratio),
                                           dropout=dropout, activation='gelu',
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x: dict) -> torch.Tensor:
        """``{'index': (B, C), 'frac': (B, C)}`` -> ``(B, C, embed_dim)``."""
        if not isinstance(x, dict) or 'index' not in x:
            raise TypeError("TabularTokenEncoder expects {'index': (B, C), 'frac': (B, C)}, "
                            f'got {type(x).__name__}')
        index = x['index'].long()
        if index.dim() != 2 or index.shape[1] != self.num_columns:
            raise ValueError(f'TabularTokenEncoder expects index (B, {self.num_columns}), '
                             f'got {tuple(index.shape)}')
        if index.numel() and (int(index.min()) < 0 or int(index.max()) >= self.vocab_size):
            bad = int(((index < 0) | (index >= self.vocab_size)).any(0).nonzero()[0])
            raise ValueError(f'TabularTokenEncoder: column {bad} has token index outside '
                             f'[0, {self.vocab_size}); raise vocab_size or lower the bins')
        flat = index + self.offsets
        tokens = self.value_embed(flat)
        if self.slope_embed is not None and 'frac' in x:
            tokens = tokens + x['frac'].to(tokens.dtype).unsqueeze(-1) * self.slope_embed(flat)
        tokens = self.blocks(tokens + self.column_embed)
        return self.norm(tokens)
