"""``STAEGraphEncoder``: tokens per graph node, after STAEformer (Liu et al., CIKM 2023).

Every (step, node) reading is embedded as the concatenation of an input projection (speed,
z-scored by the data preprocessor, and its valid flag), a time-of-day embedding, a day-of-week
embedding and an adaptive spatio-temporal node embedding (a free ``(T, N, d_a)`` parameter).
Transformer layers attend along time (per node) and then across nodes (per step); each node's
``T x D`` features are flattened and projected to one token per node.

Input (a dict, batched)::

    x     (B, T, N, 1)  z-scored speed (0 where missing before z-scoring)
    valid (B, T, N, 1)  1 = reading present, 0 = missing
    tod   (B, T)        time of day in [0, 1)
    dow   (B, T)        day of week, 0 = Monday

Day-of-week classes: 7 (one embedding per day, STAEformer's choice for months of data) or 2
(weekday / weekend).  Use 2 when the training part does not hold every day of the week: an
embedding row that no training window reaches stays at its random initialisation and feeds noise
to the model at test time (Los-loop's first week: training Thu-Mon, test Tue-Wed).

Output: ``(B, N, out_dim)``, one token per node (pair it with ``LinearBridge`` to keep them).
"""
from __future__ import annotations

import torch
from torch import nn

from allspark.registry import ENCODERS


def _layer(dim: int, heads: int, ffn: int, dropout: float) -> nn.TransformerEncoderLayer:
    return nn.TransformerEncoderLayer(dim, heads, ffn, dropout, activation='gelu',
                                      batch_first=True, norm_first=True)


@ENCODERS.register_module()
class STAEGraphEncoder(nn.Module):
    """Args:
        num_nodes: ``N`` (207 for METR-LA, 325 for PEMS-BAY).
        in_steps: ``T``.
        steps_per_day: time-of-day slots (288 at 5 minutes).
        input_dim, tod_dim, dow_dim, adaptive_dim: widths of the four embeddings.
        dow_classes: 7 (Monday..Sunday) or 2 (weekday / weekend).
        num_heads, ffn_ratio, temporal_layers, spatial_layers, dropout: the transformer layers.
        out_dim: token width.
    """

    def __init__(self, num_nodes: int, in_steps: int = 12, steps_per_day: int = 288,
                 input_dim: int = 24, tod_dim: int = 24, dow_dim: int = 16,
                 adaptive_dim: int = 32, num_heads: int = 4, ffn_ratio: float = 2.0,
                 temporal_layers: int = 1, spatial_layers: int = 1, dropout: float = 0.1,
                 out_dim: int = 128, dow_classes: int = 7):
        super().__init__()
        if dow_classes not in (7, 2):
            raise ValueError(f'STAEGraphEncoder: dow_classes must be 7 (days) or 2 (weekday / '
                             f'weekend), got {dow_classes}')
        self.dow_classes = dow_classes
        self.num_nodes, self.in_steps, self.steps_per_day = num_nodes, in_steps, steps_per_day
        self.out_dim = out_dim
        dim = input_dim + tod_dim + dow_dim + adaptive_dim
        self.input_proj = nn.Linear(2, input_dim)
        self.tod_embed = nn.Embedding(steps_per_day, tod_dim)
        self.dow_embed = nn.Embedding(dow_classes, dow_dim)
        self.adaptive = nn.Parameter(torch.empty(in_steps, num_nodes, adaptive_dim))
        nn.init.xavier_uniform_(self.adaptive)
        ffn = int(dim * ffn_ratio)
        self.temporal = nn.ModuleList(_layer(dim, num_heads, ffn, dropout)
                                      for _ in range(temporal_layers))
        self.spatial = nn.ModuleList(_layer(dim, num_heads, ffn, dropout)
                                     for _ in range(spatial_layers))
        self.out_proj = nn.Sequential(nn.LayerNorm(in_steps * dim),
                                      nn.Linear(in_steps * dim, out_dim))

    def forward(self, inputs: dict) -> torch.Tensor:
        x, valid = inputs['x'].float(), inputs['valid'].float()
        if x.dim() != 4 or x.shape[1:] != (self.in_steps, self.num_nodes, 1):
            raise ValueError(f'STAEGraphEncoder expects x (B, {self.in_steps}, '
                             f'{self.num_nodes}, 1), got {tuple(x.shape)}')
        b, t, n, _ = x.shape
        h = self.input_proj(torch.cat([x * valid, valid], -1))  # (B, T, N, d_in)
        tod = (inputs['tod'].float() * self.steps_per_day).long().clamp(0, self.steps_per_day - 1)
        tod = self.tod_embed(tod)[:, :, None].expand(-1, -1, n, -1)
        dow = inputs['dow'].long()
        if self.dow_classes == 2:
            dow = (dow >= 5).long()  # Saturday (5) and Sunday (6) -> weekend
        dow = self.dow_embed(dow)[:, :, None].expand(-1, -1, n, -1)
        ada = self.adaptive[None].expand(b, -1, -1, -1)
        h = torch.cat([h, tod, dow, ada], -1)  # (B, T, N, D)
        d = h.shape[-1]
        h = h.transpose(1, 2).reshape(b * n, t, d)
        for layer in self.temporal:  # along time, per node
            h = layer(h)
        h = h.reshape(b, n, t, d).transpose(1, 2).reshape(b * t, n, d)
        for layer in self.spatial:  # across nodes, per step
            h = layer(h)
        h = h.reshape(b, t, n, d).transpose(1, 2).reshape(b, n, t * d)
        return self.out_proj(h)  # (B, N, out_dim)
