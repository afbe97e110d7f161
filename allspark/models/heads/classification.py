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
    """

    supports_mixup = True

    def __init__(self, in_dim: int, num_classes: int, source: str = 'bridged',
                 dropout: float = 0.0, label_smoothing: float = 0.0, norm: str = 'none'):
        super().__init__(in_dim, source, norm)
        self.num_classes = num_classes
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
