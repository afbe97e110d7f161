"""Readers for the original traffic-graph files.

* ``los_speed.csv`` (T-GCN's Los-loop): header = sensor ids, one row per 5-minute step, no
  timestamp column (timestamps come from a configured start time and step).
* ``metr-la.h5`` / ``pems-bay.h5`` (DCRNN): a pandas HDFStore holding one DataFrame, columns =
  sensor ids, index = ``DatetimeIndex``; 0 marks a missing reading.
* ``adj_mx.pkl`` (DCRNN): a Python-2 pickle ``(sensor_ids, sensor_id_to_ind, adj_mx)``, read with
  ``encoding='latin1'`` through an unpickler that refuses anything but NumPy arrays and builtins.
* ``los_adj.csv``: a square weight matrix without header.
* ``graph_sensor_locations.csv``: columns ``index, sensor_id, latitude, longitude``.

Every problem raises ``allspark.datasets.DataError`` naming the file, the field and what was
expected.
"""
from __future__ import annotations

import csv
import io
import math
import os
import pickle
from typing import Optional

import numpy as np

from allspark.datasets import DataError
from allspark.datasets.validation import check_path, decode_text

LOCATION_COLUMNS = ('sensor_id', 'latitude', 'longitude')


def read_speed_csv(path: str) -> tuple[np.ndarray, list[str]]:
    """``(T, N)`` float64 readings and the ``N`` sensor ids of a header + numbers CSV.

    Empty cells and ``NaN`` become NaN (the dataset's NaN policy decides); a row with a wrong
    number of fields or a non-numeric cell is an error naming the line and the column.
    """
    check_path(path)
    with open(path, 'rb') as f:  # decoding errors name the byte offset and line
        text = decode_text(f.read(), path)
    with io.StringIO(text, newline='') as f:
        reader = csv.reader(f)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise DataError(f'{path}: empty file (expected a header of sensor ids)') from None
        if not header or any(not h for h in header):
            raise DataError(f'{path}: the header must name every column (sensor ids), got '
                            f'{header[:5]}...')
        rows = []
        for lineno, row in enumerate(reader, 2):
            if not row:
                continue
            if len(row) != len(header):
                raise DataError(f'{path}, line {lineno}: expected {len(header)} comma-separated '
                                f'values (one per sensor in the header), got {len(row)}')
            values = []
            for name, cell in zip(header, row):
                cell = cell.strip()
                if cell == '' or cell.lower() in ('nan', 'na'):
                    values.append(math.nan)
                    continue
                try:
                    values.append(float(cell))
                except ValueError:
                    raise DataError(f'{path}, line {lineno}, column {name!r}: expected a speed '
                                    f'(number), got {cell!r}') from None
            rows.append(values)
    if not rows:
        raise DataError(f'{path}: no data rows after the header')
    return np.asarray(rows, dtype=np.float64), header


def read_traffic_h5(path: str, key: Optional[str] = None):
    """``(values (T, N), sensor ids, timestamps DatetimeIndex)`` of a DCRNN HDF5 file."""
    import pandas as pd

    try:
        with pd.HDFStore(path, mode='r') as store:
            keys = store.keys()
            if not keys:
                raise DataError(f'{path}: the HDF5 store holds no table')
            key = key or keys[0]
            if f'/{key.lstrip("/")}' not in keys:
                raise DataError(f'{path}: no table {key!r} (tables: {keys})')
            df = store[key]
    except DataError:
        raise
    except Exception as exc:  # not an HDF5 file, not a pandas store
        raise DataError(f'{path}: cannot read as a pandas HDFStore ({exc})') from exc
    if not isinstance(df, pd.DataFrame):
        raise DataError(f'{path}[{key}]: expected a DataFrame (time x sensors), got '
                        f'{type(df).__name__}')
    if not isinstance(df.index, pd.DatetimeIndex):
        raise DataError(f'{path}[{key}]: expected a DatetimeIndex (timestamps), got '
                        f'{type(df.index).__name__}')
    bad = [c for c in df.columns if not np.issubdtype(df[c].dtype, np.number)]
    if bad:
        raise DataError(f'{path}[{key}], column {str(bad[0])!r}: expected numeric speeds, got '
                        f'dtype {df[bad[0]].dtype}')
    return df.to_numpy(dtype=np.float64), [str(c) for c in df.columns], df.index


