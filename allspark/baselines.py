"""Plain PyTorch training of classic baselines, for benchmarks that compare AllSpark with an
expert model on the same split in the same run (plugins supply the model and augmentation).

* ``train_classifier``: AdamW, linear warm-up + cosine decay, label smoothing, seeded order;
* ``predict_classifier``: predicted labels and inference throughput.
"""
from __future__ import annotations

import math
import time
from typing import Callable, Optional

import numpy as np
import torch
import torch.nn.functional as F


def train_classifier(model: torch.nn.Module, x_train: np.ndarray, y_train: np.ndarray,
                     epochs: int = 30, batch_size: int = 16, lr: float = 1e-3,
                     weight_decay: float = 0.05, seed: int = 0,
                     augment: Optional[Callable] = None, label_smoothing: float = 0.1,
                     name: str = 'baseline', log: Callable = print) -> float:
    """Train ``model`` on arrays ``x_train (N, ...)`` float32 (already normalised) and
    ``y_train (N,)``; returns the training wall time in seconds."""
    torch.manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    steps = epochs * math.ceil(len(x_train) / batch_size)
    warmup = max(1, steps // 10)
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
            loss = F.cross_entropy(logits, yb, label_smoothing=label_smoothing)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += int((logits.argmax(1) == yb).sum())
            total += len(idx)
        if (epoch + 1) % 5 == 0 or epoch == epochs - 1:
            log(f'  {name} epoch {epoch + 1}/{epochs}: loss {loss_sum / total:.3f} '
                f'train acc {100 * correct / total:.1f}%')
    return time.perf_counter() - start


@torch.no_grad()
def predict_classifier(model: torch.nn.Module, x: np.ndarray, batch_size: int = 20
                       ) -> tuple[np.ndarray, float]:
    """Predicted labels and throughput (samples/s) of ``model`` on ``x (N, ...)``."""
    model.eval()
    xt = torch.from_numpy(x).float()
    preds = []
    start = time.perf_counter()
    for i in range(0, len(xt), batch_size):
        preds.append(model(xt[i:i + batch_size]).argmax(1))
    seconds = time.perf_counter() - start
    return torch.cat(preds).numpy(), len(xt) / seconds


def train_timm_classifier(model_name: str, x_train: np.ndarray, y_train: np.ndarray,
                          num_classes: int, epochs: int = 30, batch_size: int = 16,
                          lr: float = 1e-3, weight_decay: float = 0.05, seed: int = 0,
                          augment: Optional[Callable] = None,
                          model_kwargs: Optional[dict] = None, log: Callable = print):
    """``timm.create_model(model_name, pretrained=False)`` with ``in_chans`` from the data, trained
    by ``train_classifier`` on ``x_train (N, C, H, W)``; returns ``(model, train_seconds)``."""
    import timm

    torch.manual_seed(seed)
    model = timm.create_model(model_name, pretrained=False, num_classes=num_classes,
                              in_chans=x_train.shape[1], **(model_kwargs or {}))
    seconds = train_classifier(model, x_train, y_train, epochs=epochs, batch_size=batch_size,
                               lr=lr, weight_decay=weight_decay, seed=seed, augment=augment,
                               name=model_name, log=log)
    return model, seconds
