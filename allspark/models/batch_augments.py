"""Batch augmentations: applied by ``AllSparkDataPreprocessor`` to whole training batches.

``Mixup`` (Zhang et al., 2018, "mixup: Beyond Empirical Risk Minimization"): every training batch
becomes ``lam * x + (1 - lam) * x[perm]`` with one ``lam ~ Beta(alpha, alpha)`` per batch and a
random pairing ``perm``; each data sample gets its partner's label as ``mix_gt_label`` and the
weight ``mix_lam``, and a head that supports it (``supports_mixup = True``, e.g.
``LinearClsHead``) takes ``lam * loss(gt_label) + (1 - lam) * loss(mix_gt_label)``.  A head that
does not support it fails loudly instead of silently training on the first label only.

Configure in the data preprocessor (mixing comes after normalisation, which is affine, so mixing
raw or normalised inputs is the same)::

    data_preprocessor=dict(type='AllSparkDataPreprocessor', normalize=...,
                           batch_augments=[dict(type='Mixup', alpha=0.4, modalities=['hsi'])])
"""
from __future__ import annotations

from typing import Sequence

import torch

from allspark.registry import MODELS


@MODELS.register_module()
class Mixup:
    """Args:
        alpha: Beta(alpha, alpha) concentration of the mixing weight (> 0; small = mild mixing).
        modalities: the inputs to mix (all of a co-located sample's tensor modalities should be
            listed, so that every input of a mixed sample is mixed with the same partner).
        prob: probability that a batch is mixed at all.
    """

    #: adds ``mix_gt_label`` / ``mix_lam`` to the data samples: the model then needs a head with
    #: ``supports_mixup = True`` and checks that when it is built
    mixes_labels = True

    def __init__(self, alpha: float, modalities: Sequence[str], prob: float = 1.0):
        if alpha <= 0:
            raise ValueError(f'Mixup: alpha must be > 0, got {alpha}')
        if not modalities:
            raise ValueError('Mixup: name the modalities to mix, e.g. modalities=["hsi"]')
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'Mixup: prob must be in [0, 1], got {prob}')
        self.alpha, self.modalities, self.prob = float(alpha), list(modalities), float(prob)

    def __call__(self, inputs: dict, data_samples: list) -> tuple[dict, list]:
        if not data_samples or torch.rand(()).item() >= self.prob:
            return inputs, data_samples
        batch = len(data_samples)
        lam = float(torch.distributions.Beta(self.alpha, self.alpha).sample())
        perm = torch.randperm(batch)
        for name in self.modalities:
            x = inputs.get(name)
            if not isinstance(x, torch.Tensor) or not x.is_floating_point():
                raise TypeError(f'Mixup: input {name!r} must be a float tensor (B, ...), got '
                                f'{type(x).__name__}; present inputs: {sorted(inputs)}')
            if x.shape[0] != batch:
                raise ValueError(f'Mixup: input {name!r} has batch size {x.shape[0]}, the batch '
                                 f'has {batch} data samples')
            inputs[name] = lam * x + (1.0 - lam) * x[perm.to(x.device)]
        mixed = []
        for sample, partner in zip(data_samples, perm.tolist()):
            if 'gt_label' not in sample:
                raise KeyError(f'Mixup: data sample has no gt_label (has {sorted(sample)})')
            mixed.append(dict(sample, mix_gt_label=data_samples[partner]['gt_label'],
                              mix_lam=lam))
        return inputs, mixed
