"""``LinearClsHead``: one linear layer over the pooled language-model output."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from allspark.models.heads.base import BaseHead, stack_field
from allspark.registry import HEADS


@HEADS.register_module()
class LinearClsHead(BaseHead):
    """Classification. Reads ``(B, D)``, or ``(B, n, D)`` for per-token labels (``gt_label`` then
    ``(n,)`` with -1 for ignored tokens).

    Data samples carry ``gt_label`` (int); predictions add ``pred_label`` and ``pred_score``.

    ``norm='batch'`` standardises the pooled features first (see ``feature_norm``): use it on a
    frozen language model's outputs.

    Mixed batches (``Mixup``): the loss is ``lam * CE(gt_label) + (1 - lam) * CE(mix_gt_label)``;
    the logged ``acc`` counts the first label.

    ``soft_label_key``: data samples may carry a target distribution ``(num_classes,)`` under
    that key (e.g. ``gt_soft``, a hyperspectral pixel's abundances); the loss is then the cross-
    entropy to it (label smoothing mixes it with the uniform distribution), while ``gt_label``
    (its argmax) stays the label that predictions and accuracy are scored on.  Why: where a
    label is the argmax of near-tied fractions, a hard target asks for a certainty the data do
    not have.
    """

    supports_mixup = True

    def __init__(self, in_dim: int, num_classes: int, source: str = 'bridged',
                 dropout: float = 0.0, label_smoothing: float = 0.0, norm: str = 'none',
                 soft_label_key: str | None = None):
        super().__init__(in_dim, source, norm)
        self.num_classes, self.soft_label_key = num_classes, soft_label_key
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_dim, num_classes)
        self.label_smoothing = label_smoothing

    def forward(self, features: dict) -> torch.Tensor:
        return self.fc(self.dropout(self.read(features)))

    def loss(self, features: dict, data_samples: list[dict]) -> dict:
        logits = self(features)
        target = stack_field(data_samples, 'gt_label', logits.device, torch.long)
        if target.numel() and int(target.max()) >= self.num_classes:
            raise ValueError(f'LinearClsHead: gt_label {int(target.max())} >= num_classes '
                             f'{self.num_classes}')
        if self.soft_label_key is not None and self.soft_label_key in data_samples[0]:
            if 'mix_lam' in data_samples[0]:
                raise ValueError(f'LinearClsHead: soft labels ({self.soft_label_key!r}) and '
                                 f'Mixup in one batch are not supported; use one of them')
            soft = stack_field(data_samples, self.soft_label_key, logits.device, torch.float32)
            if soft.shape != logits.shape:
                raise ValueError(f'LinearClsHead: {self.soft_label_key} has shape '
                                 f'{tuple(soft.shape)}, expected {tuple(logits.shape)} '
                                 f'(one fraction per class)')
            soft = soft / soft.sum(-1, keepdim=True).clamp_min(1e-12)
            if self.label_smoothing:
                soft = (1 - self.label_smoothing) * soft + self.label_smoothing / self.num_classes
            loss = -(soft * logits.log_softmax(-1)).sum(-1).mean()
        else:
            loss = self._ce(logits, target)
        if 'mix_lam' in data_samples[0]:
            lam = float(data_samples[0]['mix_lam'])
            partner = stack_field(data_samples, 'mix_gt_label', logits.device, torch.long)
            loss = lam * loss + (1.0 - lam) * self._ce(logits, partner)
        acc = (logits.argmax(-1) == target).float()[target >= 0].mean()
        return dict(loss_cls=loss, acc=acc.detach())

    def _ce(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.reshape(-1, self.num_classes), target.reshape(-1),
                               ignore_index=-1, label_smoothing=self.label_smoothing)

    @torch.no_grad()
    def predict(self, features: dict, data_samples: list[dict]) -> list[dict]:
        scores = self(features).softmax(-1)
        out = []
        for sample, score in zip(data_samples, scores):
            result = dict(sample)
            result.update(pred_score=score.cpu(), pred_label=score.argmax(-1).cpu())
            out.append(result)
        return out
