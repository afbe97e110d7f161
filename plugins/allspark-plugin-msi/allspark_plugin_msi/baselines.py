"""Classic baselines for multispectral scene classification, and the small statistics the
benchmark reports (Wilson confidence interval, throughput).

* ``band_stats_features``: per-band mean and standard deviation ``(N, C, H, W) -> (N, 2C)`` for a
  random forest (scikit-learn);
* ``train_timm_classifier``: a timm CNN (ResNet-18 from scratch, ``in_chans`` = bands) trained
  with AdamW + cosine schedule and the same flips / 90-degree rotations as the AllSpark config.
"""
from __future__ import annotations

import math
import time
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F


def wilson_interval(correct: int, total: int, z: float = 1.959964) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion, in percent."""
    if total == 0:
        return float('nan'), float('nan')
    p = correct / total
    denom = 1 + z ** 2 / total
    centre = (p + z ** 2 / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z ** 2 / (4 * total ** 2)) / denom
    return 100 * max(0.0, centre - half), 100 * min(1.0, centre + half)


def band_stats_features(x: np.ndarray) -> np.ndarray:
    """``(N, C, H, W)`` -> ``(N, 2C)``: per-band mean, then per-band std."""
    flat = x.reshape(x.shape[0], x.shape[1], -1).astype(np.float64)
    return np.concatenate([flat.mean(-1), flat.std(-1)], axis=1)


def augment_batch(x: torch.Tensor) -> torch.Tensor:
    """Random horizontal / vertical flips and 90-degree rotation of a ``(B, C, H, W)`` batch."""
    if torch.rand(()) < 0.5:
        x = x.flip(-1)
    if torch.rand(()) < 0.5:
        x = x.flip(-2)
    return torch.rot90(x, int(torch.randint(4, ())), dims=(-2, -1))


def train_timm_classifier(model_name: str, x_train: np.ndarray, y_train: np.ndarray,
                          num_classes: int, epochs: int = 30, batch_size: int = 16,
                          lr: float = 1e-3, weight_decay: float = 0.05, seed: int = 0,
                          augment: Optional[Callable] = augment_batch,
                          model_kwargs: Optional[dict] = None, log: Callable = print):
    """Train ``timm.create_model(model_name, pretrained=False)`` on normalised arrays.

    ``x_train (N, C, H, W)`` float32 (already normalised), ``y_train (N,)``.
    Returns ``(model, train_seconds)``."""
    import timm

    torch.manual_seed(seed)
    model = timm.create_model(model_name, pretrained=False, num_classes=num_classes,
                              in_chans=x_train.shape[1], **(model_kwargs or {}))
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps = epochs * math.ceil(len(x_train) / batch_size)
    warmup = max(1, steps // 10)  # linear warm-up, then cosine decay to 0
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: (s + 1) / warmup if s < warmup else
                                              0.5 * (1 + math.cos(math.pi * (s - warmup) /
                                                                  max(1, steps - warmup))))
    x_all, y_all = torch.from_numpy(x_train).float(), torch.from_numpy(y_train).long()
    gen = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x_all), generator=gen)
        total, correct, loss_sum = 0, 0, 0.0
        for i in range(0, len(order), batch_size):
            idx = order[i:i + batch_size]
            xb, yb = x_all[idx], y_all[idx]
            if augment is not None:
                xb = augment(xb)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb, label_smoothing=0.1)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
            total += len(idx)
        if (epoch + 1) % 5 == 0 or epoch == epochs - 1:
            log(f'  {model_name} epoch {epoch + 1}/{epochs}: loss {loss_sum / total:.3f} '
                f'train acc {100 * correct / total:.1f}%')
    return model, time.perf_counter() - start


@torch.no_grad()
def predict_torch(model: torch.nn.Module, x: np.ndarray, batch_size: int = 20
                  ) -> tuple[np.ndarray, float]:
    """Predicted labels and throughput (samples/s) of ``model`` on ``x (N, C, H, W)``."""
    model.eval()
    xt = torch.from_numpy(x).float()
    preds = []
    start = time.perf_counter()
    for i in range(0, len(xt), batch_size):
        preds.append(model(xt[i:i + batch_size]).argmax(1))
    seconds = time.perf_counter() - start
    return torch.cat(preds).numpy(), len(xt) / seconds
