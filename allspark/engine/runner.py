"""Build an mmengine ``Runner`` the AllSpark way (used by ``tools/train.py`` and ``tools/test.py``).

What it takes care of, so that users need not know:

* plugins are discovered first (configs may name their types), the default scope is ``allspark``;
* checkpoints are atomic and loadable with ``weights_only=True`` (``allspark.engine.checkpoint``);
* every run gets ``DatasetStatsHook`` and ``ReproducibleStateHook``, and iteration-based training
  uses ``ResumableIterBasedTrainLoop``;
* distributed runs without a GPU use gloo: the process group is created before the Runner (which
  then skips mmengine's ``init_dist``, whose ``torch.cuda.set_device`` fails on CPU) and DDP is
  built with ``device_ids=None`` (DDP refuses device ids for CPU modules);
* a config with a ``strategy`` (``dict(type='FSDPStrategy')``, or ``--strategy fsdp``) gets
  mmengine's ``FlexibleRunner`` with that strategy instead of a ``Runner``; ``FSDPStrategy``
  resolves to ``allspark.engine.fsdp.AllSparkFSDPStrategy`` (mmengine's, with AllSpark's
  defaults).
"""
from __future__ import annotations

import copy
import os
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.runner import Runner

from allspark import plugins
from allspark.engine.checkpoint import (
    find_resume_checkpoint,
    install_safe_loaders,
    register_safe_globals,
    use_atomic_local_backend,
)
from allspark.engine.config_check import validate_config
from allspark.engine.precision import default_device_type, resolve_loop_precision

ALWAYS_HOOKS = ('DatasetStatsHook', 'ReproducibleStateHook', 'TrainingHealthHook')


def _collect_env_without_torchvision():
    """mmengine's ``collect_env`` (logged by every Runner) imports torchvision only to print its
    version, ~3 CPU-s of a training start here (its ops and models); the version is read from
    the installed distribution instead, through a stand-in module present for that call only."""
    import sys
    import types
    from importlib import metadata

    from mmengine.utils.dl_utils import collect_env

    if 'torchvision' in sys.modules:
        return collect_env()
    try:
        version = metadata.version('torchvision')
    except metadata.PackageNotFoundError:
        return collect_env()  # not installed: collect_env skips it without importing
    stand_in = types.ModuleType('torchvision')
    stand_in.__version__ = version
    sys.modules['torchvision'] = stand_in
    try:
        return collect_env()
    finally:
        if sys.modules.get('torchvision') is stand_in:
            del sys.modules['torchvision']


def setup() -> None:
    """Process-wide set-up; idempotent."""
    import mmengine.runner.runner as mm_runner

    mm_runner.collect_env = _collect_env_without_torchvision
    register_safe_globals()
    install_safe_loaders()  # every mmengine torch.load: weights_only=True, errors name the file
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


# schedulers that anneal towards the end of the run: a schedule made of them is stretched when the
# run is longer than it (a warm-up-only schedule, e.g. LinearLR alone, is not)
ANNEALING_SCHEDULERS = ('CosineAnnealingLR', 'CosineAnnealingParamScheduler', 'PolyLR',
                        'PolyParamScheduler', 'OneCycleLR', 'OneCycleParamScheduler',
                        'CosineRestartLR', 'CosineRestartParamScheduler')
_SCHEDULE_POINTS = ('begin', 'end', 'T_max', 'step_size', 'total_steps')


def _run_length(train_cfg) -> tuple[Optional[int], bool]:
    """``(length, by_epoch)`` of the training loop: ``max_epochs`` or ``max_iters``."""
    if not train_cfg:
        return None, True
    if train_cfg.get('max_epochs') is not None:
        return int(train_cfg['max_epochs']), True
    if train_cfg.get('max_iters') is not None:
        return int(train_cfg['max_iters']), False
    return None, True


