"""``RetrievalHead``: per-modality embeddings aligned contrastively (the all-to-all aligner).

Used with ``AllSpark(fusion='separate')``: each modality runs through the language model on its
own, the head projects each one's pooled output to a shared, L2-normalised space, and the loss is
the symmetric InfoNCE averaged over every pair of modalities present (two modalities: CLIP's loss;
more: all-to-all alignment).  The batch's other samples are the negatives.
"""
from __future__ import annotations

import itertools
import math
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from allspark.models.heads.base import BaseHead
from allspark.registry import HEADS


@HEADS.register_module()
class RetrievalHead(BaseHead):
    """Args:
        modalities: the modalities to align (each must be in the batch's features).
        embed_dim: shared embedding width (``None``: keep the language model's width, identity).
        temperature: initial softmax temperature (learned unless ``learn_temperature=False``).

    Shapes: features ``{m: {...}}`` -> embeddings ``{m: (B, E)}``.  Predictions add
    ``embeddings = {m: (E,)}``; ``RetrievalMetric`` ranks them over the whole evaluation set.
    """

    def __init__(self, in_dim: int, modalities: Sequence[str], embed_dim: Optional[int] = None,
                 source: str = 'bridged', temperature: float = 0.05,
                 learn_temperature: bool = True, shared_projection: bool = True):
        super().__init__(in_dim, source)
        if len(modalities) < 2:
            raise ValueError('RetrievalHead needs at least two modalities to align')
        self.modalities = list(modalities)
        out = embed_dim or in_dim

        def make() -> nn.Module:
            return nn.Identity() if embed_dim is None else nn.Linear(in_dim, out)

        shared = make()
        self.proj = nn.ModuleDict({m: shared if shared_projection else make()
                                   for m in self.modalities})
        logit_scale = torch.tensor(math.log(1.0 / temperature))
        if learn_temperature:
            self.logit_scale = nn.Parameter(logit_scale)
        else:
            self.register_buffer('logit_scale', logit_scale)

    def forward(self, features: dict) -> dict[str, torch.Tensor]:
        missing = [m for m in self.modalities if m not in features]
        if missing:
            raise KeyError(f'RetrievalHead: modalities {missing} missing from the batch; '
                           f'use AllSpark(fusion="separate") and give every sample all of '
                           f'{self.modalities}')
        return {m: F.normalize(self.proj[m](self.read(features[m])), dim=-1)
                for m in self.modalities}

    def loss(self, features: dict, data_samples: list[dict]) -> dict:
        emb = self(features)
        scale = self.logit_scale.exp().clamp(max=100.0)
        target = torch.arange(len(data_samples), device=scale.device)
        losses = []
        for a, b in itertools.combinations(self.modalities, 2):
            logits = scale * emb[a] @ emb[b].t()
            losses.append((F.cross_entropy(logits, target) +
                           F.cross_entropy(logits.t(), target)) / 2)
        return dict(loss_align=torch.stack(losses).mean())

    @torch.no_grad()
    def predict(self, features: dict, data_samples: list[dict]) -> list[dict]:
        emb = {m: e.cpu() for m, e in self(features).items()}
        out = []
        for i, sample in enumerate(data_samples):
            result = dict(sample)
            result['embeddings'] = {m: e[i] for m, e in emb.items()}
            out.append(result)
        return out