#: adjacency pickles are small (METR-LA's 207 x 207 float32 matrix: 172 kB); bigger files are
#: refused before unpickling
MAX_ADJ_PICKLE_BYTES = 256 * 2 ** 20


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Allows exactly what an adjacency pickle needs: NumPy array reconstruction (lists, dicts,
    tuples, strings and numbers are pickle opcodes, not classes).  Anything else is refused;
    in particular ``builtins.bytes`` / ``int`` / ``set`` / ``str``, whose calls can ask for
    gigabytes from a few bytes of pickle (``bytes(8_000_000_000)``)."""

    ALLOWED = {
        ('numpy.core.multiarray', '_reconstruct'), ('numpy._core.multiarray', '_reconstruct'),
        ('numpy.core.multiarray', 'scalar'), ('numpy._core.multiarray', 'scalar'),
        ('numpy', 'ndarray'), ('numpy', 'dtype'),
        # Python 3 protocol-2 pickles carry bytes (array buffers) as _codecs.encode(str, enc):
        # the output is as long as the string stored in the file (bounded by the size cap)
        ('_codecs', 'encode'),
    }

    def __init__(self, file, path: str):
        super().__init__(file, encoding='latin1')
        self.path = path

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise DataError(f'{self.path}: the pickle references {module}.{name}; only NumPy '
                            f'arrays and builtins (lists, dicts, strings, numbers stored as '
                            f'pickle data) are allowed (refusing to load it)')
        if module == '__builtin__':
            module = 'builtins'
        return super().find_class(module, name)


def read_adj_pickle(path: str) -> tuple[list[str], dict, np.ndarray]:
    """DCRNN's ``adj_mx.pkl``: ``(sensor_ids, sensor_id_to_ind, adj (N, N) float32)``."""
    check_path(path)
    size = os.path.getsize(path)
    if size > MAX_ADJ_PICKLE_BYTES:
        raise DataError(f'{path}: {size:,} bytes, over the {MAX_ADJ_PICKLE_BYTES:,}-byte limit '
                        f'for an adjacency pickle (refusing to unpickle it)')
    with open(path, 'rb') as f:
        data = f.read()
    try:
        obj = _NumpyOnlyUnpickler(io.BytesIO(data), path).load()
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f'{path}: not a readable pickle ({exc})') from exc
    if not (isinstance(obj, (tuple, list)) and len(obj) == 3):
        raise DataError(f'{path}: expected a tuple (sensor_ids, sensor_id_to_ind, adj_mx), got '
                        f'{type(obj).__name__}')
    ids, id_to_ind, adj = obj
    adj = np.asarray(adj)
    if adj.ndim != 2 or adj.shape[0] != adj.shape[1] or adj.shape[0] != len(ids):
        raise DataError(f'{path}: adj_mx has shape {adj.shape}, expected ({len(ids)}, '
                        f'{len(ids)}) for {len(ids)} sensor ids')
    return [str(i) for i in ids], dict(id_to_ind), adj.astype(np.float32)


def read_adj_csv(path: str) -> np.ndarray:
    """A square ``(N, N)`` weight matrix without header."""
    rows = []
    with open(path, newline='') as f:
        for lineno, row in enumerate(csv.reader(f), 1):
            if not row:
                continue
            try:
                rows.append([float(c) for c in row])
            except ValueError:
                raise DataError(f'{path}, line {lineno}: expected numbers only '
                                f'(adjacency weights)') from None
            if len(rows[-1]) != len(rows[0]):
                raise DataError(f'{path}, line {lineno}: expected {len(rows[0])} values, got '
                                f'{len(rows[-1])}')
    adj = np.asarray(rows, dtype=np.float32)
    if adj.ndim != 2 or adj.shape[0] != adj.shape[1]:
        raise DataError(f'{path}: expected a square matrix, got shape {adj.shape}')
    return adj


def read_sensor_locations(path: str) -> dict[str, tuple[float, float]]:
    """``{sensor_id: (latitude, longitude)}``; the CSV must have the columns
    ``sensor_id, latitude, longitude`` (an ``index`` column is optional)."""
    with open(path, newline='') as f:
        reader = csv.DictReader(f)
        columns = [c.strip() for c in (reader.fieldnames or [])]
        for col in LOCATION_COLUMNS:
            if col not in columns:
                raise DataError(f'{path}: missing required column {col!r} (has {columns})')
        out = {}
        for lineno, row in enumerate(reader, 2):
            row = {(k or '').strip(): v for k, v in row.items()}
            if None in row.values() or len(row) != len(columns):
                raise DataError(f'{path}, line {lineno}: expected {len(columns)} columns '
                                f'{columns}')
            try:
                out[str(row['sensor_id']).strip()] = (float(row['latitude']),
                                                      float(row['longitude']))
            except ValueError:
                raise DataError(f'{path}, line {lineno}: latitude/longitude must be numbers, '
                                f'got {row["latitude"]!r}, {row["longitude"]!r}') from None
    return out
