"""``PRSADataset``: the UCI Beijing multi-site air-quality data (PRSA), one row -> one sample.

Files: ``<data_root>/PRSA_Data_<station>_20130301-20170228.csv`` (any ``*.csv`` in the folder is
read), the original UCI format: quoted header ``No, year, month, day, hour, PM2.5, PM10, SO2,
NO2, CO, O3, TEMP, PRES, DEWP, RAIN, wd, WSPM, station``, ``NA`` for missing, hourly rows.

Task (the AllSpark paper's): predict ``PM2.5`` (µg/m³) from time, station, SO2, NO2, CO, O3,
TEMP, PRES, DEWP, RAIN, wd (wind direction) and WSPM (wind speed).  PM10 is not an input.

Splits (``split_mode``), both over the rows whose target is present:

* ``'random'``: a seeded permutation (``numpy.random.default_rng(seed)``) of all rows; the first
  ``round(train_ratio * n)`` rows are ``train``, the rest ``test``.
* ``'chronological'``: rows whose timestamp lies in the first ``train_ratio`` of the covered time
  span (hours) are ``train``, the later ones ``test``.

Missing values (``NA`` or empty), policy per column (``missing``; key ``'default'`` for inputs):

* target ``PM2.5``: ``'drop'`` (the row is removed before splitting; counted in the log);
* inputs: ``'mask'`` (default; the value becomes the column's *missing* token, index 0),
  ``'impute'`` (training-split median, or mode for discrete columns), ``'drop'`` (drop the row),
  or ``'error'`` (missing values are a ``DataError``).
  After the policy no input may be NaN/inf: a remaining one (``'error'`` policy, an ``inf`` in the
  file, a column with nothing to impute from) is a ``DataError`` naming the column.

Tokens (``columns``): discrete columns (``station``, ``wd``, ``year``, ``month``, ``day``,
``hour``, ``weekday``) get the index of their category in the training split's vocabulary
(unseen categories -> the missing token, counted); continuous columns (any numeric column, and
``time`` = hours since the first timestamp) get the index of their quantile bin (``bins`` bins,
edges from the training split) and ``frac``, the position inside the bin; values outside the
training range go to the end bins, or (column option ``outside='missing'``, meant for absolute
time in a chronological split) become the missing token.

Sample: ``{'table': {'index': int64 (C,), 'frac': float32 (C,)}, 'gt_value': float32,
'row': int}``.  ``stats()`` gives the training split's target mean/std (µg/m³) for the
regression head's un-scaling.

Citation: Zhang, S., Guo, B., Dong, A., He, J., Xu, Z. and Chen, S.X. (2017) Cautionary tales on
air-quality improvement in Beijing. Proc. R. Soc. A 473: 20170457.  Data: UCI ML Repository,
"Beijing Multi-Site Air Quality" (CC BY 4.0).
"""
from __future__ import annotations

import csv
import glob
import hashlib
import io
import os
from typing import Optional, Sequence

import numpy as np
import pandas as pd
from mmengine.logging import print_log

from allspark.datasets import BaseDataset, DataError
from allspark.datasets.validation import decode_text
from allspark.registry import DATASETS

TARGET = 'PM2.5'
TIME_COLUMNS = ('year', 'month', 'day', 'hour')
REQUIRED = TIME_COLUMNS + (TARGET, 'SO2', 'NO2', 'CO', 'O3', 'TEMP', 'PRES', 'DEWP', 'RAIN',
                           'wd', 'WSPM', 'station')
STRING_COLUMNS = ('wd', 'station')
DISCRETE = ('station', 'wd', 'year', 'month', 'day', 'hour', 'weekday')
POLICIES = ('mask', 'impute', 'drop', 'error')
#: The default token columns: every input the paper lists (time as calendar + absolute time).
DEFAULT_COLUMNS = (
    dict(name='station'), dict(name='wd'), dict(name='year'), dict(name='month'),
    dict(name='hour'), dict(name='weekday'), dict(name='time', bins=1024),
    dict(name='SO2'), dict(name='NO2'), dict(name='CO'), dict(name='O3'), dict(name='TEMP'),
    dict(name='PRES'), dict(name='DEWP'), dict(name='RAIN'), dict(name='WSPM'))
