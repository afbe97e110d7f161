"""Safe, atomic checkpoints that resume under torch >= 2.6.

* ``torch.load`` defaults to ``weights_only=True`` since torch 2.6, and mmengine 0.10.7's
  checkpoints hold a message hub (``HistoryBuffer`` objects, whose pickles reference bound
  methods through ``builtins.getattr``, NumPy arrays) and NumPy scalars.  We never allow-list
  ``getattr`` nor use ``weights_only=False``: when saving, ``ReproducibleStateHook`` turns history
  buffers into plain dicts of tensors and NumPy values into Python numbers / tensors, and turns
  the buffers back after loading.  The few NumPy classes an array inside user metadata needs are
  allow-listed (``safe_globals``).
* Checkpoints are written to a temporary file and ``os.replace``-d into place, so a kill while
  saving never leaves a truncated checkpoint, and ``last_checkpoint`` is only ever a complete path.
* ``SafeCheckpointHook`` (registered as ``CheckpointHook`` in the ``allspark`` scope, so every
  shipped config gets it) writes the new checkpoint *before* it removes old ones, never lets
  ``last_checkpoint`` point at a missing file, removes the temporary files of killed saves on the
  next start, checks the free space before each save (and warns early), and keeps the best
  checkpoint (``best_<metric>_<step>.pth``) apart from the rolling ones.
* Every ``torch.load`` reached through mmengine (``CheckpointLoader``, ``load_checkpoint``,
  ``Runner.resume``) goes through ``safe_torch_load``: ``weights_only=True`` passed explicitly, so
  ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`` cannot turn it off, and a refused file raises
  ``CheckpointRefusedError`` naming the file.
* ``check_checkpoint_matches`` compares a checkpoint's state dict with what the model itself
  would save (``test`` refuses mismatched weights unless ``--strict false``).
"""
from __future__ import annotations

import errno
import functools
import glob
import logging
import os
import pickle
import re
import shutil
import tempfile
import warnings
import zipfile
from typing import Any, Callable, Optional, Union

import numpy as np
import torch
from mmengine.dist import is_main_process
from mmengine.fileio.backends import LocalBackend, register_backend
from mmengine.hooks import CheckpointHook

from allspark.registry import HOOKS

_registered = False
_BUFFER_TAG = '__allspark_history_buffer__'


def safe_globals() -> list:
    """The classes an (AllSpark-sanitised) mmengine checkpoint needs beyond torch's defaults."""
    from mmengine.logging import HistoryBuffer

    core = np._core if hasattr(np, '_core') else np.core  # numpy 2 / numpy 1
    classes = [HistoryBuffer, core.multiarray._reconstruct, np.ndarray, np.dtype]
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:  # numpy >= 1.25 pickles array dtypes as these classes
        for name in ('Float64DType', 'Float32DType', 'Int64DType', 'Int32DType', 'BoolDType',
                     'Float16DType', 'UInt8DType'):
            if hasattr(dtypes, name):
                classes.append(getattr(dtypes, name))
    return classes


def register_safe_globals() -> None:
    global _registered
    if not _registered:
        torch.serialization.add_safe_globals(safe_globals())
        _registered = True


def to_plain(obj: Any) -> Any:
    """NumPy scalars -> Python numbers and NumPy arrays -> tensors, recursively through dicts,
    lists and tuples; mmengine ``HistoryBuffer`` -> a plain dict (see ``from_plain``)."""
    from mmengine.logging import HistoryBuffer

    if isinstance(obj, HistoryBuffer):  # its pickle references bound methods (needs getattr)
        log, count = obj.data
        return {_BUFFER_TAG: True, 'log': torch.from_numpy(np.asarray(log, dtype=np.float64)),
                'count': torch.from_numpy(np.asarray(count, dtype=np.int64)),
                'max_length': int(obj.max_length)}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray) and obj.dtype != object:
        return torch.from_numpy(obj.copy())
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_plain(v) for v in obj]
    if isinstance(obj, tuple) and not hasattr(obj, '_fields'):
        return tuple(to_plain(v) for v in obj)
    return obj


