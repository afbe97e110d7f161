"""``TrafficGraphDataset``: 12-in / 12-out windows of a traffic sensor network.

Formats (see ``allspark_plugin_graph.io``): ``los_speed.csv`` (T-GCN's Los-loop, the first 7 days
of METR-LA; no timestamps: ``start_time`` and ``step_minutes`` give them) or ``metr-la.h5`` /
``pems-bay.h5`` (DCRNN's pandas HDFStore with a DatetimeIndex).  Optional side files are checked
when configured: ``graph_sensor_locations.csv`` (columns sensor_id, latitude, longitude) and
``adj_mx.pkl`` (sensor order must match the speed file's columns).

Missing values: a reading of 0 is missing (the METR-LA convention): it stays 0 in the input, a
``valid`` flag tells the encoder, and it is left out of the loss and the metrics (``gt_mask``).
NaN / empty cells: ``nan_policy='error'`` (default) refuses them naming the sensor column;
``'zero'`` turns them into missing readings.  No NaN can reach the model.

Windows: input steps ``[t - in_steps, t)``, targets ``[t, t + out_steps)``, every ``t``; split
chronologically into ``split_ratio`` (70/10/20) of the windows in time order (DCRNN's protocol).
Statistics (z-score of the speeds, the targets) come from the training windows only.

Each sample::

    graph   = dict(x (T_in, N, 1) speed, valid (T_in, N, 1) 1/0,
                   tod (T_in,) time of day in [0, 1), dow (T_in,) day of week 0 = Monday)
    gt_seq  (N, T_out, 1)   future speed minus the anchor (``target='residual'``) or speed
    gt_mask (N, T_out, 1)   True where the future reading exists
    anchor  (N, 1)          last valid observed speed per sensor (0 for ``target='absolute'``)

Citation: Jagadish et al., CACM 2014 (METR-LA); Li et al., DCRNN, ICLR 2018; Zhao et al., T-GCN,
IEEE T-ITS 2020.
"""
from __future__ import annotations

import logging
import os
from typing import Optional, Sequence

import numpy as np
from mmengine.logging import print_log

from allspark.datasets import BaseDataset, DataError
from allspark.datasets.validation import PHYSICAL_RANGES, check_values
from allspark.registry import DATASETS

from .io import read_adj_pickle, read_sensor_locations, read_speed_csv, read_traffic_h5

SPLITS = ('train', 'val', 'test')


def load_series(path: str, start_time: str = '2012-03-01 00:00:00', step_minutes: int = 5,
                h5_key: Optional[str] = None, nan_policy: str = 'error'):
    """``values (T, N)``, ``sensor ids``, ``timestamps`` (pandas DatetimeIndex) of a speed file,
    with the NaN policy applied."""
    import pandas as pd

    if not os.path.exists(path):
        raise DataError(f'speed file not found: {path}')
    if path.endswith(('.h5', '.hdf5', '.hdf')):
        values, ids, stamps = read_traffic_h5(path, h5_key)
    else:
        values, ids = read_speed_csv(path)
        stamps = pd.date_range(start_time, periods=len(values), freq=f'{step_minutes}min')
    nan = ~np.isfinite(values)
    if nan.any():
        if nan_policy == 'zero':
            values = np.where(nan, 0.0, values)
        else:
            col = int(np.where(nan.any(0))[0][0])
            row = int(np.where(nan[:, col])[0][0])
            raise DataError(f'{path}, column {ids[col]!r}: {int(nan[:, col].sum())} NaN/empty '
                            f'reading(s) (first at step {row}); expected numbers (0 = missing). '
                            f'Set nan_policy="zero" to treat them as missing.')
    if (values < 0).any():
        col = int(np.where((values < 0).any(0))[0][0])
        raise DataError(f'{path}, column {ids[col]!r}: negative speed; expected >= 0')
    high = values > PHYSICAL_RANGES['speed_kmh'].high
    if high.any():  # 1e38 km/h is a corrupt reading, not traffic
        step, col = (int(i) for i in np.argwhere(high)[0])
        check_values(values[:, col], path, f'column {ids[col]}', 'speed_kmh', where='step')
    return values, ids, stamps


DAY_NAMES = ('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')


