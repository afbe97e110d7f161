"""Classic baseline: PointNet without T-nets (Qi et al., CVPR 2017, "vanilla" variant).

``(B, N, 3) -> logits (B, num_classes)``: shared MLP 3-64-64-64-128-1024 (1-D convolutions with
BatchNorm + ReLU), global max pooling, then FC 512-256-num_classes with BatchNorm, ReLU and
dropout 0.3, trained with Adam and the same augmentation as AllSpark.
"""
from __future__ import annotations

import time
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F
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


def _batches(dataset, batch_size: int, shuffle: bool):
    from torch.utils.data import DataLoader

    from allspark.datasets.base import allspark_collate
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, num_workers=0,
                      collate_fn=allspark_collate, drop_last=shuffle)


def _labels(batch) -> torch.Tensor:
    return torch.as_tensor([int(s['gt_label']) for s in batch['data_samples']])


@torch.no_grad()
def predict_pointnet(model: nn.Module, dataset, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray, float]:
    """Returns ``(gt, pred, seconds)`` over ``dataset`` (seconds: model forward time only)."""
    model.eval()
    gts, preds, seconds = [], [], 0.0
    for batch in _batches(dataset, batch_size, False):
        t = time.perf_counter()
        logits = model(batch['inputs']['pointcloud'].float())
        seconds += time.perf_counter() - t
        gts.append(_labels(batch).numpy())
        preds.append(logits.argmax(-1).numpy())
    return np.concatenate(gts), np.concatenate(preds), seconds


def train_pointnet(train_set, num_classes: int, epochs: int = 200, batch_size: int = 16,
                   lr: float = 1e-3, weight_decay: float = 1e-4, seed: int = 0,
                   time_budget_s: Optional[float] = None, eta_min: float = 1e-5,
                   log: Optional[Callable[[str], None]] = print) -> tuple[nn.Module, dict]:
    """Adam with a cosine learning-rate schedule; returns ``(model, info)``.

    Without ``time_budget_s`` the cosine runs over ``epochs`` epochs.  With it, training stops
    once ``time_budget_s`` seconds have passed (or after ``epochs`` epochs) and the cosine follows
    the elapsed fraction of the budget, so the schedule ends at ``eta_min`` however fast the
    shared machine is: "the same wall-clock budget" as the model it is compared with.
    ``info``: ``train_time_s``, ``epochs`` (fractional), ``iterations``, ``samples_seen``."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    model = PointNetClassifier(num_classes)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loader = _batches(train_set, batch_size, True)
    total_iters = epochs * len(loader)
    start = time.perf_counter()
    it = seen = 0
    done = False
    for epoch in range(epochs):
        model.train()
        total, correct, loss_sum = 0, 0, 0.0
        for batch in loader:
            elapsed = time.perf_counter() - start
            frac = elapsed / time_budget_s if time_budget_s else it / total_iters
            if frac >= 1.0:
                done = True
                break
            for group in opt.param_groups:
                group['lr'] = eta_min + 0.5 * (lr - eta_min) * (1 + np.cos(np.pi * frac))
            x, y = batch['inputs']['pointcloud'].float(), _labels(batch)
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            it += 1
            seen += len(y)
            loss_sum += loss.item() * len(y)
            total += len(y)
            correct += int((logits.argmax(-1) == y).sum())
        if log and total:
            log(f'PointNet epoch {epoch + 1}: loss {loss_sum / total:.3f} train acc '
                f'{100 * correct / total:.1f}% over {total} samples '
                f'({time.perf_counter() - start:.0f} s)')
        if done:
            break
    info = dict(train_time_s=time.perf_counter() - start, iterations=it, samples_seen=seen,
                epochs=seen / len(train_set))
    return model, info
