"""Build an mmengine ``Runner`` the AllSpark way (used by ``tools/train.py`` and ``tools/test.py``).

What it takes care of, so that users need not know:

* plugins are discovered first (configs may name their types), the default scope is ``allspark``;
* checkpoints are atomic and loadable with ``weights_only=True`` (``allspark.engine.checkpoint``);
* every run gets ``DatasetStatsHook`` and ``ReproducibleStateHook``, and iteration-based training
  uses ``ResumableIterBasedTrainLoop``;
* distributed runs without a GPU use gloo: the process group is created before the Runner (which
  then skips mmengine's ``init_dist``, whose ``torch.cuda.set_device`` fails on CPU) and DDP is
  built with ``device_ids=None`` (DDP refuses device ids for CPU modules).
"""
from __future__ import annotations

import copy
import os
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.runner import Runner

from allspark import plugins
from allspark.engine.checkpoint import (find_resume_checkpoint, register_safe_globals,
                                        use_atomic_local_backend)

ALWAYS_HOOKS = ('DatasetStatsHook', 'ReproducibleStateHook')


def setup() -> None:
    """Process-wide set-up; idempotent."""
    register_safe_globals()
    use_atomic_local_backend()
    plugins.load_plugins()


def _init_cpu_distributed(cfg: Config) -> None:
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper


def prepare_config(cfg: Config, work_dir: Optional[str] = None,
                   resume: Optional[str] = None, launcher: str = 'none') -> Config:
    """Apply AllSpark's defaults to a loaded config (returns a copy)."""
    cfg = copy.deepcopy(cfg)
    cfg.default_scope = cfg.get('default_scope') or 'allspark'
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        name = os.path.splitext(os.path.basename(cfg.filename or 'allspark'))[0]
        cfg.work_dir = os.path.join('work_dirs', name)
    cfg.launcher = launcher
    hooks = list(cfg.get('custom_hooks') or [])
    present = {h.get('type') for h in hooks}
    hooks += [dict(type=t) for t in ALWAYS_HOOKS if t not in present]
    cfg.custom_hooks = hooks
    train_cfg = cfg.get('train_cfg')
    if train_cfg and 'type' not in train_cfg and train_cfg.get('by_epoch') is False:
        train_cfg = dict(train_cfg)
        train_cfg.pop('by_epoch')
        train_cfg['type'] = 'ResumableIterBasedTrainLoop'
        cfg.train_cfg = train_cfg
    if resume:
        path = find_resume_checkpoint(cfg.work_dir) if resume == 'auto' else resume
        if path is None:
            print(f'[allspark] no complete checkpoint in {cfg.work_dir}: starting from scratch')
        else:
            cfg.resume, cfg.load_from = True, path
    if launcher != 'none' and not torch.cuda.is_available():
        _init_cpu_distributed(cfg)
    return cfg


def build_runner(cfg: Config, **kwargs) -> Runner:
    setup()
    return Runner.from_cfg(prepare_config(cfg, **kwargs))


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """``Config.fromfile`` (plugins discovered first) with ``--cfg-options`` merged in."""
    setup()
    if not os.path.exists(path):
        raise FileNotFoundError(f'config file not found: {path}')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg
