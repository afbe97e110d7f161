"""The validation layer every reader shares: refuse garbage with an error that names the file, the
field (or line / byte offset) and what was expected, instead of crashing later or training on it.

* ``PHYSICAL_RANGES``: declared physical ranges per kind of value (SAR amplitude, reflectance,
  hyperspectral radiance, metres, km/h, point coordinates, ...); ``check_values`` applies one
  with a policy: ``'error'`` (default), ``'clip'`` (into the range, counted) or ``'drop'`` (the
  caller leaves the sample out; counted in a ``DropCounter``);
* ``check_finite``: NaN / inf after decoding;
* ``npy_header`` / ``load_npy``: a ``.npy`` header's shape x dtype must match the file size, and
  stay under a byte cap, *before* anything is allocated (a 128-byte file declaring a TiB array
  is refused, not allocated); an empty file is refused;
* ``decode_text`` / ``read_text``: decoding errors name the file, the byte offset and the line;
* ``check_integer_labels``: labels that must really be integers (``1.5`` is refused, not
  truncated) and inside a declared range (``2**40`` is refused);
* ``check_dtype``: one file whose dtype differs from its siblings' (a uint8 tile among uint16);
* ``check_not_empty``: empty samples (an empty review) refused or dropped and counted;
* ``check_path`` / ``list_dir``: symlink loops and unreadable folders named, not ``OSError``.
"""
from __future__ import annotations

import errno
import os
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Sequence, Union

import numpy as np

from allspark.datasets.base import DataError

POLICIES = ('error', 'clip', 'drop')


@dataclass(frozen=True)
class PhysicalRange:
    """A declared range ``[low, high]`` of a physical quantity, with its unit."""
    low: float
    high: float
    unit: str
    what: str

    def describe(self) -> str:
        return f'{self.what} in [{self.low:g}, {self.high:g}] {self.unit}'.rstrip()


#: Declared ranges (generous: they catch corrupt values, not unusual scenes).
PHYSICAL_RANGES: dict[str, PhysicalRange] = {
    # SAR chips after reading: 8/16-bit data scaled to [0, 1]; calibrated float amplitude or
    # intensity stays well under 1e6 (sigma0 in linear power is <= ~1e3; DN amplitudes <= 65535)
    'sar_amplitude': PhysicalRange(0.0, 1e6, '', 'SAR amplitude / intensity (linear)'),
    'sar_db': PhysicalRange(-100.0, 100.0, 'dB', 'SAR backscatter'),
    # Sentinel-2 L1C/L2A digital numbers: reflectance x 10000 stored as uint16
    'reflectance_x10000': PhysicalRange(0.0, 65535.0, '', 'Sentinel-2 reflectance x 10000'),
    'reflectance': PhysicalRange(-0.5, 2.0, '', 'reflectance'),
    # AVIRIS / ROSIS / HYDICE cubes: scaled radiance or reflectance, signed 16-bit at most
    'hsi_radiance': PhysicalRange(-32768.0, 65535.0, '', 'hyperspectral radiance / reflectance'),
    'rgb_8bit': PhysicalRange(0.0, 255.0, '', '8-bit RGB value'),
    # pedestrian world coordinates (ETH-UCY: metres inside a scene)
    'metres': PhysicalRange(-1e5, 1e5, 'm', 'position'),
    # road traffic speeds (METR-LA / PEMS-BAY mph, Los-loop km/h)
    'speed_kmh': PhysicalRange(0.0, 400.0, 'km/h (or mph)', 'traffic speed'),
    # point clouds: normalised shapes or projected LiDAR coordinates (UTM metres < 1e7)
    'coordinates': PhysicalRange(-1e7, 1e7, 'm', 'point coordinate'),
    'latitude': PhysicalRange(-90.0, 90.0, 'deg', 'latitude'),
    'longitude': PhysicalRange(-180.0, 180.0, 'deg', 'longitude'),
}

#: ``.npy`` files larger than this (declared by their header) are refused unless asked for.
DEFAULT_MAX_NPY_BYTES = 2 ** 32  # 4 GiB


class DropCounter(Counter):
    """Counts samples left out per reason (``policy='drop'``); ``summary()`` for the log."""

    def add(self, reason: str) -> None:
        self[reason] += 1

    def summary(self) -> str:
        total = sum(self.values())
        if not total:
            return 'no sample dropped'
        return f'{total} sample(s) dropped: ' + ', '.join(f'{n} {r}' for r, n in
                                                         self.most_common())


def _label(path: str, field: Optional[str]) -> str:
    return f'{path}: field {field!r}' if field else str(path)


def _resolve_range(valid_range: Union[str, PhysicalRange, Sequence[float], None]
                   ) -> Optional[PhysicalRange]:
    if valid_range is None:
        return None
    if isinstance(valid_range, PhysicalRange):
        return valid_range
    if isinstance(valid_range, str):
        if valid_range not in PHYSICAL_RANGES:
            raise ValueError(f'unknown physical range {valid_range!r}; known: '
                             f'{sorted(PHYSICAL_RANGES)}')
        return PHYSICAL_RANGES[valid_range]
    low, high = valid_range
    return PhysicalRange(float(low), float(high), '', 'value')


