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

It is trained and tested by the core's one baseline loop (``allspark.benchmarking.
train_classifier`` / ``predict_classifier``) on the same ``MSTARDataset`` objects the AllSpark
config builds, with :func:`normalize_chips` (see ``allspark benchmark mstar``).
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn


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


def normalize_chips(mean: Sequence[float], std: Sequence[float]
                    ) -> Callable[[torch.Tensor], torch.Tensor]:
    """``x (B, C, H, W) -> (x - mean) / std`` per channel, the training split's statistics;
    pass it to :func:`allspark.benchmarking.labelled_inputs` for the shared training loop."""
    mean_t = torch.as_tensor(mean, dtype=torch.float32).view(1, -1, 1, 1)
    std_t = torch.as_tensor(std, dtype=torch.float32).view(1, -1, 1, 1).clamp_min(1e-6)

    def normalize(x: torch.Tensor) -> torch.Tensor:
        return (x.float() - mean_t) / std_t
    return normalize
