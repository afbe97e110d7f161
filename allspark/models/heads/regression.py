"""Regression heads with a parameter-free un-scaling back to the target's units.

Training targets are z-scored with the training split's statistics (``target_mean``,
``target_std``: buffers, so they are saved with the checkpoint); predictions are un-scaled with the
same numbers.  ``DatasetStatsHook`` copies the statistics from the training dataset before the
first iteration; at test time they come back from the checkpoint.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from allspark.models.heads.base import BaseHead, stack_field
from allspark.registry import HEADS


def _pointwise_loss(kind: str, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    if kind == 'mse':
        return (pred - target) ** 2
    if kind == 'l1':
        return (pred - target).abs()
    if kind == 'smooth_l1':
        return F.smooth_l1_loss(pred, target, reduction='none')
    if kind == 'l1_mse':  # |e| + e^2 / 2: L1 near the target, squared for large errors
        err = pred - target
        return err.abs() + 0.5 * err ** 2
    raise ValueError(f"unknown regression loss {kind!r}; use 'mse', 'l1', 'smooth_l1' or "
                     f"'l1_mse'")


class _TargetScaling(nn.Module):
    """Buffers ``target_mean`` / ``target_std`` of shape ``(C,)`` and the (un)scaling."""

    def __init__(self, channels: int):
        super().__init__()
        self.register_buffer('target_mean', torch.zeros(channels))
        self.register_buffer('target_std', torch.ones(channels))

    def set_target_stats(self, mean: Sequence[float], std: Sequence[float]) -> None:
        mean = torch.as_tensor(mean, dtype=torch.float32).reshape(-1)
        std = torch.as_tensor(std, dtype=torch.float32).reshape(-1)
        if mean.numel() != self.target_mean.numel() or std.numel() != self.target_std.numel():
            raise ValueError(f'target statistics have {mean.numel()} channels, the head '
                             f'predicts {self.target_mean.numel()}')
        self.target_mean.copy_(mean)
        self.target_std.copy_(std.clamp_min(1e-8))

    def scale(self, y: torch.Tensor) -> torch.Tensor:
        return (y - self.target_mean) / self.target_std

    def unscale(self, y: torch.Tensor) -> torch.Tensor:
        return y * self.target_std + self.target_mean


@HEADS.register_module()
class LinearRegHead(BaseHead):
    """Linear regression of ``out_dim`` values from ``(B, D)`` (or per token ``(B, n, D)``).

    Data samples carry ``gt_value`` (float or ``(out_dim,)``); predictions add ``pred_value`` in
    the target's units.
    """

    def __init__(self, in_dim: int, out_dim: int = 1, source: str = 'bridged',
                 loss: str = 'mse', dropout: float = 0.0, norm: str = 'none'):
        super().__init__(in_dim, source, norm)
        self.out_dim, self.loss_kind = out_dim, loss
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_dim, out_dim)
        self.scaling = _TargetScaling(out_dim)

    def set_target_stats(self, mean, std) -> None:
        self.scaling.set_target_stats(mean, std)

    def forward(self, features: dict) -> torch.Tensor:
        """Scaled predictions ``(B, out_dim)``."""
        return self.fc(self.dropout(self.read(features)))

    def loss(self, features: dict, data_samples: list[dict]) -> dict:
        pred = self(features)
        target = stack_field(data_samples, 'gt_value', pred.device, torch.float32)
        target = target.reshape(pred.shape)
        loss = _pointwise_loss(self.loss_kind, pred, self.scaling.scale(target)).mean()
        return dict(loss_reg=loss)

    @torch.no_grad()
    def predict(self, features: dict, data_samples: list[dict]) -> list[dict]:
        pred = self.scaling.unscale(self(features)).cpu()
        out = []
        for sample, value in zip(data_samples, pred):
            result = dict(sample)
            result['pred_value'] = value.squeeze(-1) if self.out_dim == 1 else value
            out.append(result)
        return out


@HEADS.register_module()
class SequenceRegHead(BaseHead):
    """Sequence regression: ``K`` hypotheses of a ``horizon x channels`` future.

    Reads ``(B, D)`` -> ``(B, K, H, C)``, or per token ``(B, n, D)`` -> ``(B, n, K, H, C)`` (one
    forecast per token, e.g. per graph node).  Data samples carry ``gt_seq`` of shape
    ``([n,] H, C)`` and optionally ``gt_mask`` of the same shape (False = missing reading, left out
    of the loss) and optionally ``gt_weight`` of the same shape (a non-negative weight per
    reading; the error of each reading is multiplied by it, e.g. ``1 / speed`` to train for a
    relative error such as MAPE; the mean stays over the valid readings, so the weights' scale
    sets the loss's scale).  With ``K > 1`` the loss is winner-takes-all: each sample's best
    hypothesis (lowest error) is trained, and (``score_modes=True``, the default for ``K > 1``, as
    in TUTR) a linear scorer learns, by cross-entropy, which hypothesis will be the best one.

    Predictions add ``pred_seq`` ``([n,] K, H, C)`` in target units and ``pred_mode_prob``
    ``([n,] K)``; hypotheses are sorted by that probability, so hypothesis 0 is the model's single
    answer (scored as ``K = 1``) and the first ``k`` are its top-k.

    ``prior_key``: data samples carry a prior forecast under that key (``([n,] H, C)``, target
    units, e.g. constant velocity from ``TrajConstantVelocityPrior``); every hypothesis is that
    prior plus a learned residual, so an untrained head already predicts the prior (why: on
    ETH-UCY folds unlike the training scenes, free hypotheses all fell behind constant velocity).

    ``mean_mode`` (``K > 1``): hypothesis 0 is a dedicated forecast trained on every sample with
    the plain loss (the single answer that minimises it: the mean for ``'mse'``, the spatial
    median, best for ADE, for ``'l2'``); winner-takes-all and
    the scorer act on the other ``K - 1``, which follow it in score order (still ``K`` in all).
    Why: the scorer's pick among winner-takes-all hypotheses, which spread over the possible
    futures, was close to a random pick on ETH-UCY (best hypothesis picked 17 % of the time).
    """

    def __init__(self, in_dim: int, horizon: int, channels: int = 1, num_modes: int = 1,
                 source: str = 'bridged', loss: str = 'l2', hidden_dim: Optional[int] = None,
                 score_modes: Optional[bool] = None, score_loss_weight: float = 1.0,
                 norm: str = 'none', prior_key: Optional[str] = None, mean_mode: bool = False):
        super().__init__(in_dim, source, norm)
        self.horizon, self.channels, self.num_modes, self.loss_kind = (
            horizon, channels, num_modes, loss)
        if mean_mode and num_modes < 2:
            raise ValueError('SequenceRegHead: mean_mode=True needs num_modes >= 2 (hypothesis 0 '
                             'is the mean forecast, the others are winner-takes-all)')
        self.prior_key, self.mean_mode = prior_key, mean_mode
        out = num_modes * horizon * channels
        self.fc = (nn.Linear(in_dim, out) if hidden_dim is None else
                   nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.GELU(),
                                 nn.Linear(hidden_dim, out)))
        if prior_key is not None:  # start at the prior: the residual begins near zero
            last = self.fc if hidden_dim is None else self.fc[-1]
            nn.init.zeros_(last.bias)
            last.weight.data.mul_(0.1)
        self.score_modes = num_modes > 1 if score_modes is None else score_modes
        scored = num_modes - 1 if mean_mode else num_modes
        self.mode_scorer = (nn.Linear(in_dim, scored) if self.score_modes and scored > 1
                            else None)
        self.score_loss_weight = score_loss_weight
        self.scaling = _TargetScaling(channels)

    def set_target_stats(self, mean, std) -> None:
        self.scaling.set_target_stats(mean, std)

    def forward(self, features: dict) -> torch.Tensor:
        """Scaled hypotheses ``(B, [n,] K, H, C)`` (residuals over the prior with ``prior_key``)."""
        x = self.read(features)
        y = self.fc(x)
        return y.reshape(*x.shape[:-1], self.num_modes, self.horizon, self.channels)

    def _scaled_prediction(self, features: dict, data_samples: list[dict]) -> torch.Tensor:
        """``forward`` plus the scaled prior (if any): ``(B, [n,] K, H, C)`` in scaled units."""
        pred = self(features)
        if self.prior_key is not None:
            if self.prior_key not in data_samples[0]:
                raise KeyError(f'SequenceRegHead: prior_key={self.prior_key!r} but the data '
                               f'samples have no such field (keys: {sorted(data_samples[0])}); '
                               f'add the transform that writes it to the pipeline')
            prior = stack_field(data_samples, self.prior_key, pred.device, torch.float32)
            # scale(prior) = (prior - mean) / std, so unscale(residual + scale(prior))
            # = prior + residual * std
            pred = pred + self.scaling.scale(prior).unsqueeze(-3)
        return pred

    def _error(self, pred: torch.Tensor, target: torch.Tensor, mask: Optional[torch.Tensor],
               weight: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Per-hypothesis error ``(B, [n,] K)``: (weighted) mean over the horizon (and channels).

        ``target`` / ``mask`` / ``weight``: ``(B, [n,] H, C)``.
        """
        target = target.unsqueeze(-3)  # (..., 1, H, C) broadcasts over K
        if self.loss_kind == 'l2':  # Euclidean distance per step, as ADE
            err = ((pred - target) ** 2).sum(-1).clamp_min(1e-12).sqrt()  # (..., K, H)
            m = None if mask is None else mask.unsqueeze(-3).all(-1).expand_as(err)
            w = None if weight is None else weight.mean(-1).unsqueeze(-2).expand_as(err)
        else:
            err = _pointwise_loss(self.loss_kind, pred, target).flatten(-2)  # (..., K, H*C)
            m = None if mask is None else mask.unsqueeze(-3).expand(pred.shape).flatten(-2)
            w = (None if weight is None else
                 weight.unsqueeze(-3).expand(pred.shape).flatten(-2))
        if w is not None:
            err = err * w
        if m is None:
            return err.mean(-1)
        m = m.to(err.dtype)
        return (err * m).sum(-1) / m.sum(-1).clamp_min(1.0)

    def loss(self, features: dict, data_samples: list[dict]) -> dict:
        pred = self._scaled_prediction(features, data_samples)
        target = self.scaling.scale(stack_field(data_samples, 'gt_seq', pred.device, torch.float32))
        mask = (stack_field(data_samples, 'gt_mask', pred.device, torch.bool)
                if 'gt_mask' in data_samples[0] else None)
        weight = None
        if 'gt_weight' in data_samples[0]:
            weight = stack_field(data_samples, 'gt_weight', pred.device, torch.float32)
            if weight.shape != target.shape:
                raise ValueError(f'SequenceRegHead: gt_weight has shape {tuple(weight.shape)}, '
                                 f'expected that of gt_seq {tuple(target.shape)}')
        err = self._error(pred, target, mask, weight)  # (B, [n,] K)
        losses = {}
        if self.mean_mode:
            losses['loss_mean'] = err[..., 0].mean()
            err = err[..., 1:]
        best = err.min(-1)
        losses['loss_seq'] = best.values.mean()
        if self.mode_scorer is not None:
            logits = self.mode_scorer(self.read(features))  # (B, [n,] K)
            losses['loss_mode'] = self.score_loss_weight * F.cross_entropy(
                logits.reshape(-1, logits.shape[-1]), best.indices.reshape(-1))
        return losses

    @torch.no_grad()
    def predict(self, features: dict, data_samples: list[dict]) -> list[dict]:
        # (B, [n,] K, H, C) in target units
        pred = self.scaling.unscale(self._scaled_prediction(features, data_samples)).cpu()
        first = 1 if self.mean_mode else 0  # the mean forecast stays hypothesis 0
        scored = pred[..., first:, :, :]
        if self.mode_scorer is not None:
            prob = self.mode_scorer(self.read(features)).softmax(-1).cpu()
            order = prob.argsort(-1, descending=True)
            prob = prob.gather(-1, order)
            index = order[..., None, None].expand_as(scored)
            scored = scored.gather(-3, index)
        else:
            prob = torch.full(scored.shape[:-2], 1.0 / scored.shape[-3])
        if self.mean_mode:  # the mean forecast is the single answer: probability 1 on top
            pred = torch.cat([pred[..., :1, :, :], scored], -3)
            prob = torch.cat([torch.ones_like(prob[..., :1]), prob], -1)
        else:
            pred = scored
        out = []
        for sample, value, p in zip(data_samples, pred, prob):
            result = dict(sample)
            result['pred_seq'] = value
            result['pred_mode_prob'] = p
            out.append(result)
        return out
