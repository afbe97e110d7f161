"""Classic expert baseline for MSTAR: an AConvNets-style all-convolutional network.

AConvNets (S. Chen, H. Wang, F. Xu, Y.-Q. Jin, "Target classification using the deep
convolutional networks for SAR images", IEEE TGRS 54(8):4806-4817, 2016) has no fully connected
layer: five convolutions on an 88 x 88 chip::

    conv 5x5, 16 -> ReLU -> maxpool 2      (84 -> 42)
    conv 5x5, 32 -> ReLU -> maxpool 2      (38 -> 19)
    conv 6x6, 64 -> ReLU -> maxpool 2      (14 -> 7)
    conv 5x5, 128 -> ReLU -> dropout 0.5   (3)
    conv 3x3, num_classes -> softmax       (1)

``batch_norm=True`` (the default here) adds BatchNorm after the first four convolutions: a
deviation from the paper that makes a short CPU schedule converge; ``False`` is the original.

``train_classifier`` / ``evaluate_classifier`` train and test it (or any ``(B, C, H, W) ->
(B, K)`` network) on the same ``MSTARDataset`` objects the AllSpark config builds.
"""
from __future__ import annotations

import time
from typing import Callable, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from allspark.datasets.base import allspark_collate


class AConvNets(nn.Module):
    """``(B, in_chans, 88, 88) -> (B, num_classes)`` logits."""

    def __init__(self, num_classes: int = 10, in_chans: int = 1, batch_norm: bool = True,
                 dropout: float = 0.5):
        super().__init__()

        def block(cin: int, cout: int, k: int) -> list:
            layers = [nn.Conv2d(cin, cout, k, bias=not batch_norm)]
            if batch_norm:
                layers.append(nn.BatchNorm2d(cout))
            return layers + [nn.ReLU(inplace=True)]

        self.features = nn.Sequential(
            *block(in_chans, 16, 5), nn.MaxPool2d(2),
            *block(16, 32, 5), nn.MaxPool2d(2),
            *block(32, 64, 6), nn.MaxPool2d(2),
            *block(64, 128, 5), nn.Dropout(dropout),
            nn.Conv2d(128, num_classes, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.features(x)
        if out.shape[-2:] != (1, 1):
            raise ValueError(f'AConvNets expects 88 x 88 inputs, got {tuple(x.shape)}')
        return out.flatten(1)


def _normalize(x: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    mean_t = torch.as_tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    std_t = torch.as_tensor(std, dtype=torch.float32).view(1, -1, 1, 1).clamp_min(1e-6)
    return (x.float() - mean_t) / std_t


def train_classifier(model: nn.Module, dataset, epochs: int, mean: Sequence[float],
                     std: Sequence[float], batch_size: int = 32, lr: float = 2e-3,
                     weight_decay: float = 5e-4, label_smoothing: float = 0.1, seed: int = 0,
                     key: str = 'sar', log: Optional[Callable[[str], None]] = print) -> dict:
    """AdamW + one-cycle (linear warm-up 10%, cosine decay) for ``epochs`` epochs.

    Returns ``{'train_time_s', 'epochs', 'iters', 'final_loss'}``."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    gen = torch.Generator().manual_seed(seed)
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=True,
                        drop_last=len(dataset) > batch_size,
                        num_workers=0, collate_fn=allspark_collate, generator=gen)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * len(loader),
                                                pct_start=0.1, anneal_strategy='cos')
    start, iters, loss_val = time.perf_counter(), 0, float('nan')
    for epoch in range(epochs):
        model.train()
        total, correct, loss_sum = 0, 0, 0.0
        for batch in loader:
            x = _normalize(batch['inputs'][key], mean, std)
            y = torch.as_tensor([int(s['gt_label']) for s in batch['data_samples']])
            logits = model(x)
            loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            iters += 1
            loss_sum += loss.item() * len(y)
            total += len(y)
            correct += int((logits.argmax(1) == y).sum())
        loss_val = loss_sum / max(total, 1)
        if log:
            log(f'baseline epoch {epoch + 1}/{epochs}: loss {loss_val:.4f} train acc '
                f'{100 * correct / max(total, 1):.2f}% ({time.perf_counter() - start:.0f} s)')
    return dict(train_time_s=time.perf_counter() - start, epochs=epochs, iters=iters,
                final_loss=loss_val)


@torch.no_grad()
def evaluate_classifier(model: nn.Module, dataset, mean: Sequence[float], std: Sequence[float],
                        batch_size: int = 64, key: str = 'sar') -> dict:
    """Predict the whole dataset; returns ``{'gt', 'pred', 'seconds', 'samples_per_s'}``."""
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=0,
                        collate_fn=allspark_collate)
    model.eval()
    gts, preds = [], []
    start = time.perf_counter()
    for batch in loader:
        logits = model(_normalize(batch['inputs'][key], mean, std))
        preds.append(logits.argmax(1).numpy())
        gts.append(np.asarray([int(s['gt_label']) for s in batch['data_samples']]))
    seconds = time.perf_counter() - start
    gt, pred = np.concatenate(gts), np.concatenate(preds)
    return dict(gt=gt, pred=pred, seconds=seconds, samples_per_s=len(gt) / max(seconds, 1e-9))