def from_plain(obj: Any) -> Any:
    """Undo ``to_plain`` for history buffers (tensors stay tensors)."""
    from mmengine.logging import HistoryBuffer

    if isinstance(obj, dict):
        if obj.get(_BUFFER_TAG):
            return HistoryBuffer(obj['log'].numpy().tolist(), obj['count'].numpy().tolist(),
                                 obj['max_length'])
        return type(obj)((k, from_plain(v)) for k, v in obj.items())
    return obj


TMP_SUFFIX = '.tmp'


def _write_all(f, data: bytes, tmp_path: str) -> None:
    """One place that writes the bytes of ``tmp_path`` (tests replace it to simulate a full
    disk)."""
    f.write(data)


def atomic_write(data: Union[bytes, str], path: str) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder + ``os.replace``.

    The temporary file is ``.<name>.<random>.tmp``; on any failure (a full disk included) it is
    removed and ``path`` is left as it was."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', suffix=TMP_SUFFIX,
                               dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            _write_all(f, data.encode('utf-8') if isinstance(data, str) else data, tmp)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend with atomic ``put``/``put_text``."""

    def put(self, obj: bytes, filepath) -> None:
        atomic_write(obj, str(filepath))

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        atomic_write(obj.encode(encoding), str(filepath))


def use_atomic_local_backend() -> None:
    from mmengine.fileio import io as mmio

    register_backend('local', AtomicLocalBackend, force=True, prefixes='')
    mmio.backend_instances.clear()  # drop cached non-atomic instances


def is_complete_checkpoint(path: str) -> bool:
    """A torch zip checkpoint that opens and has its record table (not a truncated file)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return zf.testzip() is None
    except (OSError, zipfile.BadZipFile):
        return False


def find_resume_checkpoint(work_dir: str) -> Optional[str]:
    """The newest complete checkpoint in ``work_dir`` (``last_checkpoint`` first), or None."""
    last = os.path.join(work_dir, 'last_checkpoint')
    if os.path.exists(last):
        with open(last) as f:
            path = f.read().strip()
        if path and os.path.exists(path) and is_complete_checkpoint(path):
            return path
    found = []
    for path in glob.glob(os.path.join(work_dir, '*.pth')):
        # rolling checkpoints only: best_<metric>_iter_N.pth holds no optimizer state
        m = re.fullmatch(r'(?:iter|epoch)_(\d+)\.pth', os.path.basename(path))
        if m:
            found.append((int(m.group(1)), os.path.getmtime(path), path))
    for _, _, path in sorted(found, reverse=True):
        if is_complete_checkpoint(path):
            return path
    return None


# ---------------------------------------------------------------------------------------------
# Loading: weights_only=True, always, and errors that name the file
# ---------------------------------------------------------------------------------------------
class CheckpointError(RuntimeError):
    """A checkpoint cannot be used: the message names the file and what is wrong with it."""


class CheckpointRefusedError(CheckpointError):
    """The file holds Python objects other than tensors and plain values (it could run code)."""


class CheckpointMismatchError(CheckpointError):
    """The checkpoint's state dict does not match the model (missing / unexpected / shapes)."""


class CheckpointSaveError(CheckpointError):
    """A checkpoint could not be written; nothing older was removed."""


def _refused_global(exc: BaseException) -> str:
    m = re.search(r'GLOBAL ([\w.]+)', str(exc))
    return m.group(1) if m else type(exc).__name__


def safe_torch_load(source: Any, map_location: Any = 'cpu', name: Optional[str] = None) -> Any:
    """``torch.load(source, weights_only=True)``, explicitly (``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``
    cannot override an explicit argument), with errors that name the file.

    Raises ``CheckpointRefusedError`` for a file that needs anything but tensors, plain Python
    values and the few allow-listed classes (``safe_globals``), ``CheckpointError`` for a missing,
    truncated or corrupt file."""
    register_safe_globals()
    label = name or (source if isinstance(source, (str, os.PathLike)) else '<in-memory buffer>')
    if isinstance(source, (str, os.PathLike)) and not os.path.isfile(source):
        raise CheckpointError(f'checkpoint not found: {label}')
    try:
        return torch.load(source, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointRefusedError(
            f'{label}: refused to load: the file references {_refused_global(exc)}, which is '
            f'neither a tensor nor a plain Python value. AllSpark checkpoints hold only tensors '
            f'and plain values; this file was not written by AllSpark or was tampered with.') \
            from None
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile) as exc:
        raise CheckpointError(f'{label}: not a readable checkpoint (truncated or corrupt: '
                              f'{type(exc).__name__}: {str(exc).splitlines()[0][:200]})') \
            from None


