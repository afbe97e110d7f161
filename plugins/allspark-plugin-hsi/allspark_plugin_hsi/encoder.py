"""``SpectralTransformerEncoder``: a pixel's spectrum as a sequence of band tokens.

Each band value becomes a token through its own linear projection (a per-band weight vector and
bias, i.e. a band embedding), ``token_b = x_b * w_b + b_b + pos_b``; a transformer encoder (the
paper: 12 layers; configurable, fewer on CPU) mixes the bands.  With ``group_size > 1`` each token
projects ``group_size`` adjacent bands (fewer tokens, cheaper).  With ``spectrum_token=True``
one more token, a linear projection of the whole spectrum, comes first: it hands the transformer
a linear function of all bands at once, the feature a linear classifier separates the classes
with (on Salinas-A a logistic regression on standardised spectra makes 8 test errors, as the RBF
SVM; an MLP 11-19).

``(B, bands) -> (B, [1 +] bands / group_size, embed_dim)``.

Attention follows the framework's choice per device and dtype
(``allspark.models.transformer_layer``): SDPA in float32, eager attention in a bfloat16 training
step on a CPU, where SDPA's backward is the slow part.
"""
from __future__ import annotations

import torch
from torch import nn

from allspark.models.transformer_layer import SwitchableTransformerEncoderLayer
from allspark.registry import ENCODERS


@ENCODERS.register_module()
class SpectralTransformerEncoder(nn.Module):
    """Args:
        num_bands: spectral bands per pixel (Salinas-A: 204).
        embed_dim: token width (``out_dim``).
        depth: transformer encoder layers (paper: 12).
        num_heads: attention heads.
        ffn_ratio: FFN hidden width relative to ``embed_dim``.
        group_size: adjacent bands per token (1 = one token per band, as in the paper).
        dropout: dropout inside the transformer layers.
        spectrum_token: prepend a token projected from the whole spectrum.
    """

    def __init__(self, num_bands: int, embed_dim: int = 64, depth: int = 12, num_heads: int = 4,
                 ffn_ratio: float = 2.0, group_size: int = 1, dropout: float = 0.0,
                 spectrum_token: bool = False):
        super().__init__()
        if num_bands % group_size:
            raise ValueError(f'SpectralTransformerEncoder: num_bands={num_bands} is not a '
                             f'multiple of group_size={group_size}')
        self.num_bands, self.group_size = num_bands, group_size
        self.num_tokens = num_bands // group_size
        self.out_dim = embed_dim
        self.weight = nn.Parameter(torch.randn(self.num_tokens, group_size, embed_dim) *
                                   group_size ** -0.5)
        self.bias = nn.Parameter(torch.zeros(self.num_tokens, embed_dim))
        self.pos = nn.Parameter(torch.randn(1, self.num_tokens, embed_dim) * 0.02)
        self.spectrum_proj = nn.Linear(num_bands, embed_dim) if spectrum_token else None
        layer = SwitchableTransformerEncoderLayer(embed_dim, num_heads, int(embed_dim * ffn_ratio),
                                           dropout=dropout, activation='gelu',
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, bands)`` (normalised spectra) -> ``(B, bands / group_size, embed_dim)``."""
        if x.dim() != 2 or x.shape[1] != self.num_bands:
            raise ValueError(f'SpectralTransformerEncoder expects spectra (B, {self.num_bands}), '
                             f'got {tuple(x.shape)}')
        groups = x.float().reshape(x.shape[0], self.num_tokens, self.group_size)
        tokens = torch.einsum('bng,ngd->bnd', groups, self.weight) + self.bias + self.pos
        if self.spectrum_proj is not None:
            whole = self.spectrum_proj(x.float())[:, None]  # (B, 1, D)
            tokens = torch.cat([whole, tokens], 1)
        return self.norm(self.blocks(tokens))
