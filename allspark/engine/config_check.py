"""Config validation at build time: values that would silently train wrong, or crash later with
an error that names no key, are refused before anything is built.

``validate_config(cfg)`` raises ``ConfigValueError`` naming the key (dotted path), the value and
what is expected.  Checked:

* ``optim_wrapper.clip_grad.max_norm <= 0`` (a negative norm flips the gradient: training runs
  backwards with exit 0);
* ``default_hooks.checkpoint.interval <= 0`` (no checkpoint is ever saved), and any other hook's
  ``interval <= 0``;
* ``train_cfg.max_epochs / max_iters / val_interval <= 0``;
* ``<split>_dataloader.batch_size <= 0``;
* ``num_samples == 0`` (or negative) anywhere in a dataloader's dataset.
"""
from __future__ import annotations

import numbers
from typing import Any, Iterator, Optional

DATALOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


class ConfigValueError(ValueError):
    """A config value that cannot be right; the message names the key."""


def _get(cfg: Any, key: str) -> Any:
    try:
        return cfg.get(key)
    except AttributeError:
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _walk(obj: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(obj, dict):
        for k, v in obj.items():
            path = f'{prefix}.{k}' if prefix else str(k)
            yield path, v
            yield from _walk(v, path)
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _walk(v, f'{prefix}[{i}]')


def _where(cfg: Any) -> str:
    name = getattr(cfg, 'filename', None)
    return f' (config {name})' if name else ''


def _positive(cfg: Any, key: str, value: Any, why: str, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    if not _is_number(value) or value <= 0:
        raise ConfigValueError(f'{key} must be > 0, got {value!r}{_where(cfg)}: {why}')


def validate_config(cfg: Any) -> None:
    """Raise ``ConfigValueError`` for the first impossible value (see the module docstring)."""
    optim = _get(cfg, 'optim_wrapper')
    if isinstance(optim, dict):
        clip = optim.get('clip_grad')
        if isinstance(clip, dict) and 'max_norm' in clip:
            _positive(cfg, 'optim_wrapper.clip_grad.max_norm', clip['max_norm'],
                      'a norm <= 0 scales the gradients by a negative or zero factor (training '
                      'goes backwards or stops); set clip_grad=None to disable clipping',
                      allow_none=False)
    hooks = _get(cfg, 'default_hooks')
    if isinstance(hooks, dict):
        for name, hook in hooks.items():
            if isinstance(hook, dict) and 'interval' in hook:
                why = ('no checkpoint would ever be saved; remove default_hooks.checkpoint to '
                       'save none on purpose' if name == 'checkpoint' else
                       'an interval must be a positive number of iterations / epochs')
                _positive(cfg, f'default_hooks.{name}.interval', hook['interval'], why,
                          allow_none=False)
    for i, hook in enumerate(_get(cfg, 'custom_hooks') or []):
        if isinstance(hook, dict) and 'interval' in hook:
            _positive(cfg, f'custom_hooks[{i}].interval ({hook.get("type")})', hook['interval'],
                      'an interval must be a positive number of iterations / epochs')
    train_cfg = _get(cfg, 'train_cfg')
    if isinstance(train_cfg, dict):
        for key in ('max_epochs', 'max_iters', 'val_interval'):
            if key in train_cfg:
                _positive(cfg, f'train_cfg.{key}', train_cfg[key],
                          'training needs at least one epoch / iteration' if key != 'val_interval'
                          else 'validation runs every val_interval epochs / iterations')
    for loader in DATALOADERS:
        cfg_loader = _get(cfg, loader)
        if not isinstance(cfg_loader, dict):
            continue
        if 'batch_size' in cfg_loader:
            _positive(cfg, f'{loader}.batch_size', cfg_loader['batch_size'],
                      'a batch holds at least one sample', allow_none=False)
        for path, value in _walk(cfg_loader.get('dataset'), f'{loader}.dataset'):
            if path.endswith('.num_samples') and value is not None:
                _positive(cfg, path, value, 'a dataset needs at least one sample',
                          allow_none=False)


def check_dataset_not_empty(dataset: Any, key: Optional[str] = None) -> None:
    """A built dataset with no samples: an error naming the dataloader key."""
    if dataset is not None and hasattr(dataset, '__len__') and len(dataset) == 0:
        raise ConfigValueError(f'{key or type(dataset).__name__}: the dataset '
                               f'{type(dataset).__name__} has 0 samples')