@DATASETS.register_module()
class TrafficGraphDataset(BaseDataset):
    """Args:
        data_root: folder of the files below.
        speed_file: ``los_speed.csv`` or ``metr-la.h5`` / ``pems-bay.h5`` (relative to
            ``data_root``).
        start_time, step_minutes: timestamps of a CSV without them.
        in_steps, out_steps: window lengths (12 and 12: one hour each at 5 minutes).
        split_ratio: chronological train/val/test fractions of the windows.
        target: ``'residual'`` (future minus the last valid observed speed) or ``'absolute'``.
        nan_policy: ``'error'`` or ``'zero'`` (see module docstring).
        relative_weight: ``lam`` in [0, 1]; when > 0 each sample carries ``gt_weight`` =
            ``(1 - lam) + lam * mean_speed / max(speed, 1)`` per future reading, which the
            ``SequenceRegHead`` multiplies into its L1 error: 0 trains for MAE, 1 for MAPE (an
            error relative to the true speed, rescaled by the training mean speed), between mixes
            the two.
        locations_file, adj_file: optional side files, checked against the sensor ids.
    """

    MODALITIES = ('graph',)

    def __init__(self, data_root: str = '', split: str = 'train',
                 speed_file: str = 'los_speed.csv', start_time: str = '2012-03-01 00:00:00',
                 step_minutes: int = 5, in_steps: int = 12, out_steps: int = 12,
                 split_ratio: Sequence[float] = (0.7, 0.1, 0.2), target: str = 'residual',
                 nan_policy: str = 'error', relative_weight: float = 0.0,
                 h5_key: Optional[str] = None,
                 locations_file: Optional[str] = None, adj_file: Optional[str] = None,
                 **kwargs):
        if split not in SPLITS:
            raise ValueError(f'TrafficGraphDataset: split must be one of {SPLITS}, got {split!r}')
        if target not in ('residual', 'absolute'):
            raise ValueError("TrafficGraphDataset: target must be 'residual' or 'absolute'")
        if nan_policy not in ('error', 'zero'):
            raise ValueError("TrafficGraphDataset: nan_policy must be 'error' or 'zero'")
        if not 0.0 <= relative_weight <= 1.0:
            raise ValueError(f'TrafficGraphDataset: relative_weight must be in [0, 1], got '
                             f'{relative_weight}')
        self.relative_weight = float(relative_weight)
        self.speed_file, self.start_time, self.step_minutes = speed_file, start_time, step_minutes
        self.in_steps, self.out_steps, self.split_ratio = in_steps, out_steps, tuple(split_ratio)
        self.target, self.nan_policy, self.h5_key = target, nan_policy, h5_key
        self.locations_file, self.adj_file = locations_file, adj_file
        super().__init__(data_root=data_root, split=split, **kwargs)

    def load_samples(self) -> list[dict]:
        path = os.path.join(self.data_root, self.speed_file)
        values, ids, stamps = load_series(path, self.start_time, self.step_minutes, self.h5_key,
                                          self.nan_policy)
        self.sensor_ids = ids
        if self.locations_file:
            loc_path = os.path.join(self.data_root, self.locations_file)
            locs = read_sensor_locations(loc_path)
            missing = [s for s in ids if s not in locs]
            if missing:
                raise DataError(f'{loc_path}: no location for sensor(s) {missing[:5]} of {path}')
            self.locations = np.array([locs[s] for s in ids])
        if self.adj_file:
            adj_path = os.path.join(self.data_root, self.adj_file)
            adj_ids, _, self.adj = read_adj_pickle(adj_path)
            if adj_ids != ids:
                raise DataError(f'{adj_path}: sensor ids differ from the columns of {path} '
                                f'(first: {adj_ids[:3]} vs {ids[:3]})')
        self.values = values.astype(np.float32)
        self.valid = values != 0
        minutes = stamps.hour * 60 + stamps.minute
        self.tod = np.asarray(minutes / 1440.0, dtype=np.float32)
        self.dow = np.asarray(stamps.day_of_week, dtype=np.int64)
        self.stamps = stamps
        n = len(values) - self.in_steps - self.out_steps + 1
        if n <= 0:
            raise DataError(f'{path}: {len(values)} steps, fewer than one window '
                            f'({self.in_steps} + {self.out_steps})')
        n_train = int(round(n * self.split_ratio[0]))
        n_val = int(round(n * self.split_ratio[1]))
        bounds = dict(train=(0, n_train), val=(n_train, n_train + n_val),
                      test=(n_train + n_val, n))
        self.num_windows, self.bounds = n, bounds
        # training statistics: the readings the training windows observe or predict
        train_end = n_train - 1 + self.in_steps + self.out_steps
        train_vals = values[:train_end][self.valid[:train_end]]
        self.speed_mean, self.speed_std = float(train_vals.mean()), float(train_vals.std())
        lo, hi = bounds[self.split]
        # days of week this split's inputs see that no training input does (their day-of-week
        # embedding is never trained; STAEGraphEncoder(dow_classes=2) avoids that)
        seen = set(self.dow[:n_train - 1 + self.in_steps].tolist())
        unseen = sorted(set(self.dow[lo:hi - 1 + self.in_steps].tolist()) - seen)
        self.unseen_days = [DAY_NAMES[d] for d in unseen]
        if self.unseen_days:
            print_log(f'TrafficGraphDataset({self.split}): {path}: days of week '
                      f'{self.unseen_days} are in this split but not in the training part; use '
                      f'weekday/weekend day classes (STAEGraphEncoder dow_classes=2)',
                      logger='current', level=logging.WARNING)
        return [dict(t=int(i + self.in_steps)) for i in range(lo, hi)]

    def window(self, t: int) -> dict:
        """Raw arrays of the window whose first target step is ``t``."""
        sl_in, sl_out = slice(t - self.in_steps, t), slice(t, t + self.out_steps)
        x, valid = self.values[sl_in], self.valid[sl_in]
        # last valid observed reading per sensor (the training mean where none)
        idx = np.where(valid, np.arange(self.in_steps)[:, None], -1).max(0)
        anchor = np.where(idx >= 0, x[np.maximum(idx, 0), np.arange(x.shape[1])],
                          self.speed_mean).astype(np.float32)
        return dict(x=x, valid=valid, y=self.values[sl_out], y_valid=self.valid[sl_out],
                    anchor=anchor, tod=self.tod[sl_in], dow=self.dow[sl_in])

    def get_sample(self, index: int) -> dict:
        t = self.samples[index]['t']
        w = self.window(t)
        anchor = w['anchor'] if self.target == 'residual' else np.zeros_like(w['anchor'])
        gt = (w['y'] - anchor[None]).T[..., None]
        sample = dict(graph=dict(x=w['x'][..., None],
                                 valid=w['valid'][..., None].astype(np.float32),
                                 tod=w['tod'], dow=w['dow']),
                      gt_seq=gt.astype(np.float32), gt_mask=w['y_valid'].T[..., None],
                      anchor=anchor[:, None], t=t)
        if self.relative_weight > 0:
            lam = self.relative_weight
            rel = self.speed_mean / np.maximum(w['y'], 1.0)  # missing (0) readings: masked anyway
            sample['gt_weight'] = ((1.0 - lam) + lam * rel).T[..., None].astype(np.float32)
        return sample

    def stats(self) -> dict:
        """Input z-score and target statistics of the training windows."""
        lo, hi = self.bounds['train']
        if self.target == 'residual':
            res = []
            for i in range(lo, hi, max(1, (hi - lo) // 500)):
                w = self.window(i + self.in_steps)
                res.append((w['y'] - w['anchor'][None])[w['y_valid']])
            res = np.concatenate(res)
            target = dict(mean=[float(res.mean())], std=[float(res.std())])
        else:
            target = dict(mean=[self.speed_mean], std=[self.speed_std])
        return {'inputs': {'graph': dict(mean=[self.speed_mean], std=[self.speed_std])},
                'target': target}

    def summary(self) -> str:
        lo, hi = self.bounds[self.split]
        return (f'{type(self).__name__}({self.split}): {len(self)} windows (of '
                f'{self.num_windows}; {self.split} = windows {lo}..{hi - 1}), '
                f'{len(self.sensor_ids)} sensors, {int((~self.valid).sum())} missing readings')