#: Features of the gradient-boosting baseline (same information: calendar time + the inputs).
BASELINE_FEATURES = ('year', 'month', 'day', 'hour', 'station', 'SO2', 'NO2', 'CO', 'O3', 'TEMP',
                     'PRES', 'DEWP', 'RAIN', 'wd', 'WSPM')

_NA = ('NA', '', 'nan', 'NaN')
#: declared physical ranges of the PRSA columns (units of the UCI release; generous: the real
#: data span PM2.5 2..999, CO 100..10000, TEMP -19.9..41.6, PRES 982..1043 hPa): a value
#: outside is a corrupt row, refused naming the file, line and column
PRSA_RANGES = {'PM2.5': (0.0, 2000.0, 'ug/m3'), 'PM10': (0.0, 3000.0, 'ug/m3'),
               'SO2': (0.0, 2000.0, 'ug/m3'), 'NO2': (0.0, 2000.0, 'ug/m3'),
               'CO': (0.0, 50000.0, 'ug/m3'), 'O3': (0.0, 3000.0, 'ug/m3'),
               'TEMP': (-60.0, 60.0, 'degC'), 'PRES': (800.0, 1100.0, 'hPa'),
               'DEWP': (-80.0, 50.0, 'degC'), 'RAIN': (0.0, 500.0, 'mm'),
               'WSPM': (0.0, 100.0, 'm/s'), 'year': (1900.0, 2100.0, ''),
               'month': (1.0, 12.0, ''), 'day': (1.0, 31.0, ''), 'hour': (0.0, 23.0, '')}


def read_prsa_csv(path: str, required: Sequence[str] = REQUIRED) -> pd.DataFrame:
    """Read one PRSA CSV strictly: every row must have the header's number of fields, every
    required column must exist, numeric fields must be numbers or ``NA``.

    Returns a DataFrame with float columns (NaN = missing) and string ``wd``/``station``
    (None = missing), plus ``_line`` (1-based line number in the file)."""
    try:
        with open(path, 'rb') as f:
            raw = f.read()
        text = decode_text(raw, path)  # a decoding error names the byte offset and line
        rows = list(csv.reader(io.StringIO(text, newline='')))
    except (OSError, csv.Error) as exc:
        raise DataError(f'{path}: cannot read the CSV file ({exc})') from exc
    if not rows:
        raise DataError(f'{path}: empty file, expected a header and rows')
    header = [h.strip() for h in rows[0]]
    missing = [c for c in required if c not in header]
    if missing:
        raise DataError(f'{path}: missing required column(s) {missing} '
                        f'(header has {header})')
    width = len(header)
    body, lines = [], []
    for lineno, row in enumerate(rows[1:], 2):
        if not row:  # a blank line (e.g. at the end)
            continue
        if len(row) != width:
            raise DataError(f'{path}, line {lineno}: {len(row)} fields, expected {width} '
                            f'(the header\'s columns)')
        body.append(row)
        lines.append(lineno)
    frame = pd.DataFrame(body, columns=header)
    out = pd.DataFrame({'_line': np.asarray(lines, dtype=np.int64)})
    for col in required:
        values = frame[col].str.strip()
        is_na = values.isin(_NA)
        if col in STRING_COLUMNS:
            out[col] = values.where(~is_na, None)
            continue
        numbers = pd.to_numeric(values.where(~is_na, np.nan), errors='coerce')
        bad = numbers.isna() & ~is_na
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f'{path}, line {lines[i]}: column {col!r} has {values.iloc[i]!r}, '
                            f'expected a number or NA')
        if col in PRSA_RANGES:
            low, high, unit = PRSA_RANGES[col]
            finite = np.isfinite(numbers.to_numpy())  # inf: refused later, naming the policy
            outside = finite & ((numbers < low) | (numbers > high)).to_numpy()
            if outside.any():
                i = int(np.flatnonzero(outside)[0])
                raise DataError(f'{path}, line {lines[i]}: column {col!r} has '
                                f'{values.iloc[i]!r}, outside the declared range [{low:g}, '
                                f'{high:g}] {unit}'.rstrip() + '; expected a physical value or NA')
        out[col] = numbers.astype(np.float64)
    return out


