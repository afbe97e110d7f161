"""``TrajTransformerEncoder``: the paper's trajectory encoder (after TUTR, Shi et al. ICCV 2023).

A linear layer over the observed coordinates (relative to the last observed position) embeds
the pedestrian's whole track as one token and every observed step as one more token; each
neighbour's observed track (same local frame) becomes one context token through its own linear
layer.  A 2-layer transformer encoder then mixes them.

Input (a dict, batched by ``allspark.collate``)::

    obs     (B, T, 2)     observed positions, local frame
    nbr     (B, N, T, 2)  neighbours' observed positions, same frame
    nbr_pad (B, N)        True where there is no neighbour

Output: tokens ``(B, 1 + T + N, embed_dim)`` and their padding mask ``(B, 1 + T + N)``.
"""
from __future__ import annotations

import torch
from torch import nn

from allspark.registry import ENCODERS


@ENCODERS.register_module()
class TrajTransformerEncoder(nn.Module):
    """Args:
        obs_len: observed steps ``T``.
        embed_dim: token width (``out_dim``).
        depth, num_heads, ffn_ratio, dropout: the transformer encoder.
        coord_scale: metres per unit fed to the linear layers (inputs are divided by it).
        use_neighbors: add the neighbours' tokens (their padding is masked).
    """

    def __init__(self, obs_len: int = 8, embed_dim: int = 128, depth: int = 2,
                 num_heads: int = 4, ffn_ratio: float = 2.0, dropout: float = 0.0,
                 coord_scale: float = 2.0, use_neighbors: bool = True):
        super().__init__()
        self.obs_len, self.coord_scale, self.use_neighbors = obs_len, coord_scale, use_neighbors
        self.out_dim = embed_dim
        self.track_embed = nn.Linear(obs_len * 2, embed_dim)
        self.step_embed = nn.Linear(4, embed_dim)  # position and step displacement
        self.step_pos = nn.Parameter(torch.zeros(1, obs_len, embed_dim))
        self.nbr_embed = nn.Linear(obs_len * 2 * 2, embed_dim)  # relative track and displacement
        self.type_embed = nn.Parameter(torch.zeros(3, embed_dim))  # track, step, neighbour
        nn.init.trunc_normal_(self.step_pos, std=0.02)
        nn.init.trunc_normal_(self.type_embed, std=0.02)
        layer = nn.TransformerEncoderLayer(embed_dim, num_heads, int(embed_dim * ffn_ratio),
                                           dropout, activation='gelu', batch_first=True,
                                           norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x: dict) -> tuple[torch.Tensor, torch.Tensor]:
        obs = x['obs'].float() / self.coord_scale
        if obs.dim() != 3 or obs.shape[1:] != (self.obs_len, 2):
            raise ValueError(f'TrajTransformerEncoder expects obs (B, {self.obs_len}, 2), '
                             f'got {tuple(obs.shape)}')
        b = obs.shape[0]
        vel = torch.diff(obs, dim=1, prepend=obs[:, :1])
        track = self.track_embed(obs.flatten(1)).unsqueeze(1) + self.type_embed[0]
        steps = self.step_embed(torch.cat([obs, vel], -1)) + self.step_pos + self.type_embed[1]
        tokens = [track, steps]
        pad = [torch.zeros(b, 1 + self.obs_len, dtype=torch.bool, device=obs.device)]
        if self.use_neighbors and x['nbr'].shape[1] > 0:
            nbr = x['nbr'].float() / self.coord_scale
            nvel = torch.diff(nbr, dim=2, prepend=nbr[:, :, :1])
            tokens.append(self.nbr_embed(torch.cat([nbr, nvel], -1).flatten(2))
                          + self.type_embed[2])
            pad.append(x['nbr_pad'].bool())
        tokens, pad = torch.cat(tokens, 1), torch.cat(pad, 1)
        return self.norm(self.blocks(tokens, src_key_padding_mask=pad)), pad
