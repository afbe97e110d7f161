"""A timm CNN as a classic baseline, trained by the core's one baseline loop
(:func:`allspark.benchmarking.train_classifier`; plugins supply the augmentation)."""
from __future__ import annotations

from typing import Callable, Optional

import numpy as np
import torch


def train_timm_classifier(model_name: str, x_train: np.ndarray, y_train: np.ndarray,
                          num_classes: int, epochs: int = 30, batch_size: int = 16,
                          lr: float = 1e-3, weight_decay: float = 0.05, seed: int = 0,
                          augment: Optional[Callable] = None,
                          model_kwargs: Optional[dict] = None, log: Callable = print):
    """``timm.create_model(model_name, pretrained=False)`` with ``in_chans`` from the data,
    trained on ``x_train (N, C, H, W)`` (normalised) by the shared loop (AdamW, 10 % linear
    warm-up, cosine, label smoothing 0.1, the last partial batch kept); returns
    ``(model, train_seconds)``."""
    import timm

    from allspark.benchmarking import train_classifier

    torch.manual_seed(seed)
    model = timm.create_model(model_name, pretrained=False, num_classes=num_classes,
                              in_chans=x_train.shape[1], **(model_kwargs or {}))
    info = train_classifier(model, (x_train, y_train), epochs, batch_size=batch_size, lr=lr,
                            weight_decay=weight_decay, seed=seed, augment=augment,
                            drop_last=False, name=model_name, log=log)
    return model, info['train_time_s']