def _bin_edges(values: np.ndarray, bins: int) -> np.ndarray:
    """Quantile bin edges (unique) of the finite training values."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.zeros(2)
    edges = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, bins + 1)))
    return edges if edges.size >= 2 else np.array([edges[0], edges[0]])


def quantise(values: np.ndarray, edges: np.ndarray,
             outside: str = 'clip') -> tuple[np.ndarray, np.ndarray]:
    """Values -> (bin index + 1, position inside the bin in [0, 1]); NaN -> (0, 0).

    Values outside the training range go to the first/last bin (``outside='clip'``) or become
    the missing token (``outside='missing'``)."""
    if outside not in ('clip', 'missing'):
        raise ValueError(f"quantise: outside must be 'clip' or 'missing', got {outside!r}")
    nb = edges.size - 1
    finite = np.isfinite(values)
    if outside == 'missing':
        finite = finite & (values >= edges[0]) & (values <= edges[-1])
    v = np.where(finite, values, edges[0])
    b = np.clip(np.searchsorted(edges, v, side='right') - 1, 0, nb - 1)
    lo, hi = edges[b], edges[b + 1]
    width = hi - lo
    frac = np.where(width > 0, (v - lo) / np.where(width > 0, width, 1.0), 0.0)
    frac = np.clip(frac, 0.0, 1.0)
    return np.where(finite, b + 1, 0).astype(np.int64), np.where(finite, frac, 0.0).astype(
        np.float32)


_CACHE: dict = {}


def _cache_key(files: list, **settings) -> str:
    h = hashlib.sha1()
    for f in files:
        st = os.stat(f)
        h.update(f'{os.path.abspath(f)}:{st.st_size}:{st.st_mtime_ns}'.encode())
    h.update(repr(sorted(settings.items())).encode())
    return h.hexdigest()


@DATASETS.register_module()
class PRSADataset(BaseDataset):
    """Args:
        data_root: folder of PRSA CSV files (or one CSV file).
        split: ``'train'`` or ``'test'`` (``'val'`` is the test split).
        split_mode: ``'random'`` or ``'chronological'`` (see module docstring).
        train_ratio: fraction of rows (random) or of the time span (chronological) for training.
        seed: seed of the random split.
        columns: token columns, ``dict(name=..., bins=...)`` (``bins`` for continuous columns).
        bins: default number of quantile bins of a continuous column.
        missing: ``{column: policy}`` with ``'default'`` for inputs not named (see docstring).
        max_files: read only the first ``max_files`` CSVs (sorted), e.g. for quick checks.
        subsample: keep a seeded random fraction of this split's rows (``default_rng(seed +
            1)``; 1.0 = all), for evaluating on a fixed subset when compute is short.
    """

    MODALITIES = ('table',)

    def __init__(self, data_root: str = '', split: str = 'train', split_mode: str = 'random',
                 train_ratio: float = 0.4, seed: int = 0,
                 columns: Sequence[dict] = DEFAULT_COLUMNS, bins: int = 64,
                 missing: Optional[dict] = None, max_files: Optional[int] = None,
                 subsample: float = 1.0, **kwargs):
        if split_mode not in ('random', 'chronological'):
            raise ValueError(f"PRSADataset: split_mode must be 'random' or 'chronological', "
                             f'got {split_mode!r}')
        if split not in ('train', 'val', 'test'):
            raise ValueError(f"PRSADataset: split must be 'train', 'val' or 'test', got {split!r}")
        if not 0.0 < train_ratio < 1.0:
            raise ValueError(f'PRSADataset: train_ratio must be in (0, 1), got {train_ratio}')
        self.split_mode, self.train_ratio, self.seed = split_mode, train_ratio, seed
        self.columns = [dict(c) for c in columns]
        self.bins = bins
        self.missing = dict(missing or {})
        self.missing.setdefault(TARGET, 'drop')
        self.missing.setdefault('default', 'mask')
        for col, policy in self.missing.items():
            if policy not in POLICIES:
                raise ValueError(f'PRSADataset: missing[{col!r}]={policy!r}, expected one of '
                                 f'{POLICIES}')
        if self.missing[TARGET] != 'drop':
            raise ValueError(f"PRSADataset: the target {TARGET!r} can only use the 'drop' policy")
        if not 0.0 < subsample <= 1.0:
            raise ValueError(f'PRSADataset: subsample must be in (0, 1], got {subsample}')
        self.max_files, self.subsample = max_files, subsample
        super().__init__(data_root=data_root, split=split, **kwargs)

    # ------------------------------------------------------------------ reading
    def _files(self) -> list:
        if os.path.isfile(self.data_root):
            return [self.data_root]
        if not os.path.isdir(self.data_root):
            raise DataError(f'PRSADataset: data_root not found: {self.data_root}')
        files = sorted(glob.glob(os.path.join(self.data_root, '*.csv')))
        if not files:
            raise DataError(f'PRSADataset: no *.csv file in {self.data_root}')
        return files[:self.max_files] if self.max_files else files

    def policy(self, column: str) -> str:
        return self.missing.get(column, self.missing['default'])

    def _prepare(self) -> dict:
        """Read all files, apply the missing-value policy, split, tokenise (cached)."""
        files = self._files()
        key = _cache_key(files, split_mode=self.split_mode, train_ratio=self.train_ratio,
                         seed=self.seed, columns=repr(self.columns), bins=self.bins,
                         missing=repr(sorted(self.missing.items())))
        if key in _CACHE:
            return _CACHE[key]
        frames = []
        for path in files:
            frame = read_prsa_csv(path)
            frame['_file'] = path
            frames.append(frame)
        df = pd.concat(frames, ignore_index=True)
        counts = {c: int(df[c].isna().sum()) for c in REQUIRED}
        print_log(f'PRSADataset: {len(df)} rows from {len(files)} file(s); missing values per '
                  f'column: { {c: n for c, n in counts.items() if n} }', logger='current')
        stamp = pd.to_datetime(dict(year=df.year, month=df.month, day=df.day, hour=df.hour),
                               errors='coerce')
        if stamp.isna().any():
            i = int(np.flatnonzero(stamp.isna().to_numpy())[0])
            raise DataError(f'{df._file.iloc[i]}, line {df._line.iloc[i]}: year/month/day/hour '
                            f'do not form a valid timestamp (expected present calendar values)')
        df['weekday'] = stamp.dt.day_of_week.astype(np.float64)
        t0 = stamp.min()
        df['time'] = ((stamp - t0) / pd.Timedelta(hours=1)).astype(np.float64)

        # target and inputs whose policy is 'drop': remove the rows (counted)
        names = [c['name'] for c in self.columns]
        for name in names:
            if name not in df.columns:
                raise DataError(f'PRSADataset: unknown column {name!r} in `columns` '
                                f'(available: {sorted(set(df.columns) - {"_file", "_line"})})')
        keep = df[TARGET].notna().to_numpy()
        dropped = {TARGET: int((~keep).sum())}
        for name in names:
            if self.policy(name) == 'drop':
                miss = df[name].isna().to_numpy() & keep
                dropped[name] = int(miss.sum())
                keep &= ~miss
        df = df[keep].reset_index(drop=True)
        print_log(f'PRSADataset: dropped rows (policy "drop") per column: {dropped}; '
                  f'{len(df)} rows remain', logger='current')
        for name in names:
            if self.policy(name) == 'error' and df[name].isna().any():
                i = int(np.flatnonzero(df[name].isna().to_numpy())[0])
                raise DataError(f'{df._file.iloc[i]}, line {df._line.iloc[i]}: column {name!r} '
                                f'is missing (policy "error"); expected a value')

        n = len(df)
        if n < 2:
            raise DataError(f'PRSADataset: {n} usable row(s) in {self.data_root}, expected more')
        if self.split_mode == 'random':
            order = np.random.default_rng(self.seed).permutation(n)
            is_train = np.zeros(n, dtype=bool)
            is_train[order[:int(round(self.train_ratio * n))]] = True
        else:
            t = df['time'].to_numpy()
            cut = t.min() + self.train_ratio * (t.max() - t.min() + 1)
            is_train = t < cut
        if not is_train.any() or is_train.all():
            raise DataError(f'PRSADataset: the {self.split_mode} split leaves an empty train or '
                            f'test part ({int(is_train.sum())} of {n} rows in train)')

        index = np.zeros((n, len(names)), dtype=np.int64)
        frac = np.zeros((n, len(names)), dtype=np.float32)
        policy_counts = {}
        for j, spec in enumerate(self.columns):
            name = spec['name']
            col = df[name]
            policy = self.policy(name)
            n_missing = int(col.isna().sum())
            if name in DISCRETE:
                values = col.astype(str).where(col.notna(), None) if name not in STRING_COLUMNS \
                    else col
                train_vals = values[is_train].dropna()
                vocab = sorted(train_vals.unique().tolist())
                if policy == 'impute' and n_missing:
                    if train_vals.empty:
                        raise DataError(f'PRSADataset: column {name!r} has no training value to '
                                        f'impute from; expected at least one')
                    values = values.fillna(train_vals.mode().iloc[0])
                lookup = {v: i + 1 for i, v in enumerate(vocab)}
                idx = values.map(lookup)
                unseen = int((idx.isna() & values.notna()).sum())
                if unseen:
                    print_log(f'PRSADataset: column {name!r}: {unseen} value(s) not in the '
                              f'training vocabulary -> missing token', logger='current',
                              level=30)
                index[:, j] = idx.fillna(0).to_numpy(dtype=np.int64)
            else:
                values = col.to_numpy(dtype=np.float64)
                if policy == 'impute' and n_missing:
                    med = np.nanmedian(values[is_train]) if np.isfinite(
                        values[is_train]).any() else np.nan
                    values = np.where(np.isnan(values), med, values)
                bad = ~np.isfinite(values) if policy != 'mask' else np.isinf(values)
                if bad.any():
                    i = int(np.flatnonzero(bad)[0])
                    raise DataError(
                        f'{df._file.iloc[i]}, line {df._line.iloc[i]}: column {name!r} is '
                        f'{values[i]} after the missing-value policy {policy!r}; expected a '
                        f'finite number ({int(bad.sum())} such value(s) in this column)')
                edges = _bin_edges(values[is_train], int(spec.get('bins', self.bins)))
                outside = spec.get('outside', 'clip')
                index[:, j], frac[:, j] = quantise(values, edges, outside)
                if outside == 'missing':
                    n_out = int((np.isfinite(values) & (index[:, j] == 0)).sum())
                    print_log(f'PRSADataset: column {name!r}: {n_out} value(s) outside the '
                              f'training range -> missing token', logger='current')
            policy_counts[name] = f'{policy}:{n_missing}'
        print_log(f'PRSADataset: missing inputs handled per column (policy:count): '
                  f'{policy_counts}', logger='current')
        target = df[TARGET].to_numpy(dtype=np.float32)
        prepared = dict(index=index, frac=frac, target=target, is_train=is_train,
                        column_names=names, frame=df)
        _CACHE.clear()  # keep one dataset in memory
        _CACHE[key] = prepared
        return prepared

    # ------------------------------------------------------------------ dataset API
    def load_samples(self) -> list:
        prep = self._prepare()
        self._index, self._frac = prep['index'], prep['frac']
        self._target, self.column_names = prep['target'], prep['column_names']
        self._is_train = prep['is_train']
        self._frame = prep['frame']
        rows = np.flatnonzero(self._is_train if self.split == 'train' else ~self._is_train)
        total = rows.size
        if self.subsample < 1.0:
            keep = np.random.default_rng(self.seed + 1).permutation(total)
            rows = np.sort(rows[keep[:max(1, int(round(self.subsample * total)))]])
        print_log(f'PRSADataset[{self.split}, {self.split_mode}]: {rows.size} rows (of '
                  f'{total}; subsample={self.subsample})', logger='current')
        return rows.tolist()

    @property
    def metainfo(self) -> dict:
        return dict(columns=self.column_names, target=TARGET, split_mode=self.split_mode)

    def get_sample(self, index: int) -> dict:
        row = self.samples[index]
        return {'table': {'index': self._index[row], 'frac': self._frac[row]},
                'gt_value': float(self._target[row]), 'row': int(row)}

    def stats(self) -> dict:
        y = self._target[self._is_train].astype(np.float64)
        return {'target': {'mean': [float(y.mean())], 'std': [float(y.std())]}}

    def full_split_frame(self) -> pd.DataFrame:
        """All rows of this split (ignoring ``subsample``), baseline features and target."""
        rows = np.flatnonzero(self._is_train if self.split == 'train' else ~self._is_train)
        return self._frame.iloc[rows][list(BASELINE_FEATURES) + [TARGET]]

    def baseline_frame(self) -> pd.DataFrame:
        """This split's rows with the raw baseline features and the target (NaN kept)."""
        rows = np.asarray(self.samples)
        return self._frame.iloc[rows][list(BASELINE_FEATURES) + [TARGET]]