def _first_index(mask: np.ndarray) -> str:
    idx = tuple(int(i) for i in np.argwhere(mask)[0])
    return str(idx[0]) if len(idx) == 1 else str(idx)


def check_policy(policy: str, name: str = 'policy') -> str:
    if policy not in POLICIES:
        raise ValueError(f'{name} must be one of {POLICIES}, got {policy!r}')
    return policy


def check_finite(arr: np.ndarray, path: str, field: Optional[str] = None,
                 where: str = 'index') -> np.ndarray:
    """``DataError`` if ``arr`` has a NaN / inf (names the count and the first position)."""
    arr = np.asarray(arr)
    if arr.dtype.kind in 'fc':
        bad = ~np.isfinite(arr)
        if bad.any():
            raise DataError(f'{_label(path, field)}: {int(bad.sum())} NaN/inf value(s) of '
                            f'{arr.size} (first at {where} {_first_index(bad)}: '
                            f'{arr[tuple(np.argwhere(bad)[0])].item()}); expected finite numbers')
    return arr


def check_values(arr: np.ndarray, path: str, field: Optional[str] = None,
                 valid_range: Union[str, PhysicalRange, Sequence[float], None] = None,
                 policy: str = 'error', counter: Optional[DropCounter] = None,
                 finite: bool = True, where: str = 'index') -> Optional[np.ndarray]:
    """Finite check, then the declared range, with ``policy``:

    * ``'error'``: ``DataError`` naming the file, the field, the count, the first offending
      position and value, and the expected range;
    * ``'clip'``: values are clipped into the range (non-finite values are still an error);
    * ``'drop'``: returns ``None`` (the caller leaves the sample out) and counts it.
    """
    check_policy(policy)
    arr = np.asarray(arr)
    if arr.size == 0 or arr.dtype.kind not in 'biufc':
        return arr
    if finite and arr.dtype.kind in 'fc' and not np.isfinite(arr).all():
        if policy == 'drop':
            if counter is not None:
                counter.add(f'{field or "value"} not finite')
            return None
        check_finite(arr, path, field, where)
    rng = _resolve_range(valid_range)
    if rng is None:
        return arr
    with np.errstate(invalid='ignore'):
        out = (arr < rng.low) | (arr > rng.high)
    if not out.any():
        return arr
    if policy == 'clip':
        return np.clip(arr, rng.low, rng.high).astype(arr.dtype, copy=False)
    if policy == 'drop':
        if counter is not None:
            counter.add(f'{field or "value"} out of range')
        return None
    first = tuple(np.argwhere(out)[0])
    raise DataError(f'{_label(path, field)}: {int(out.sum())} value(s) outside the declared '
                    f'range (first at {where} {_first_index(out)}: {arr[first]:.6g}); expected '
                    f'{rng.describe()} (policy "error"; use "clip" or "drop" to accept the file)')


def check_dtype(dtype: Any, expected: Union[str, Sequence[str]], path: str,
                field: Optional[str] = None) -> None:
    """``DataError`` if ``dtype`` is not ``expected`` (one dtype name or several)."""
    names = [expected] if isinstance(expected, str) else list(expected)
    if str(np.dtype(dtype)) not in [str(np.dtype(n)) for n in names]:
        raise DataError(f'{_label(path, field)}: dtype {np.dtype(dtype)}, expected '
                        f'{" or ".join(names)} like the other files of the dataset (a file '
                        f'stored at another bit depth is scaled differently)')


def check_integer_labels(values: Any, path: str, field: str = 'label', min_value: int = 0,
                         max_value: Optional[int] = 2 ** 16, ignore: Iterable = (),
                         where: str = 'index') -> np.ndarray:
    """Labels that must really be integers in ``[min_value, max_value]`` (``ignore``: values
    allowed outside the range, e.g. an unlabelled marker).  Returns them as ``int64``."""
    arr = np.asarray(values)
    if arr.dtype.kind not in 'biuf':
        raise DataError(f'{_label(path, field)}: labels of dtype {arr.dtype}, expected integers')
    if arr.dtype.kind == 'f':
        check_finite(arr, path, field, where)
        frac = arr != np.round(arr)
        if frac.any():
            raise DataError(f'{_label(path, field)}: {int(frac.sum())} non-integer label(s) '
                            f'(first at {where} {_first_index(frac)}: '
                            f'{arr[tuple(np.argwhere(frac)[0])].item()!r}); expected integer '
                            f'class ids')
    ignored = np.isin(arr, list(ignore)) if ignore else np.zeros(arr.shape, bool)
    with np.errstate(invalid='ignore'):
        low = (arr < min_value) & ~ignored
        high = (arr > max_value) & ~ignored if max_value is not None else np.zeros(arr.shape,
                                                                                    bool)
    bad = low | high
    if bad.any():
        value = arr[tuple(np.argwhere(bad)[0])]
        raise DataError(f'{_label(path, field)}: label {int(value)} at {where} '
                        f'{_first_index(bad)} is outside [{min_value}, {max_value}]; expected '
                        f'class ids in that range')
    return arr.astype(np.int64)