def load_from_local_safe(filename: str, map_location: Any = None) -> Any:
    """``CheckpointLoader`` scheme for local paths (replaces mmengine's ``load_from_local``)."""
    filename = os.path.expanduser(str(filename))
    return safe_torch_load(filename, map_location=map_location, name=filename)


def _weights_only_call(loader: Callable) -> Callable:
    """Wrap one of mmengine's remote loaders so its ``torch.load`` gets ``weights_only=True``."""
    if getattr(loader, '_allspark_safe', False):
        return loader

    @functools.wraps(loader)
    def wrapped(filename, map_location=None):
        original = torch.load

        def forced(f, *args, **kwargs):
            kwargs['weights_only'] = True
            register_safe_globals()
            try:
                return original(f, *args, **kwargs)
            except pickle.UnpicklingError as exc:
                raise CheckpointRefusedError(
                    f'{filename}: refused to load: the file references {_refused_global(exc)}, '
                    f'which is neither a tensor nor a plain Python value.') from None
        torch.load = forced
        try:
            return loader(filename, map_location)
        finally:
            torch.load = original

    wrapped._allspark_safe = True
    return wrapped


def install_safe_loaders() -> None:
    """Route every ``CheckpointLoader`` scheme (local and remote) through ``weights_only=True``."""
    from mmengine.runner.checkpoint import CheckpointLoader

    load_from_local_safe._allspark_safe = True
    for prefix, loader in list(CheckpointLoader._schemes.items()):
        new = load_from_local_safe if prefix == '' else _weights_only_call(loader)
        CheckpointLoader.register_scheme(prefix, new, force=True)


# ---------------------------------------------------------------------------------------------
# Does a checkpoint fit the model?
# ---------------------------------------------------------------------------------------------
def _strip_module_prefix(state: dict) -> dict:
    return {re.sub(r'^module\.', '', k): v for k, v in state.items()}


def compare_state_dicts(expected: dict, found: dict) -> dict:
    """``{'missing': [...], 'unexpected': [...], 'shape': [(key, expected, found), ...]}``."""
    missing = [k for k in expected if k not in found]
    unexpected = [k for k in found if k not in expected]
    shape = []
    for k, v in expected.items():
        if k in found and isinstance(v, torch.Tensor) and isinstance(found[k], torch.Tensor) \
                and tuple(v.shape) != tuple(found[k].shape):
            shape.append((k, tuple(v.shape), tuple(found[k].shape)))
    return dict(missing=missing, unexpected=unexpected, shape=shape)


def _first(items: list, n: int = 5) -> str:
    shown = ', '.join(repr(i) if isinstance(i, str) else f'{i[0]!r} (model {i[1]}, file {i[2]})'
                      for i in items[:n])
    return shown + (f' ... and {len(items) - n} more' if len(items) > n else '')


