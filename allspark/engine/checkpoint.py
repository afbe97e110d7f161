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
"""
from __future__ import annotations

import glob
import os
import re
import tempfile
import zipfile
from typing import Any, Optional, Union

import numpy as np
import torch
from mmengine.fileio.backends import LocalBackend, register_backend

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


def atomic_write(data: Union[bytes, str], path: str) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder + ``os.replace``."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + os.path.basename(path) + '.', suffix='.tmp',
                               dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data.encode('utf-8') if isinstance(data, str) else data)
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
        m = re.search(r'(?:iter|epoch)_(\d+)\.pth$', path)
        if m:
            found.append((int(m.group(1)), os.path.getmtime(path), path))
    for _, _, path in sorted(found, reverse=True):
        if is_complete_checkpoint(path):
            return path
    return None
