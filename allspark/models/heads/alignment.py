"""``AlignmentHead``: contrastive alignment of whichever co-located modalities a sample has.

The UniGeoCLIP-style aligner (all-to-all) and its pivot baseline, on top of the AllSpark model:

* every modality ``m`` is projected to a shared, L2-normalised space (one projection per modality,
  so modalities of different widths can meet there: the ``'direct'`` path);
* the loss is the symmetric InfoNCE over **every ordered pair** of modalities present in the
  batch (``a -> b`` and ``b -> a``; the mean over pairs), with a learnable temperature clamped to
  ``[min_temperature, max_temperature]``;
* a sample that lacks a modality is **masked out of that pair's loss** (it still counts in the
  pairs of the modalities it has); a sample with a single modality (or, in pivot mode, without
  the pivot) contributes to no pair: it is counted, logged as ``unpaired_samples`` per batch and
  summed in ``unpaired_total``;
* ``pivot='location'`` aligns every modality to the pivot only (the baseline UniGeoCLIP argues
  against: ImageBind's way);
* ``queue_size > 0`` keeps the (detached) embeddings of the last ``queue_size`` samples of
  ``queue_modality`` as extra negatives for every query ``-> queue_modality`` (GeoCLIP's queue of
  GPS negatives; here MoCo-style: stored embeddings, not re-encoded coordinates).

Where the embeddings come from (``AllSpark.fusion``)::

    'separate'  encoder -> bridge -> language model -> pooled (``source``) -> projection  (LaRF)
    'direct'    encoder -> pool (the encoder's ``pool`` or a masked mean) -> projection
                (UniGeoCLIP)

Presence: ``features[m]['present']`` is a ``(B,)`` bool tensor (the model fills it from the
batch's ``modality_mask``, see ``docs/config_reference.md``); a modality absent from the whole
batch is simply not in ``features``.

Citation: Radford et al., "Learning Transferable Visual Models From Natural Language Supervision"
(CLIP), ICML 2021; Vivanco Cepeda et al., "GeoCLIP", NeurIPS 2023; Girdhar et al., "ImageBind",
CVPR 2023.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from allspark.models.heads.base import BaseHead, feature_norm, select_features
from allspark.registry import HEADS


def info_nce(query: torch.Tensor, keys: torch.Tensor, target: torch.Tensor,
             scale: torch.Tensor) -> torch.Tensor:
    """One direction of InfoNCE: ``query (Q, E)``, ``keys (K, E)``, ``target (Q,)`` = column of
    each query's positive -> mean cross-entropy of ``scale * query @ keys.T``."""
    return F.cross_entropy(scale * query @ keys.t(), target)


