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


class BaseHead(nn.Module):
    """A head reads ``source`` from the features and implements ``loss`` and ``predict``."""

    def __init__(self, in_dim: int, source: str = 'bridged'):
        super().__init__()
        self.in_dim, self.source = in_dim, source

    def read(self, features: dict) -> torch.Tensor:
        x = select_features(features, self.source)
        if x.shape[-1] != self.in_dim:
            raise ValueError(f'{type(self).__name__}: in_dim={self.in_dim} but the language '
                             f'model outputs width {x.shape[-1]}')
        return x

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
    else:
        out = torch.as_tensor(values)
    return out.to(device=device, dtype=dtype) if dtype else out.to(device)
