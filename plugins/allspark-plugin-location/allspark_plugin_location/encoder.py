"""``MultiScaleLocationEncoder``: coordinates -> one token per spatial scale (+ register tokens).

**Input order is ``(lat, lon)`` in degrees** (``x[:, 0]`` latitude, ``x[:, 1]`` longitude).
SatCLIP's encoders take ``(lon, lat)``; GeoCLIP's take ``(lat, lon)`` like this one.

Pipeline (``mode='rff'``)::

    (lat, lon)                                      (B, 2)     degrees
    Equal Earth projection / EQUAL_EARTH_X_MAX      (B, 2)     x in [-1, 1], y in [-0.49, 0.49]
    K frozen Gaussian random Fourier feature maps   (B, K, 2M) [cos 2 pi v b_k, sin 2 pi v b_k],
        b_k ~ N(0, sigma_k^2 I), sigma_k in scales (default 2^0, 2^4, 2^8, 2^12)
    one shared MLP (2M -> d -> d)                   (B, K, d)
      + fixed sinusoidal code of log2 sigma_k
    [scale tokens ; R learned register tokens]      (B, K + R, d)
    pre-norm nn.TransformerEncoder (batch_first)    (B, K + R, d) -> LayerNorm

``forward`` returns the tokens ``(B, K + R, d)`` (for a bridge: an ordinary AllSpark encoder);
``forward_features`` returns ``dict(tokens=(B, K + R, d), pooled=(B, d))`` where ``pooled`` is
the mean of the K scale tokens (the location embedding for alignment and probes).

The parameter count does not depend on K: the MLP is shared by every scale, the random matrices
are frozen buffers and a scale is told apart by a parameter-free sinusoidal code of ``log2
sigma``, not by a learned per-scale embedding.

Baselines (same class, one option away): ``scales=[1.0]`` is the single-scale RFF encoder;
``mode='raw'`` feeds the raw degrees (``lat / 90``, ``lon / 180``: a constant rescaling, no
projection, no Fourier features) to the same kind of MLP, one token.

Every sample is encoded independently (no batch statistics), so a sample's embedding does not
depend on the rest of its batch.

References: V. Vivanco Cepeda, G. K. Nayak, M. Shah, "GeoCLIP: Clip-Inspired Alignment between
Locations and Images for Effective Worldwide Geo-localization", NeurIPS 2023 (Equal Earth + RFF
at 2^0, 2^4, 2^8); M. Tancik et al., "Fourier Features Let Networks Learn High Frequency
Functions in Low Dimensional Domains", NeurIPS 2020; T. Darcet et al., "Vision Transformers Need
Registers", ICLR 2024.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
from torch import nn

from allspark.geo import EQUAL_EARTH_X_MAX, check_latlon, equal_earth
from allspark.registry import ENCODERS

MODES = ('rff', 'raw')
DEFAULT_SCALES = (2.0 ** 0, 2.0 ** 4, 2.0 ** 8, 2.0 ** 12)


def sinusoidal_code(values: torch.Tensor, dim: int) -> torch.Tensor:
    """Fixed sinusoidal code ``(K,) -> (K, dim)`` (transformer position code of ``values``)."""
    half = dim // 2
    freqs = torch.exp(-math.log(100.0) * torch.arange(half, dtype=torch.float64) / max(half, 1))
    angles = values.double()[:, None] * freqs[None]
    code = torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)
    if code.shape[-1] < dim:
        code = torch.cat([code, torch.zeros(code.shape[0], dim - code.shape[-1],
                                            dtype=code.dtype)], dim=-1)
    return code.float()


@ENCODERS.register_module()
class MultiScaleLocationEncoder(nn.Module):
    """Args:
        embed_dim: token width ``d`` (``out_dim``).
        scales: RFF standard deviations sigma, one token each (``[1.0]``: single scale).
        num_frequencies: random frequencies ``M`` per scale (each gives a cos and a sin).
        num_registers: learned register tokens ``R`` appended after the scale tokens.
        depth, num_heads, ffn_ratio, dropout: the pre-norm transformer encoder
            (``depth=0``: no transformer, the MLP outputs plus a LayerNorm).
        mode: ``'rff'`` (Equal Earth + random Fourier features) or ``'raw'`` (MLP on the raw
            degrees, one token: the baseline).
        seed: seed of the frozen random matrices (saved with the model as buffers).
        check_input: raise on NaN/inf or out-of-range degrees (a ``(lon, lat)`` batch is caught
            when a latitude leaves [-90, 90]).

    Shapes: ``(B, 2)`` ``(lat, lon)`` degrees -> ``(B, K + R, embed_dim)``.
    """

    def __init__(self, embed_dim: int = 128, scales: Sequence[float] = DEFAULT_SCALES,
                 num_frequencies: int = 128, num_registers: int = 2, depth: int = 2,
                 num_heads: int = 4, ffn_ratio: float = 2.0, dropout: float = 0.0,
                 mode: str = 'rff', seed: int = 0, check_input: bool = True):
        super().__init__()
        if mode not in MODES:
            raise ValueError(f'MultiScaleLocationEncoder: mode must be one of {MODES}, '
                             f'got {mode!r}')
        scales = [float(s) for s in scales]
        if mode == 'rff' and (not scales or any(s <= 0 for s in scales)):
            raise ValueError(f'MultiScaleLocationEncoder: scales must be positive numbers, '
                             f'got {scales}')
        if embed_dim % num_heads:
            raise ValueError(f'MultiScaleLocationEncoder: embed_dim {embed_dim} is not a '
                             f'multiple of num_heads {num_heads}')
        self.mode, self.check_input = mode, check_input
        self.scales = scales if mode == 'rff' else []
        self.num_scale_tokens = len(self.scales) if mode == 'rff' else 1
        self.num_registers = int(num_registers)
        self.num_tokens = self.num_scale_tokens + self.num_registers
        self.embed_dim = self.out_dim = int(embed_dim)

        if mode == 'rff':
            generator = torch.Generator().manual_seed(int(seed))
            normal = torch.randn(len(self.scales), num_frequencies, 2, generator=generator,
                                 dtype=torch.float64)
            sigma = torch.tensor(self.scales, dtype=torch.float64)[:, None, None]
            self.register_buffer('rff_matrix', normal * sigma)  # (K, M, 2), frozen
            self.register_buffer('scale_code', sinusoidal_code(
                torch.log2(torch.tensor(self.scales)), embed_dim))  # (K, d), frozen
            in_features = 2 * num_frequencies
        else:
            in_features = 2
        self.mlp = nn.Sequential(nn.Linear(in_features, embed_dim), nn.GELU(),
                                 nn.Linear(embed_dim, embed_dim))
        self.registers = nn.Parameter(torch.zeros(1, self.num_registers, embed_dim)) \
            if self.num_registers else None
        if self.registers is not None:
            nn.init.trunc_normal_(self.registers, std=0.02)
        if depth:
            layer = nn.TransformerEncoderLayer(embed_dim, num_heads,
                                               int(embed_dim * ffn_ratio), dropout=dropout,
                                               activation='gelu', batch_first=True,
                                               norm_first=True)
            self.blocks = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        else:
            self.blocks = nn.Identity()
        self.norm = nn.LayerNorm(embed_dim)

    # ------------------------------------------------------------------ features
    def _validate(self, x: torch.Tensor) -> None:
        if x.dim() != 2 or x.shape[-1] != 2:
            raise ValueError(f'MultiScaleLocationEncoder expects (B, 2) coordinates as '
                             f'(lat, lon) in degrees (latitude first; SatCLIP takes (lon, lat)), '
                             f'got shape {tuple(x.shape)}')
        if self.check_input:
            check_latlon(x[:, 0], x[:, 1], where='MultiScaleLocationEncoder input (lat, lon)')

    def fourier_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 2)`` (lat, lon) degrees -> ``(B, K, 2M)`` (``mode='rff'``) or ``(B, 1, 2)``.

        Computed in float64 (phases reach ~10^5 rad at sigma = 2^12, beyond float32's
        resolution for fine scales), returned in float32."""
        self._validate(x)
        lat, lon = x[:, 0].double(), x[:, 1].double()
        if self.mode == 'raw':
            return torch.stack([lat / 90.0, lon / 180.0], dim=-1)[:, None].float()
        px, py = equal_earth(lat, lon)
        px, py = px / EQUAL_EARTH_X_MAX, py / EQUAL_EARTH_X_MAX  # GeoCLIP's scaling (SF / 180)
        b = self.rff_matrix  # (K, M, 2)
        phase = 2.0 * math.pi * (px[:, None, None] * b[None, :, :, 0]
                                 + py[:, None, None] * b[None, :, :, 1])  # (B, K, M)
        return torch.cat([torch.cos(phase), torch.sin(phase)], dim=-1).float()

    def forward_features(self, x: torch.Tensor) -> dict:
        """``(B, 2)`` -> ``dict(tokens=(B, K + R, d), pooled=(B, d))``."""
        feats = self.fourier_features(x)
        tokens = self.mlp(feats.to(self.mlp[0].weight.dtype))  # (B, K, d)
        if self.mode == 'rff':
            tokens = tokens + self.scale_code.to(tokens.dtype)
        if self.registers is not None:
            tokens = torch.cat([tokens, self.registers.expand(tokens.shape[0], -1, -1)
                                .to(tokens.dtype)], dim=1)
        tokens = self.norm(self.blocks(tokens))
        return dict(tokens=tokens, pooled=self.pool(tokens))

    def pool(self, tokens: torch.Tensor) -> torch.Tensor:
        """Mean of the scale tokens: ``(B, K + R, d) -> (B, d)``."""
        return tokens[:, :self.num_scale_tokens].mean(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 2)`` (lat, lon) degrees -> tokens ``(B, K + R, embed_dim)``."""
        return self.forward_features(x)['tokens']

    @torch.no_grad()
    def embed(self, coords, batch_size: int = 4096, device: Optional[str] = None
              ) -> torch.Tensor:
        """Pooled embeddings ``(N, d)`` of an ``(N, 2)`` (lat, lon) array, in eval mode, batched."""
        was_training = self.training
        self.eval()
        coords = torch.as_tensor(coords, dtype=torch.float64)
        out = []
        for start in range(0, coords.shape[0], batch_size):
            chunk = coords[start:start + batch_size]
            if device is not None:
                chunk = chunk.to(device)
            out.append(self.forward_features(chunk)['pooled'].float().cpu())
        self.train(was_training)
        return torch.cat(out) if out else torch.zeros(0, self.embed_dim)

    def extra_repr(self) -> str:
        return (f'mode={self.mode!r}, scales={self.scales}, num_registers={self.num_registers}, '
                f'embed_dim={self.embed_dim}')
