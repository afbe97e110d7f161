"""``CoordinateTableDataset``: a CSV of coordinates with a regression target or a class column.

Any CSV with a header line works, e.g. SatCLIP's air-temperature stations
(``Lon, Lat, ..., meanT, meanP``) or California housing (``longitude, latitude, ...,
median_house_value``).  Coordinates become the ``location`` input, ``(lat, lon)`` degrees in that
order.
"""
from __future__ import annotations

import csv
import math
import os
from typing import Optional, Sequence, Union

import numpy as np

from allspark.datasets import BaseDataset, DataError
from allspark.registry import DATASETS

SPLITS = ('train', 'test', 'all')


def _parse_float(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


@DATASETS.register_module()
class CoordinateTableDataset(BaseDataset):
    """Coordinates from a CSV table, with a regression target (``gt_value``) or a class
    (``gt_label``).

    Format: a CSV file with a header line; ``lat_column`` / ``lon_column`` hold decimal degrees
    (WGS 84), ``target_column`` (one name or a list) floats, ``class_column`` any text.  Other
    columns are ignored.

    Splits: ``split_mode='random'``: a seeded random permutation of all valid rows, the first
    ``round(train_ratio * N)`` are ``'train'``, the rest ``'test'`` (SatCLIP's air-temperature
    protocol is ``train_ratio=0.5``); the same ``seed`` gives the same split for every method.
    ``split_mode='column'``: the value of ``split_column`` names each row's split.  ``'all'``
    takes every row.

    Validation (every row, on load): a latitude or longitude that is empty, not a number, NaN,
    inf, ``|lat| > 90`` or ``|lon| > 180`` raises :class:`~allspark.datasets.DataError` naming the
    file, the line and the value.  When the latitude column leaves [-90, 90] while the longitude
    column stays inside it, the columns are reported as swapped (this dataset takes
    ``(lat, lon)``; SatCLIP's tables and encoders put longitude first).  A missing target is an
    error too, unless ``missing_target='drop'`` (dropped rows are counted in ``self.dropped``).

    Samples: ``{'location': float32 (2,) = (lat, lon), 'gt_value': float32 (T,) | float,
    'gt_label': int, 'line': int (1-based line in the file), 'lat', 'lon'}``.

    Args:
        data_root: the CSV file, or the folder holding ``file``.
        file: CSV name inside ``data_root`` (ignored when ``data_root`` is a file).
        lat_column, lon_column: coordinate column names.
        target_column: regression target column(s) (``None`` for classification / none).
        class_column: class column (``None`` for regression); ``classes`` fixes the class list
            (default: the sorted distinct values of the whole file, so splits agree).
        log_target: regress ``log1p(target)`` (skewed targets such as house values).

    Citation (the two tables it was written for): J. Hooker et al., "A global dataset of air
    temperature derived from satellite remote sensing and weather stations", Scientific Data 5,
    2018; R. K. Pace, R. Barry, "Sparse spatial autoregressions", Stat. Prob. Letters 33(3), 1997;
    protocol: K. Klemmer et al., "SatCLIP", AAAI 2025.
    """

    MODALITIES = ('location',)

    def __init__(self, data_root: str = '', split: str = 'train', pipeline: Sequence = (),
                 file: str = '', lat_column: str = 'lat', lon_column: str = 'lon',
                 target_column: Union[str, Sequence[str], None] = None,
                 class_column: Optional[str] = None, classes: Optional[Sequence[str]] = None,
                 split_mode: str = 'random', train_ratio: float = 0.5, seed: int = 0,
                 split_column: Optional[str] = None, missing_target: str = 'error',
                 log_target: bool = False, **kwargs):
        if split_mode not in ('random', 'column'):
            raise ValueError(f"CoordinateTableDataset: split_mode must be 'random' or 'column', "
                             f"got {split_mode!r}")
        if split_mode == 'random' and split not in SPLITS:
            raise ValueError(f'CoordinateTableDataset: split must be one of {SPLITS} with '
                             f"split_mode='random', got {split!r}")
        if split_mode == 'column' and not split_column:
            raise ValueError("CoordinateTableDataset: split_mode='column' needs split_column")
        if missing_target not in ('error', 'drop'):
            raise ValueError(f"CoordinateTableDataset: missing_target must be 'error' or 'drop', "
                             f"got {missing_target!r}")
        if not 0.0 < train_ratio < 1.0:
            raise ValueError(f'CoordinateTableDataset: train_ratio must be in (0, 1), '
                             f'got {train_ratio}')
        self.file = file
        self.lat_column, self.lon_column = lat_column, lon_column
        self.target_columns = ([target_column] if isinstance(target_column, str)
                               else list(target_column or []))
        self.class_column, self._given_classes = class_column, classes
        self.split_mode, self.train_ratio, self.seed = split_mode, train_ratio, seed
        self.split_column, self.missing_target = split_column, missing_target
        self.log_target = log_target
        self.dropped: list[int] = []
        self.classes: list[str] = []
        super().__init__(data_root=data_root, split=split, pipeline=pipeline, **kwargs)

    # ------------------------------------------------------------------ reading
    @property
    def path(self) -> str:
        if os.path.isfile(self.data_root) or not self.file:
            return self.data_root
        return os.path.join(self.data_root, self.file)

    def _read_rows(self) -> tuple[list[str], list[tuple[int, dict]]]:
        path = self.path
        if not os.path.isfile(path):
            raise DataError(f'CoordinateTableDataset: CSV file not found: {path}')
        with open(path, newline='', encoding='utf-8-sig') as f:
            reader = csv.DictReader(f)
            header = list(reader.fieldnames or [])
            needed = [self.lat_column, self.lon_column] + self.target_columns
            needed += [c for c in (self.class_column, self.split_column) if c]
            missing = [c for c in needed if c not in header]
            if missing:
                raise DataError(f'CoordinateTableDataset: {path} has no column(s) {missing}; '
                                f'its columns are {header}')
            rows = [(reader.line_num, row) for row in reader]
        if not rows:
            raise DataError(f'CoordinateTableDataset: {path} has a header but no rows')
        return header, rows

    def _check_coordinates(self, rows: list[tuple[int, dict]]) -> np.ndarray:
        path = self.path
        lat = np.array([_parse_float(r[self.lat_column]) for _, r in rows])
        lon = np.array([_parse_float(r[self.lon_column]) for _, r in rows])
        finite = np.isfinite(lat) & np.isfinite(lon)
        if finite.any() and np.abs(lat[finite]).max() > 90 and np.abs(lon[finite]).max() <= 90 \
                and np.abs(lat[finite]).max() <= 180:
            worst = int(np.flatnonzero(finite & (np.abs(lat) > 90))[0])
            raise DataError(
                f'CoordinateTableDataset: {path}: the latitude column {self.lat_column!r} has '
                f'values outside [-90, 90] (first at line {rows[worst][0]}: '
                f'{rows[worst][1][self.lat_column]!r}) while the longitude column '
                f'{self.lon_column!r} stays within [-90, 90]: the columns look swapped. This '
                f'dataset takes (lat, lon); set lat_column={self.lon_column!r}, '
                f'lon_column={self.lat_column!r}')
        for name, column, values, limit in (('latitude', self.lat_column, lat, 90.0),
                                            ('longitude', self.lon_column, lon, 180.0)):
            bad = ~np.isfinite(values) | (np.abs(values) > limit)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                line, raw = rows[i][0], rows[i][1][column]
                raise DataError(
                    f'CoordinateTableDataset: {path}, line {line}: {name} column {column!r} '
                    f'holds {raw!r}; expected a finite number in [-{limit:g}, {limit:g}] '
                    f'degrees ({int(bad.sum())} bad value(s) in this column)')
        return np.stack([lat, lon], axis=1)

    def _targets(self, rows: list[tuple[int, dict]]) -> tuple[Optional[np.ndarray], np.ndarray]:
        if not self.target_columns:
            return None, np.ones(len(rows), bool)
        values = np.array([[_parse_float(r[c]) for c in self.target_columns] for _, r in rows])
        ok = np.isfinite(values).all(axis=1)
        if not ok.all() and self.missing_target == 'error':
            i = int(np.flatnonzero(~ok)[0])
            bad = [c for c in self.target_columns if not np.isfinite(_parse_float(rows[i][1][c]))]
            raise DataError(
                f'CoordinateTableDataset: {self.path}, line {rows[i][0]}: target column '
                f'{bad[0]!r} holds {rows[i][1][bad[0]]!r}, expected a finite number '
                f"({int((~ok).sum())} such row(s); missing_target='drop' drops them)")
        if self.log_target:
            if (values[ok] <= -1).any():
                raise DataError(f'CoordinateTableDataset: {self.path}: log_target=True needs '
                                f'targets > -1 (log1p)')
            values = np.log1p(np.where(ok[:, None], values, 0.0))
        return values.astype(np.float32), ok

    def load_samples(self) -> list[dict]:
        _, rows = self._read_rows()
        coords = self._check_coordinates(rows)
        targets, keep = self._targets(rows)
        self.dropped = [rows[i][0] for i in np.flatnonzero(~keep)]
        if self.class_column:
            values = [r[self.class_column].strip() for _, r in rows]
            self.classes = list(self._given_classes or sorted(set(values)))
            unknown = sorted(set(values) - set(self.classes))
            if unknown:
                i = values.index(unknown[0])
                raise DataError(f'CoordinateTableDataset: {self.path}, line {rows[i][0]}: class '
                                f'{unknown[0]!r} is not in classes {self.classes}')
        valid = np.flatnonzero(keep)
        if self.split_mode == 'random':
            order = np.random.default_rng(self.seed).permutation(valid)
            n_train = int(round(self.train_ratio * len(order)))
            chosen = {'train': order[:n_train], 'test': order[n_train:], 'all': valid}[self.split]
            chosen = np.sort(chosen)
        else:
            chosen = [i for i in valid if rows[i][1][self.split_column].strip() == self.split]
            if not len(chosen):
                seen = sorted({r[self.split_column].strip() for _, r in rows})
                raise DataError(f'CoordinateTableDataset: {self.path}: no row has '
                                f'{self.split_column}={self.split!r} (values: {seen})')
        samples = []
        for i in chosen:
            line, row = rows[i]
            record = dict(location=coords[i].astype(np.float32), line=int(line),
                          lat=float(coords[i, 0]), lon=float(coords[i, 1]))
            if targets is not None:
                record['gt_value'] = targets[i] if targets.shape[1] > 1 else float(targets[i, 0])
            if self.class_column:
                record['gt_label'] = self.classes.index(row[self.class_column].strip())
            samples.append(record)
        return samples

    def get_sample(self, index: int) -> dict:
        record = dict(self.samples[index])
        record['location'] = record['location'].copy()
        return record

    # ------------------------------------------------------------------ helpers
    @property
    def metainfo(self) -> dict:
        return dict(classes=list(self.classes), file=self.path, split=self.split,
                    targets=list(self.target_columns), dropped_lines=list(self.dropped))

    def coordinates(self) -> np.ndarray:
        """``(N, 2)`` float64 ``(lat, lon)`` of this split."""
        return np.array([[s['lat'], s['lon']] for s in self.samples], dtype=np.float64)

    def targets(self) -> np.ndarray:
        """``(N, T)`` float64 regression targets of this split (after ``log_target``)."""
        if not self.target_columns:
            raise ValueError('CoordinateTableDataset: no target_column configured')
        return np.array([np.atleast_1d(s['gt_value']) for s in self.samples], dtype=np.float64)

    def stats(self) -> Optional[dict]:
        """Target mean/std of this split (use on the training split)."""
        if not self.target_columns:
            return None
        y = self.targets()
        return {'target': {'mean': y.mean(0).tolist(), 'std': y.std(0).tolist()}}
