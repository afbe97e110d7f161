"""``AllSparkDataPreprocessor``: moves a batch to the device and normalises modalities.

Per-modality normalisation ``(x - mean) / std`` along a channel axis uses buffers, so statistics
computed on the training split (``DatasetStatsHook``) are saved with the checkpoint and reused at
test time.  Configure ``normalize={modality: dict(channels=13)}`` to have them filled in from the
training data, or give ``mean``/``std`` literally.  ``batch_augments`` (e.g. ``Mixup``, see
:mod:`allspark.models.batch_augments`) run on training batches only, after normalisation.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from mmengine.model import BaseDataPreprocessor

from allspark.registry import MODELS


@MODELS.register_module()
class AllSparkDataPreprocessor(BaseDataPreprocessor):
    """Args:
        normalize: ``{modality: dict(channels=C | mean=[...], std=[...], dim=1, key=None)}``;
            ``dim`` is the channel axis of the batched tensor, ``key`` selects a tensor inside a
            dict-valued modality input.
        batch_augments: configs of batch augmentations (``[dict(type='Mixup', ...)]``), applied
            in this order to training batches.
    """

    def __init__(self, normalize: Optional[dict] = None, non_blocking: bool = False,
                 batch_augments: Optional[Sequence[dict]] = None):
        super().__init__(non_blocking=non_blocking)
        self.batch_augments = [MODELS.build(cfg) if isinstance(cfg, dict) else cfg
                               for cfg in (batch_augments or [])]
        self.normalize_cfg = {}
        for modality, cfg in (normalize or {}).items():
            mean, std = cfg.get('mean'), cfg.get('std')
            channels = cfg.get('channels', len(mean) if mean is not None else None)
            if channels is None:
                raise ValueError(f'normalize[{modality!r}]: give `channels` or `mean`/`std`')
            self.register_buffer(f'{modality}_mean', torch.as_tensor(
                mean if mean is not None else [0.0] * channels, dtype=torch.float32))
            self.register_buffer(f'{modality}_std', torch.as_tensor(
                std if std is not None else [1.0] * channels, dtype=torch.float32))
            self.normalize_cfg[modality] = dict(dim=cfg.get('dim', 1), key=cfg.get('key'))

    def set_input_stats(self, modality: str, mean: Sequence[float], std: Sequence[float]) -> None:
        if modality not in self.normalize_cfg:
            return  # statistics for a modality this model does not normalise
        buf_mean = getattr(self, f'{modality}_mean')
        mean = torch.as_tensor(mean, dtype=torch.float32).reshape(-1)
        std = torch.as_tensor(std, dtype=torch.float32).reshape(-1)
        if mean.numel() != buf_mean.numel():
            raise ValueError(f'normalize[{modality!r}] has {buf_mean.numel()} channels, the '
                             f'training data has {mean.numel()}')
        buf_mean.copy_(mean)
        getattr(self, f'{modality}_std').copy_(std.clamp_min(1e-6))

    def _normalize(self, modality: str, x: torch.Tensor) -> torch.Tensor:
        dim = self.normalize_cfg[modality]['dim']
        shape = [1] * x.dim()
        shape[dim] = -1
        mean = getattr(self, f'{modality}_mean').view(shape)
        std = getattr(self, f'{modality}_std').view(shape)
        if x.shape[dim] != mean.numel():
            raise ValueError(f'{modality!r} input has {x.shape[dim]} channels on axis {dim}, '
                             f'normalisation expects {mean.numel()}')
        return (x.float() - mean) / std

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data.get('inputs', {})
        for modality, cfg in self.normalize_cfg.items():
            if modality not in inputs:
                continue
            if cfg['key'] is None:
                inputs[modality] = self._normalize(modality, inputs[modality])
            else:
                inputs[modality][cfg['key']] = self._normalize(modality,
                                                               inputs[modality][cfg['key']])
        if training and self.batch_augments:
            samples = data.get('data_samples')
            for augment in self.batch_augments:
                inputs, samples = augment(inputs, samples)
            data['inputs'], data['data_samples'] = inputs, samples
        return data
