"""Classic baseline: PointNet without T-nets (Qi et al., CVPR 2017, "vanilla" variant).

``(B, N, 3) -> logits (B, num_classes)``: shared MLP 3-64-64-64-128-1024 (1-D convolutions with
BatchNorm + ReLU), global max pooling, then FC 512-256-num_classes with BatchNorm, ReLU and
dropout 0.3, trained with Adam and the same augmentation as AllSpark by the core's one
baseline loop (:func:`train_pointnet`; test with ``allspark.benchmarking.predict_classifier``).
"""
from __future__ import annotations

from typing import Callable, Optional

import torch
from torch import nn

from allspark_plugin_pointcloud.encoder import pointwise_forward


class PointNetClassifier(nn.Module):
    """PointNet (no input/feature transform nets). ``(B, N, C) -> (B, num_classes)``."""

    def __init__(self, num_classes: int = 40, in_chans: int = 3, dropout: float = 0.3):
        super().__init__()
        widths = [in_chans, 64, 64, 64, 128, 1024]
        layers = []
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.Conv1d(a, b, 1), nn.BatchNorm1d(b), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Linear(1024, 512), nn.BatchNorm1d(512), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(512, 256), nn.BatchNorm1d(256), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(256, num_classes))

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        b, n, c = points.shape
        x = pointwise_forward(self.features, points.reshape(b * n, c))   # (BN, 1024)
        return self.classifier(x.reshape(b, n, -1).max(1).values)


def train_pointnet(train_set, num_classes: int, epochs: int = 200, batch_size: int = 16,
                   lr: float = 1e-3, weight_decay: float = 1e-4, seed: int = 0,
                   time_budget_s: Optional[float] = None, eta_min: float = 1e-5,
                   log: Optional[Callable[[str], None]] = print) -> tuple[nn.Module, dict]:
    """PointNet's recipe on the core's one baseline loop (``allspark.benchmarking.
    train_classifier``): Adam, cosine from ``lr`` to ``eta_min`` without warm-up, no label
    smoothing, over ``epochs`` epochs or, with ``time_budget_s``, over that wall-clock budget
    ("the same training time" as the model compared with).  Returns ``(model, info)``."""
    from allspark.benchmarking import labelled_inputs, train_classifier

    torch.manual_seed(seed)
    model = PointNetClassifier(num_classes)
    info = train_classifier(model, train_set, epochs, batch_size=batch_size, lr=lr,
                            weight_decay=weight_decay, optimizer='adam', warmup=0.0,
                            eta_min=eta_min, label_smoothing=0.0, seed=seed,
                            to_xy=labelled_inputs('pointcloud'), time_budget_s=time_budget_s,
                            name='PointNet', log=log, log_every=1)
    return model, info