def check_checkpoint_matches(model: torch.nn.Module, path: str, strict: bool = True,
                             checkpoint: Optional[dict] = None) -> dict:
    """Compare ``path``'s ``state_dict`` with what ``model`` itself would save.

    The reference is ``model.state_dict()`` (unwrapped from DDP), so whatever the model leaves
    out of its own checkpoints (e.g. a frozen language model) is not expected in the file.
    Returns the comparison (see ``compare_state_dicts``); with ``strict`` a missing or empty
    ``state_dict``, a missing or unexpected key or a shape mismatch raises
    ``CheckpointMismatchError`` naming the file and the first few keys; without it, warns."""
    from mmengine.model import is_model_wrapper

    if is_model_wrapper(model):
        model = model.module
    ckpt = checkpoint if checkpoint is not None else safe_torch_load(path, name=path)
    if not isinstance(ckpt, dict):
        raise CheckpointMismatchError(f'{path}: holds a {type(ckpt).__name__}, not a checkpoint '
                                      f'dict with a state_dict')
    if 'state_dict' in ckpt:
        state = ckpt['state_dict']
    elif ckpt and all(isinstance(v, torch.Tensor) for v in ckpt.values()):
        state = ckpt  # a bare state dict
    else:
        state = None
    if not isinstance(state, dict) or not state:
        msg = (f'{path}: has no weights: its state_dict is '
               f'{"missing" if state is None else "empty"} (top-level keys: {sorted(ckpt)[:10]})')
        if strict:
            raise CheckpointMismatchError(msg + '; pass --strict false to evaluate anyway')
        warnings.warn(msg, stacklevel=2)
        return dict(missing=list(model.state_dict()), unexpected=[], shape=[])
    report = compare_state_dicts(model.state_dict(), _strip_module_prefix(state))
    problems = []
    if report['missing']:
        problems.append(f'{len(report["missing"])} missing key(s): {_first(report["missing"])}')
    if report['unexpected']:
        problems.append(f'{len(report["unexpected"])} unexpected key(s): '
                        f'{_first(report["unexpected"])}')
    if report['shape']:
        problems.append(f'{len(report["shape"])} shape mismatch(es): {_first(report["shape"])}')
    if problems:
        msg = (f'{path}: does not match the model {type(model).__name__} (' + '; '.join(problems)
               + '). It was probably saved from another config or architecture')
        if strict:
            raise CheckpointMismatchError(msg + '; pass --strict false to evaluate anyway')
        warnings.warn(msg + ' (--strict false: evaluating anyway)', stacklevel=2)
    return report


# ---------------------------------------------------------------------------------------------
# Saving: new file first, then the old ones go
# ---------------------------------------------------------------------------------------------
def clean_stale_temp_files(folder: str) -> list[str]:
    """Remove ``.<name>.<random>.tmp`` files left by killed atomic writes; returns their paths."""
    removed = []
    for path in glob.glob(os.path.join(glob.escape(folder), '.*' + TMP_SUFFIX)):
        if re.fullmatch(r'\..+\.[^.]+' + re.escape(TMP_SUFFIX), os.path.basename(path)):
            try:
                os.remove(path)
                removed.append(path)
            except OSError:
                pass
    return removed


def repair_last_checkpoint(work_dir: str) -> Optional[str]:
    """Make ``work_dir/last_checkpoint`` name an existing, complete checkpoint (the newest one),
    or remove it when there is none; returns what it now names."""
    last = os.path.join(work_dir, 'last_checkpoint')
    if not os.path.exists(last):
        return None
    with open(last) as f:
        named = f.read().strip()
    if named and os.path.isfile(named) and is_complete_checkpoint(named):
        return named
    newest = find_resume_checkpoint(work_dir)
    if newest is None:
        os.remove(last)
    else:
        atomic_write(newest, last)
    return newest


def estimate_checkpoint_bytes(runner, out_dir: str) -> int:
    """The size of the newest rolling checkpoint in ``out_dir``; without one, the model's
    state dict plus two optimizer moments per trainable parameter (Adam)."""
    newest = find_resume_checkpoint(out_dir) if os.path.isdir(out_dir) else None
    if newest is not None:
        return os.path.getsize(newest)
    from torch.distributed.fsdp import FullyShardedDataParallel

    if isinstance(runner.model, FullyShardedDataParallel):
        # FSDP: a state dict gathers on every rank (this runs on rank 0 only); each rank's
        # parameters are its shard, so the trainable total is about world_size times them
        from mmengine.dist import get_world_size

        trainable = sum(p.numel() * p.element_size() for p in runner.model.parameters()
                        if p.requires_grad) * get_world_size()
        return int(3 * trainable)
    model = runner.model.module if hasattr(runner.model, 'module') else runner.model
    state = sum(v.numel() * v.element_size() for v in model.state_dict().values()
                if isinstance(v, torch.Tensor))
    trainable = sum(p.numel() * p.element_size() for p in model.parameters() if p.requires_grad)
    return int(state + 2 * trainable)


def free_bytes(folder: str) -> int:
    return shutil.disk_usage(folder).free