def check_not_empty(value: Any, path: str, field: Optional[str] = None, policy: str = 'error',
                    counter: Optional[DropCounter] = None) -> bool:
    """``True`` if ``value`` (text, array, sequence) is not empty; an empty one raises
    (``'error'``) or is counted and ``False`` returned (``'drop'``)."""
    if policy not in ('error', 'drop'):
        raise ValueError(f"empty-sample policy must be 'error' or 'drop', got {policy!r}")
    empty = (not value.strip()) if isinstance(value, str) else (np.size(value) == 0)
    if not empty:
        return True
    if policy == 'drop':
        if counter is not None:
            counter.add(f'empty {field or "sample"}')
        return False
    raise DataError(f'{_label(path, field)}: empty; expected a non-empty sample (set the '
                    f'empty-sample policy to "drop" to leave such samples out)')


# ----------------------------------------------------------------------------- files
def check_path(path: str) -> str:
    """``path`` itself if it can be stat-ed; a symlink loop or dangling link is a ``DataError``
    naming it (``os.path.isfile`` would silently say ``False``)."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DataError(f'{path}: symlink loop (too many levels of symbolic links); '
                            f'expected a file or folder') from None
        if os.path.islink(path):
            raise DataError(f'{path}: dangling symlink to {os.readlink(path)!r}') from None
        raise DataError(f'{path}: {exc.strerror or exc}') from None
    return path


def list_dir(folder: str) -> list[str]:
    """Sorted names in ``folder``; every entry that is a symlink loop is a ``DataError``."""
    check_path(folder)
    try:
        names = sorted(os.listdir(folder))
    except OSError as exc:
        raise DataError(f'{folder}: cannot list the folder ({exc.strerror or exc})') from None
    for name in names:
        full = os.path.join(folder, name)
        if os.path.islink(full):
            check_path(full)
    return names


def decode_text(raw: bytes, path: str, encoding: str = 'utf-8') -> str:
    """``raw.decode(encoding)``; failure -> ``DataError`` naming the file, byte offset, line."""
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw.count(b'\n', 0, exc.start) + 1
        col = exc.start - (raw.rfind(b'\n', 0, exc.start) + 1) + 1
        bad = raw[exc.start:exc.end]
        raise DataError(f'{path}: line {line}, byte offset {exc.start} (column {col}): cannot '
                        f'decode {bad!r} as {encoding} ({exc.reason}); expected {encoding} '
                        f'text') from None


def read_text(path: str, encoding: str = 'utf-8') -> str:
    """Read a text file; a decoding error names the file, byte offset and line."""
    check_path(path)
    with open(path, 'rb') as f:
        return decode_text(f.read(), path, encoding)


def npy_header(path: str, max_bytes: Optional[int] = DEFAULT_MAX_NPY_BYTES
               ) -> tuple[tuple, np.dtype, bool, int]:
    """``(shape, dtype, fortran_order, data offset)`` of a ``.npy`` file, checked before any
    allocation: an empty or truncated file, a header whose shape x itemsize does not match the
    file's size, an object dtype, or a declared size over ``max_bytes`` is a ``DataError``."""
    check_path(path)
    size = os.path.getsize(path)
    if size == 0:
        raise DataError(f'{path}: empty file (0 bytes); expected a .npy array')
    try:
        with open(path, 'rb') as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            offset = f.tell()
    except (ValueError, OSError, SyntaxError) as exc:
        raise DataError(f'{path}: not a .npy file: the header is unreadable ({exc})') from None
    if dtype.hasobject:
        raise DataError(f'{path}: header dtype {dtype} holds Python objects; expected numbers')
    declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if max_bytes is not None and declared > max_bytes:
        raise DataError(f'{path}: header declares shape {shape} {dtype} = {declared:,} bytes, '
                        f'over the {max_bytes:,}-byte limit (the file has {size:,}); refusing '
                        f'to allocate it')
    if declared != size - offset:
        raise DataError(f'{path}: header declares shape {shape} {dtype} = {declared:,} bytes '
                        f'of data, the file holds {size - offset:,} after its {offset}-byte '
                        f'header (truncated or corrupt)')
    return tuple(shape), dtype, fortran, offset


def load_npy(path: str, max_bytes: Optional[int] = DEFAULT_MAX_NPY_BYTES) -> np.ndarray:
    """``np.load(path, allow_pickle=False)`` after ``npy_header``'s checks."""
    npy_header(path, max_bytes)
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f'{path}: not a readable .npy array ({exc})') from None