def _scheduler_end(sched: dict) -> Optional[float]:
    """Where a scheduler stops changing the value, in its own unit (None: open-ended)."""
    end = sched.get('end')
    if end is not None and end < 1e8:  # mmengine's default end is INF
        return float(end)
    begin = float(sched.get('begin', 0))
    for key in ('T_max', 'total_steps'):
        if sched.get(key) is not None:
            return begin + float(sched[key])
    if sched.get('milestones'):
        return float(max(sched['milestones']))
    return None


def scale_schedule_to_run(cfg: Config) -> Optional[float]:
    """Make the parameter schedule follow the run length (in place); returns the factor applied.

    The schedule's length is the latest point where one of its schedulers (in the unit of the
    training loop: epochs for ``max_epochs``, iterations for ``max_iters``) stops changing the
    learning rate.  If that is longer than the run (a run shortened by ``--cfg-options
    train_cfg.max_iters=...`` keeps the long run's cosine and ends at a high learning rate), every
    such scheduler's ``begin``/``end``/``T_max``/``milestones``/``step_size`` is multiplied by
    ``run / schedule``; if it is shorter and the schedule anneals (cosine, poly, one-cycle), it is
    stretched the same way.  Schedulers in the other unit (an iteration warm-up in an epoch-based
    run) are left alone.  ``schedule_follows_run = False`` in a config turns this off.
    """
    if cfg.get('schedule_follows_run', True) is False:
        return None
    run, by_epoch = _run_length(cfg.get('train_cfg'))
    scheds = cfg.get('param_scheduler')
    if not run or not scheds:
        return None
    scheds = [scheds] if isinstance(scheds, dict) else list(scheds)
    mine = [s for s in scheds if bool(s.get('by_epoch', True)) == by_epoch]
    ends = [e for e in (_scheduler_end(s) for s in mine) if e is not None]
    if not ends or max(ends) == run:
        return None
    length = max(ends)
    if length < run and not any(s.get('type') in ANNEALING_SCHEDULERS for s in mine):
        return None
    factor = run / length
    for sched in mine:
        for key in _SCHEDULE_POINTS:
            value = sched.get(key)
            if value is not None and value < 1e8:
                lowest = 0 if key == 'begin' else 1
                sched[key] = max(lowest, int(round(value * factor)))
        if sched.get('milestones'):
            sched['milestones'] = [max(1, int(round(m * factor))) for m in sched['milestones']]
    cfg.param_scheduler = scheds
    print(f'[allspark] the parameter schedule ({length:g} {"epochs" if by_epoch else "iterations"})'
          f' follows the run ({run}): scaled by {factor:.4g}')
    return factor


def _prepare_strategy(cfg: Config, strategy: Optional[str], launcher: str) -> None:
    """``--strategy NAME`` / the config's ``strategy``: a ``FlexibleRunner`` strategy whose plain
    type names resolve in the ``allspark`` scope first (``FSDPStrategy`` is AllSpark's)."""
    if strategy is not None:
        from allspark.engine.fsdp import STRATEGY_CHOICES

        name = STRATEGY_CHOICES.get(strategy, strategy)
        given = dict(cfg.get('strategy') or {})
        if given.get('type') not in (None, name):
            given = {}  # another strategy than the config's: drop the config's arguments
        cfg.strategy = dict(given, type=name)
    if not cfg.get('strategy'):
        return
    strat = dict(cfg.strategy)
    if launcher == 'none':
        raise ValueError(
            f'strategy={strat.get("type")!r} needs distributed processes: start it with '
            f'torchrun, e.g. tools/dist_train.sh CONFIG NPROC (NPROC=1 is fine), i.e. '
            f'allspark train CONFIG --launcher pytorch')
    strat.setdefault('_scope_', 'allspark')
    cfg.strategy = strat
    cfg.pop('model_wrapper_cfg', None)  # FlexibleRunner: the strategy's model_wrapper