def _mb(n: float) -> str:
    return f'{n / 2 ** 20:.1f} MB'


class _DropLogMessages(logging.Filter):
    """A logging filter that drops records containing any of the given texts."""

    def __init__(self, *texts: str):
        super().__init__()
        self.texts = texts

    def filter(self, record: logging.LogRecord) -> bool:
        return not any(t in record.getMessage() for t in self.texts)


_MMENGINE_INTERNAL_DEPRECATIONS = _DropLogMessages(
    '"FileClient" will be deprecated', '"HardDiskBackend" is the alias of "LocalBackend"')


@HOOKS.register_module(name='CheckpointHook')
class SafeCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` that never loses a checkpoint.

    * the new checkpoint is written (atomically) first; the rolling checkpoints beyond
      ``max_keep_ckpts`` and the previous best are removed only once it is complete;
    * a failed save (e.g. ``ENOSPC``) raises ``CheckpointSaveError`` naming the file and
      the checkpoints that survive, and ``last_checkpoint`` keeps naming a complete file;
    * at the start of training, temporary files of killed saves are removed and a
      ``last_checkpoint`` that names a missing file is repaired;
    * before each save the free space is checked against the expected size: a warning when
      fewer than ``warn_free_saves`` more saves fit, an error-level log when not even one does;
    * ``best_<metric>_<step>.pth`` is kept apart from the rolling ``iter_N`` / ``epoch_N``
      files: rolling removal never touches it and ``--resume`` never picks it.

    Args:
        warn_free_saves: warn when the free space holds fewer than this many more saves.
        **kwargs: mmengine ``CheckpointHook``'s (``interval`` must be > 0).
    """

    def __init__(self, *args, warn_free_saves: int = 3, **kwargs) -> None:
        interval = kwargs.get('interval', args[0] if args else -1)
        if interval is not None and interval <= 0:
            raise ValueError(f'default_hooks.checkpoint.interval must be > 0, got '
                             f'{interval}: with it no checkpoint is ever saved (to save '
                             f'none on purpose, remove default_hooks.checkpoint)')
        super().__init__(*args, **kwargs)
        self.warn_free_saves = int(warn_free_saves)

    # -- start ---------------------------------------------------------------------------
    def before_train(self, runner) -> None:
        # mmengine 0.10.7 builds a deprecated FileClient here and in Runner.save_checkpoint
        # whatever the config says, and logs deprecation WARNINGs about its own internals at
        # every start: not the user's doing, so they are dropped for the run
        runner.logger.addFilter(_MMENGINE_INTERNAL_DEPRECATIONS)
        super().before_train(runner)
        if not is_main_process():
            return
        for folder in {runner.work_dir, str(self.out_dir)}:
            if not os.path.isdir(folder):
                continue
            removed = clean_stale_temp_files(folder)
            if removed:
                runner.logger.warning(
                    f'CheckpointHook: removed {len(removed)} temporary file(s) of '
                    f'interrupted saves in {folder}: {[os.path.basename(p) for p in removed]}')
        last = os.path.join(runner.work_dir, 'last_checkpoint')
        if os.path.exists(last):
            with open(last) as f:
                named = f.read().strip()
            fixed = repair_last_checkpoint(runner.work_dir)
            if fixed != named:
                runner.logger.warning(f'CheckpointHook: last_checkpoint named {named!r}, '
                                      f'which is missing or incomplete; it now names {fixed}')
        self._check_free_space(runner, early=True)

    def _check_free_space(self, runner, early: bool = False) -> None:
        out_dir = str(self.out_dir)
        if not os.path.isdir(out_dir):
            os.makedirs(out_dir, exist_ok=True)
        need = estimate_checkpoint_bytes(runner, out_dir)
        free = free_bytes(out_dir)
        if free < need:
            runner.logger.error(
                f'CheckpointHook: only {_mb(free)} free in {out_dir}, a checkpoint needs about '
                f'{_mb(need)}: the next save will probably fail (existing checkpoints are '
                f'kept if it does)')
        elif free < need * max(self.warn_free_saves, 1):
            runner.logger.warning(
                f'CheckpointHook: {_mb(free)} free in {out_dir} holds fewer than '
                f'{self.warn_free_saves} more checkpoints of about {_mb(need)}'
                + (' (checked at the start of training)' if early else ''))

    # -- saving --------------------------------------------------------------------------
    def _path_of(self, step) -> str:
        return self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(step))

    def _remove(self, path: str) -> None:
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # deepspeed checkpoints are folders
            self.file_backend.rmtree(path)

    def _save_checkpoint_with_step(self, runner, step, meta):
        old_ids = list(self.keep_ckpt_ids) if self.max_keep_ckpts > 0 else []
        new_ids, dropped = list(old_ids), []
        if self.max_keep_ckpts > 0 and not (old_ids and old_ids[-1] == step):
            new_ids.append(step)
            while len(new_ids) > self.max_keep_ckpts:
                dropped.append(new_ids.pop(0))
        ckpt_filename = self.filename_tmpl.format(step)
        path = self.file_backend.join_path(self.out_dir, ckpt_filename)
        previous_last = self.last_ckpt
        # what the checkpoint itself records must describe the state after this save
        if self.max_keep_ckpts > 0:
            runner.message_hub.update_info('keep_ckpt_ids', new_ids)
        runner.message_hub.update_info('last_ckpt', path)
        if is_main_process():
            self._check_free_space(runner)
        try:
            runner.save_checkpoint(
                self.out_dir, ckpt_filename, self.file_client_args,
                save_optimizer=self.save_optimizer,
                save_param_scheduler=self.save_param_scheduler, meta=meta,
                by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        except OSError as exc:
            if self.max_keep_ckpts > 0:
                runner.message_hub.update_info('keep_ckpt_ids', old_ids)
            if previous_last is not None:
                runner.message_hub.update_info('last_ckpt', previous_last)
            kept = [self._path_of(s) for s in old_ids]
            kept = [p for p in kept if os.path.exists(p)]
            reason = ('the disk is full' if exc.errno == errno.ENOSPC
                      else f'{type(exc).__name__}: {exc}')
            raise CheckpointSaveError(
                f'could not write checkpoint {path} ({reason}); nothing was removed: the '
                f'surviving checkpoints are {kept or "none"} and last_checkpoint names '
                f'{previous_last or "none"}. Free space, then continue with --resume.') \
                from exc
        self.last_ckpt = path
        if self.max_keep_ckpts > 0:
            self.keep_ckpt_ids.clear()
            self.keep_ckpt_ids.extend(new_ids)
        if not is_main_process():
            return
        atomic_write(str(path), os.path.join(runner.work_dir, 'last_checkpoint'))
        for old in dropped:  # only now: the new checkpoint is complete
            if self._path_of(old) != path:
                self._remove(self._path_of(old))

    def _save_best_checkpoint(self, runner, metrics) -> None:
        # mmengine removes the previous best before writing the new one: hide it from the
        # parent, and remove it ourselves once the new best is on disk
        if not self.save_best:
            return
        single = len(self.key_indicators) == 1
        before = ({None: self.best_ckpt_path} if single
                  else dict(self.best_ckpt_path_dict))
        hub = runner.message_hub
        info_keys = [k for k in hub.runtime_info if k.startswith(('best_ckpt', 'best_score'))]
        saved_info = {k: hub.get_info(k) for k in info_keys}
        if single:
            self.best_ckpt_path = None
        else:
            self.best_ckpt_path_dict = {k: None for k in before}
        try:
            super()._save_best_checkpoint(runner, metrics)
        except BaseException:
            for k, v in saved_info.items():  # the failed best is not the best
                hub.update_info(k, v)
            raise
        finally:
            after = ({None: self.best_ckpt_path} if single
                     else dict(self.best_ckpt_path_dict))
            for key, old in before.items():
                new = after.get(key)
                if new is None or not os.path.exists(str(new)):
                    # not improved, or its save failed: the old best stays the best
                    if single:
                        self.best_ckpt_path = old
                    else:
                        self.best_ckpt_path_dict[key] = old
                elif old and old != new and is_main_process():
                    self._remove(old)
                    runner.logger.info(f'The previous best checkpoint {old} is removed')