@HEADS.register_module()
class AlignmentHead(BaseHead):
    """Args:
        in_dim: language-model width (filled in by the model).
        modalities: the modalities to align.
        embed_dim: width of the shared space.
        pivot: ``None`` (all-to-all) or a modality every other modality is aligned to (only).
        in_dims: ``{m: width}`` of each modality's pooled features (filled in by the model for
            ``fusion='direct'``; otherwise every modality has ``in_dim``).
        source: what is pooled from the language model's output (``'bridged'``: the mean over
            the modality's bridged tokens; see ``allspark.models.heads.base``).
        projection: ``'linear'`` or ``'mlp'`` (Linear-GELU-Linear, hidden = ``embed_dim``).
        temperature: initial softmax temperature (learned unless ``learn_temperature=False``),
            clamped to ``[min_temperature, max_temperature]`` at every step.
        queue_size / queue_modality: the optional queue of extra negatives (see module docstring).

    Shapes: features ``{m: {...}}`` -> embeddings ``{m: (B, E)}`` and presence ``{m: (B,)}``.
    Predictions add ``embeddings = {m: (E,)}`` with only the modalities the sample has.
    """

    def __init__(self, in_dim: int, modalities: Sequence[str], embed_dim: int = 256,
                 pivot: Optional[str] = None, in_dims: Optional[dict] = None,
                 source: str = 'bridged', projection: str = 'linear', temperature: float = 0.07,
                 learn_temperature: bool = True, min_temperature: float = 0.01,
                 max_temperature: float = 1.0, queue_size: int = 0,
                 queue_modality: str = 'location', norm: str = 'none'):
        super().__init__(in_dim, source, norm='none')
        self.modalities = list(modalities)
        if len(self.modalities) < 2:
            raise ValueError(f'AlignmentHead needs at least two modalities to align, got '
                             f'{self.modalities}')
        if pivot is not None and pivot not in self.modalities:
            raise ValueError(f'AlignmentHead: pivot {pivot!r} is not one of the aligned '
                             f'modalities {self.modalities}')
        if projection not in ('linear', 'mlp'):
            raise ValueError(f"AlignmentHead: projection must be 'linear' or 'mlp', "
                             f"got {projection!r}")
        if not 0 < min_temperature <= temperature <= max_temperature:
            raise ValueError(f'AlignmentHead: need 0 < min_temperature <= temperature <= '
                             f'max_temperature, got {min_temperature}, {temperature}, '
                             f'{max_temperature}')
        if queue_size and queue_modality not in self.modalities:
            raise ValueError(f'AlignmentHead: queue_modality {queue_modality!r} is not one of '
                             f'{self.modalities}')
        self.pivot, self.embed_dim = pivot, embed_dim
        # The model fills in the width of every configured modality; only aligned ones matter.
        dims = {m: int((in_dims or {}).get(m, in_dim)) for m in self.modalities}
        self.in_dims = dims
        self.norms = nn.ModuleDict({m: feature_norm(norm, dims[m], 'AlignmentHead')
                                    for m in self.modalities})

        def make(width: int) -> nn.Module:
            if projection == 'linear':
                return nn.Linear(width, embed_dim)
            return nn.Sequential(nn.Linear(width, embed_dim), nn.GELU(),
                                 nn.Linear(embed_dim, embed_dim))

        self.proj = nn.ModuleDict({m: make(dims[m]) for m in self.modalities})
        logit_scale = torch.tensor(math.log(1.0 / temperature))
        if learn_temperature:
            self.logit_scale = nn.Parameter(logit_scale)
        else:
            self.register_buffer('logit_scale', logit_scale)
        self.scale_bounds = (math.log(1.0 / max_temperature), math.log(1.0 / min_temperature))
        self.queue_size, self.queue_modality = int(queue_size), queue_modality
        if self.queue_size:
            self.register_buffer('queue', torch.zeros(self.queue_size, embed_dim),
                                 persistent=False)
            self.register_buffer('queue_filled', torch.zeros((), dtype=torch.long),
                                 persistent=False)
            self.register_buffer('queue_ptr', torch.zeros((), dtype=torch.long),
                                 persistent=False)
        self.unpaired_total = 0

    # ------------------------------------------------------------------ embeddings
    @property
    def scale(self) -> torch.Tensor:
        """``1 / temperature``, clamped."""
        return self.logit_scale.clamp(*self.scale_bounds).exp()

    @property
    def temperature(self) -> float:
        return float(1.0 / self.scale.detach())

    def pairs(self, present: Sequence[str]) -> list[tuple[str, str]]:
        """Unordered pairs to align among ``present`` (each gives both directions)."""
        mods = [m for m in self.modalities if m in present]
        if self.pivot is not None:
            return [(self.pivot, m) for m in mods if m != self.pivot] if self.pivot in mods \
                else []
        return [(a, b) for i, a in enumerate(mods) for b in mods[i + 1:]]

    def _pooled(self, m: str, feats: dict) -> torch.Tensor:
        x = feats['pooled'] if 'pooled' in feats else select_features(feats, self.source)
        if x.shape[-1] != self.in_dims[m]:
            raise ValueError(f'AlignmentHead: modality {m!r} gives features of width '
                             f'{x.shape[-1]}, expected {self.in_dims[m]} (in_dims)')
        return x

    def forward(self, features: dict) -> tuple[dict, dict]:
        """-> ``({m: (B, E)}, {m: (B,) bool})`` for the aligned modalities in ``features``."""
        emb, present = {}, {}
        for m in self.modalities:
            if m not in features:
                continue
            feats = features[m]
            if not isinstance(feats, dict) or ('tokens' not in feats and 'pooled' not in feats):
                raise TypeError(f'AlignmentHead needs one feature dict per modality; use '
                                f'AllSpark(fusion="separate") or fusion="direct" (got '
                                f'{type(feats).__name__} for {m!r})')
            x = self.norms[m](self._pooled(m, feats))
            emb[m] = F.normalize(self.proj[m](x), dim=-1)
            pres = feats.get('present')
            present[m] = (torch.ones(x.shape[0], dtype=torch.bool, device=x.device)
                          if pres is None else pres.to(x.device).bool())
        return emb, present

    # ------------------------------------------------------------------ loss
    def _direction(self, emb: dict, present: dict, q: str, k: str, both: torch.Tensor,
                   scale: torch.Tensor) -> Optional[torch.Tensor]:
        """InfoNCE ``q -> k``: queries = samples with both, keys = every sample with ``k``."""
        keys = emb[k][present[k]]
        target = (present[k].long().cumsum(0) - 1)[both]
        if k == self.queue_modality and self.queue_size and int(self.queue_filled):
            keys = torch.cat([keys, self.queue[:int(self.queue_filled)].to(keys.dtype)])
        if keys.shape[0] < 2:  # nothing to contrast against
            return None
        return info_nce(emb[q][both], keys, target, scale)

    def loss(self, features: dict, data_samples: list[dict]) -> dict:
        emb, present = self(features)
        scale = self.scale
        any_emb = next(iter(emb.values()))
        batch = any_emb.shape[0]
        paired = torch.zeros(batch, dtype=torch.bool, device=any_emb.device)
        losses = []
        for a, b in self.pairs(list(emb)):
            both = present[a] & present[b]
            if not bool(both.any()):
                continue
            terms = [t for t in (self._direction(emb, present, a, b, both, scale),
                                 self._direction(emb, present, b, a, both, scale))
                     if t is not None]
            if terms:
                losses.append(torch.stack(terms).mean())
                paired |= both
        unpaired = int((~paired).sum())
        self.unpaired_total += unpaired
        if losses:
            loss = torch.stack(losses).mean()
        else:  # no pair in this batch: a zero that keeps the graph (and the step) valid
            loss = sum(e.sum() for e in emb.values()) * 0.0
        if self.queue_size and self.queue_modality in emb and self.training:
            self._enqueue(emb[self.queue_modality][present[self.queue_modality]].detach())
        dev = loss.device
        return dict(loss_align=loss,
                    temperature=torch.tensor(1.0 / float(scale.detach()), device=dev),
                    align_pairs=torch.tensor(float(len(losses)), device=dev),
                    unpaired_samples=torch.tensor(float(unpaired), device=dev))

    @torch.no_grad()
    def _enqueue(self, values: torch.Tensor) -> None:
        n = min(values.shape[0], self.queue_size)
        if not n:
            return
        ptr = int(self.queue_ptr)
        idx = (torch.arange(n, device=self.queue.device) + ptr) % self.queue_size
        self.queue[idx] = values[-n:].to(self.queue.dtype)
        self.queue_ptr.fill_((ptr + n) % self.queue_size)
        self.queue_filled.fill_(min(self.queue_size, int(self.queue_filled) + n))

    # ------------------------------------------------------------------ predict
    @torch.no_grad()
    def predict(self, features: dict, data_samples: list[dict]) -> list[dict]:
        emb, present = self(features)
        emb = {m: e.float().cpu() for m, e in emb.items()}
        present = {m: p.cpu() for m, p in present.items()}
        out = []
        for i, sample in enumerate(data_samples):
            result = dict(sample)
            result['embeddings'] = {m: e[i] for m, e in emb.items() if bool(present[m][i])}
            out.append(result)
        return out