def prepare_config(cfg: Config, work_dir: Optional[str] = None,
                   resume: Optional[str] = None, launcher: str = 'none',
                   strategy: Optional[str] = None) -> Config:
    """Apply AllSpark's defaults to a loaded config (returns a copy); refuses impossible values
    (``allspark.engine.config_check``) with an error naming the key.  ``strategy`` (``'fsdp'``,
    ``'ddp'`` or an mmengine strategy name) selects a ``FlexibleRunner`` strategy."""
    validate_config(cfg)
    cfg = copy.deepcopy(cfg)
    cfg.default_scope = cfg.get('default_scope') or 'allspark'
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        name = cfg.get('allspark_run_name') or os.path.splitext(
            os.path.basename(cfg.filename or 'allspark'))[0]
        cfg.work_dir = os.path.join('work_dirs', name)
    cfg.launcher = launcher
    hooks = list(cfg.get('custom_hooks') or [])
    present = {h.get('type') for h in hooks}
    hooks += [dict(type=t) for t in ALWAYS_HOOKS if t not in present]
    cfg.custom_hooks = hooks
    for loop in ('val_cfg', 'test_cfg'):  # fp16='auto': bfloat16 only where it is fast
        if cfg.get(loop):
            cfg[loop] = resolve_loop_precision(cfg[loop], default_device_type())
    train_cfg = cfg.get('train_cfg')
    if train_cfg and 'type' not in train_cfg and train_cfg.get('by_epoch') is False:
        train_cfg = dict(train_cfg)
        train_cfg.pop('by_epoch')
        train_cfg['type'] = 'ResumableIterBasedTrainLoop'
        cfg.train_cfg = train_cfg
    scale_schedule_to_run(cfg)
    if resume:
        path = find_resume_checkpoint(cfg.work_dir) if resume == 'auto' else resume
        if path is None:
            print(f'[allspark] no complete checkpoint in {cfg.work_dir}: starting from scratch')
        else:
            cfg.resume, cfg.load_from = True, path
    if launcher != 'none' and not torch.cuda.is_available():
        _init_cpu_distributed(cfg)
    _prepare_strategy(cfg, strategy, launcher)
    if cfg.get('strategy') and not torch.cuda.is_available() \
            and cfg.strategy.get('type') == 'DDPStrategy':
        wrapper = dict(cfg.strategy.get('model_wrapper') or {})
        wrapper.setdefault('type', 'MMDistributedDataParallel')
        wrapper['device_ids'] = None  # CPU modules: DDP refuses device ids
        cfg.strategy['model_wrapper'] = wrapper
    return cfg


def build_runner(cfg: Config, **kwargs) -> Runner:
    """An mmengine ``Runner`` for ``cfg`` with AllSpark's defaults (:func:`prepare_config`), or
    a ``FlexibleRunner`` when the config has a ``strategy`` (FSDP); plain type names resolve in
    favour of the plugin that ships the config."""
    from allspark.registry import set_preferred_owner

    setup()
    set_preferred_owner(cfg.get('allspark_config_owner'))
    cfg = prepare_config(cfg, **kwargs)
    if cfg.get('strategy'):
        from mmengine.runner import FlexibleRunner

        import allspark.engine.fsdp  # noqa: F401  (registers AllSpark's FSDPStrategy)

        return FlexibleRunner.from_cfg(cfg)
    return Runner.from_cfg(cfg)


def load_config(path: str, cfg_options: Optional[dict] = None,
                data_root: Optional[str] = None) -> Config:
    """Load a config (a path or ``<plugin>::<file>``); see :func:`allspark.config.load_config`."""
    from allspark.config import load_config as _load

    return _load(path, cfg_options, data_root=data_root)


def report_unusable_plugins(stream=None) -> list:
    """Print one line per broken or incompatible plugin (training start-up says so)."""
    import sys

    setup()
    stream = stream or sys.stderr
    bad = [r for r in plugins.records() if r.status in ('broken', 'incompatible')]
    for rec in bad:
        print(f'[allspark] plugin {rec.name!r} ({rec.distribution} {rec.version}) is '
              f'{rec.status}: {rec.error} (`allspark plugins -v` for details)', file=stream)
    return bad
