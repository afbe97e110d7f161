"""What every task head shares: reading the language model's output.

The model hands a head a *features* dict (see ``AllSpark.extract_features``)::

    tokens    (B, T, D)  language-model outputs of the whole sequence
    mask      (B, T)     True where a token is real (not padding)
    segments  {'prompt': (start, end), <modality>: (start, end), ...}
    embeds    (B, T, D)  the language model's input sequence (for heads that decode with it)

With ``fusion='separate'`` there is one such dict per modality: ``{modality: features}``.

``source`` selects what a head reads:

    'bridged'        mean over the bridged tokens of every modality      -> (B, D)
    'mean'           mean over all real tokens (prompt included)          -> (B, D)
    'first'          the first token                                      -> (B, D)
    'modality:<m>'   mean over modality m's bridged tokens                -> (B, D)
    'tokens:<m>'     modality m's bridged tokens, one output per token    -> (B, N_m, D)
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn


def _masked_mean(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask.to(tokens.dtype).unsqueeze(-1)
    return (tokens * weights).sum(1) / weights.sum(1).clamp_min(1.0)


def select_features(features: dict, source: str) -> torch.Tensor:
    """Pool or slice the language model's outputs as ``source`` says (see module docstring)."""
    tokens, mask, segments = features['tokens'], features['mask'], features['segments']
    if source == 'first':
        return tokens[:, 0]
    if source == 'mean':
        return _masked_mean(tokens, mask)
    if source == 'bridged':
        keep = torch.zeros_like(mask)
        for name, (start, end) in segments.items():
            if name != 'prompt':
                keep[:, start:end] = True
        return _masked_mean(tokens, mask & keep)
    kind, _, modality = source.partition(':')
    if kind in ('modality', 'tokens'):
        if modality not in segments:
            raise KeyError(f'head source {source!r}: modality {modality!r} is not in this '
                           f'batch (present: {[s for s in segments if s != "prompt"]})')
        start, end = segments[modality]
        if kind == 'tokens':
            return tokens[:, start:end]
        return _masked_mean(tokens[:, start:end], mask[:, start:end])
    raise ValueError(f"unknown head source {source!r}; use 'bridged', 'mean', 'first', "
                     f"'modality:<m>' or 'tokens:<m>'")


NORM_KINDS = ('none', 'batch', 'layer')


def feature_norm(kind: str, dim: int, owner: str = 'head') -> nn.Module:
    """What a head applies to the features it reads before its layers.

    ``'batch'``: BatchNorm without affine parameters (MAE's linear-probe trick), over every token
    of the batch; ``'layer'``: LayerNorm (timm's ``fc_norm``); ``'none'``: identity.
    Why: a frozen language model's pooled outputs are dominated by a component every sample
    shares (measured on MiniLM over a ModelNet40 batch: std across the batch 0.07 against 0.35
    overall), so a head reading them raw sees tiny differences and passes back tiny gradients;
    ``'batch'`` removes the shared component and scales what differs to unit variance.
    """
    if kind not in NORM_KINDS:
        raise ValueError(f"{owner}: norm must be one of {NORM_KINDS}, got {kind!r}")
    return {'none': nn.Identity, 'layer': lambda: nn.LayerNorm(dim),
            'batch': lambda: nn.BatchNorm1d(dim, affine=False)}[kind]()


class BaseHead(nn.Module):
    """A head reads ``source`` from the features (standardised as ``norm`` says, see
    :func:`feature_norm`) and implements ``loss`` and ``predict``.

    ``supports_mixup``: whether ``loss`` handles the ``mix_gt_label`` / ``mix_lam`` fields that a
    ``Mixup`` batch augment adds (the model refuses mixed batches for heads that do not).
    """

    supports_mixup = False

    def __init__(self, in_dim: int, source: str = 'bridged', norm: str = 'none'):
        super().__init__()
        self.in_dim, self.source = in_dim, source
        self.norm = feature_norm(norm, in_dim, type(self).__name__)

    def read(self, features: dict) -> torch.Tensor:
        x = select_features(features, self.source)
        if x.shape[-1] != self.in_dim:
            raise ValueError(f'{type(self).__name__}: in_dim={self.in_dim} but the language '
                             f'model outputs width {x.shape[-1]}')
        if isinstance(self.norm, nn.BatchNorm1d) and x.dim() != 2:  # (B, n, D): every token
            return self.norm(x.reshape(-1, x.shape[-1])).reshape(x.shape)
        return self.norm(x)

    def loss(self, features: dict, data_samples: list[dict]) -> dict:
        raise NotImplementedError

    def predict(self, features: dict, data_samples: list[dict]) -> list[dict]:
        raise NotImplementedError


def stack_field(data_samples: list[dict], key: str, device, dtype=None) -> torch.Tensor:
    """Stack one ground-truth field of the batch's data samples into a tensor."""
    try:
        values = [s[key] for s in data_samples]
    except KeyError as exc:
        raise KeyError(f'data sample has no {key!r} field (has {sorted(data_samples[0])})') from exc
    if isinstance(values[0], torch.Tensor):
        out = torch.stack(values)
    elif isinstance(values[0], np.ndarray):  # one array, not a list of them (much faster)
        out = torch.from_numpy(np.stack(values))
    else:
        out = torch.as_tensor(values)
    return out.to(device=device, dtype=dtype) if dtype else out.to(device)
