"""The learning-rate schedule follows the run length (``prepare_config``).

A config's cosine schedule written for a long run, trained with ``max_iters``/``max_epochs``
shortened (``--cfg-options``), must still end at its final learning rate; a schedule shorter than
the run is stretched when it anneals, and left alone when it is only a warm-up.
"""
from __future__ import annotations

import torch
from mmengine.config import Config
from mmengine.optim.scheduler import CosineAnnealingLR, LinearLR

from allspark.engine.runner import prepare_config, scale_schedule_to_run


def _iter_cfg(max_iters: int, end: int = 600) -> Config:
    return Config(dict(
        train_cfg=dict(by_epoch=False, max_iters=max_iters, val_interval=max_iters),
        param_scheduler=[
            dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
            dict(type='CosineAnnealingLR', by_epoch=False, begin=20, end=end, eta_min=1e-5)]))


def _final_lr(scheds: list, steps: int, lr: float = 1e-3) -> list[float]:
    """Step mmengine's schedulers ``steps`` times; the learning rate seen at every step."""
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=lr)
    built = []
    for s in scheds:
        kw = {k: v for k, v in s.items() if k != 'type'}
        cls = {'LinearLR': LinearLR, 'CosineAnnealingLR': CosineAnnealingLR}[s['type']]
        built.append(cls(opt, **kw))
    seen = []
    for _ in range(steps):
        seen.append(opt.param_groups[0]['lr'])
        opt.step()
        for b in built:
            b.step()
    return seen


def test_shortened_iteration_run_ends_at_the_final_lr():
    cfg = prepare_config(_iter_cfg(max_iters=150))
    linear, cosine = cfg.param_scheduler
    assert (cosine['begin'], cosine['end']) == (5, 150)
    assert linear['end'] == 5  # the warm-up shrinks with the rest
    lrs = _final_lr(cfg.param_scheduler, 150)
    assert lrs[-1] < 1e-4, lrs[-1]  # without the scaling: ~9.6e-4 after 150 of 600 iterations
    unscaled = _final_lr(_iter_cfg(max_iters=150).param_scheduler, 150)
    assert unscaled[-1] > 5e-4


def test_full_length_run_is_unchanged():
    cfg = prepare_config(_iter_cfg(max_iters=600))
    assert cfg.param_scheduler[1]['end'] == 600 and cfg.param_scheduler[0]['end'] == 20


def test_longer_run_stretches_an_annealing_schedule():
    cfg = prepare_config(_iter_cfg(max_iters=1200))
    assert cfg.param_scheduler[1]['end'] == 1200 and cfg.param_scheduler[1]['begin'] == 40


def test_warmup_only_schedule_is_left_alone():
    cfg = Config(dict(train_cfg=dict(by_epoch=False, max_iters=500), param_scheduler=[
        dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=50)]))
    assert scale_schedule_to_run(cfg) is None
    assert cfg.param_scheduler[0]['end'] == 50


def test_epoch_run_scales_epoch_schedulers_only():
    """An epoch-based run: the cosine (T_max in epochs) follows ``max_epochs``; the iteration
    warm-up (``by_epoch=False``) cannot be converted without the epoch length and stays."""
    cfg = Config(dict(
        train_cfg=dict(by_epoch=True, max_epochs=5, val_interval=30),
        param_scheduler=[
            dict(type='LinearLR', start_factor=0.05, by_epoch=False, begin=0, end=100),
            dict(type='CosineAnnealingLR', by_epoch=True, begin=0, T_max=30, eta_min=1e-5,
                 convert_to_iter_based=True)]))
    out = prepare_config(cfg)
    assert out.param_scheduler[1]['T_max'] == 5
    assert out.param_scheduler[0]['end'] == 100
    assert cfg.param_scheduler[1]['T_max'] == 30  # prepare_config works on a copy


def test_opt_out_and_milestones():
    cfg = _iter_cfg(max_iters=150)
    cfg.schedule_follows_run = False
    assert prepare_config(cfg).param_scheduler[1]['end'] == 600
    step = Config(dict(train_cfg=dict(max_epochs=10), param_scheduler=[
        dict(type='MultiStepLR', by_epoch=True, milestones=[60, 80], gamma=0.1)]))
    assert scale_schedule_to_run(step) == 0.125
    assert step.param_scheduler[0]['milestones'] == [8, 10]
