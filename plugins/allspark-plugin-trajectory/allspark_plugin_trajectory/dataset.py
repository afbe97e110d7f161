"""``ETHUCYDataset``: pedestrian windows from ETH-UCY text files (the Social-GAN fold layout).

Format (one file per scene and split, ``<data_root>/<split>/*.txt``): whitespace-separated rows
``frame_id ped_id x y`` (x, y in metres; ETH-UCY annotates every 10th frame = 0.4 s, 2.5 fps).

Windows: every pedestrian and every start frame where the pedestrian is annotated on
``obs_len + pred_len`` consecutive annotated frames (frame step inferred per file, 10 in ETH-UCY)
gives one window, with a stride of one frame step.  Every pedestrian window is counted, also those
where the pedestrian is alone (Social-GAN's loader keeps only frames with at least two
pedestrians: ``min_peds=2`` reproduces that filter).  A track shorter than one window is skipped
and counted (``self.skipped_short``), not an error.

Each sample, in a local frame centred on the last observed position::

    trajectory = dict(obs (T_obs, 2), nbr (N, T_obs, 2), nbr_pad (N,) True = no neighbour)
    gt_seq     (T_pred, 2)   future positions
    origin (2,), rot (2, 2)  world = local @ inv(rot) + origin (transforms keep this up to date)
    seq_prior_linear (T_pred, 2)   with ``linear_prior=True``: the forecast of a rotation-
                             equivariant linear regression fitted on the fold's ``train/`` windows
                             (``EquivariantTrajectoryRegressor``), for ``SequenceRegHead(
                             prior_key='seq_prior_linear')``; transforms map it with the track

Neighbours are the other pedestrians annotated on the last observed frame, nearest first (at most
``max_neighbors``); a neighbour missing on an earlier observed frame takes its nearest annotated
position inside the observation window.

Splits: ``train``/``val``/``test`` folders of a leave-one-scene-out fold (for the ``eth`` fold,
test = ``biwi_eth.txt``, train/val = the other scenes).  Any folder with this layout works.

Citation: Pellegrini et al., ICCV 2009 (ETH); Lerner et al., Eurographics 2007 (UCY);
Gupta et al., Social GAN, CVPR 2018 (fold layout).
"""
from __future__ import annotations

import glob
import math
import os
from typing import Optional

import numpy as np

from allspark.datasets import BaseDataset, DataError
from allspark.datasets.validation import PHYSICAL_RANGES, check_path, decode_text
from allspark.registry import DATASETS

COLUMNS = ('frame_id', 'ped_id', 'x', 'y')
_LINEAR_PRIOR_CACHE: dict = {}  # training folder and window settings -> coefficients


def read_trajectory_file(path: str) -> np.ndarray:
    """Parse ``frame ped x y`` rows into a float64 ``(R, 4)`` array.

    Raises ``DataError`` naming the file, line and column for a row with the wrong number of
    columns, a non-numeric value, a NaN/inf value or a position outside the declared range
    (``PHYSICAL_RANGES['metres']``), and the byte offset of bytes that are not UTF-8.
    """
    check_path(path)
    with open(path, 'rb') as f:
        text = decode_text(f.read(), path)
    metres = PHYSICAL_RANGES['metres']
    rows = []
    for lineno, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != len(COLUMNS):
            raise DataError(f'{path}, line {lineno}: expected {len(COLUMNS)} whitespace-'
                            f'separated columns {COLUMNS}, got {len(parts)}: {line.strip()!r}')
        values = []
        for name, text_value in zip(COLUMNS, parts):
            try:
                value = float(text_value)
            except ValueError:
                raise DataError(f'{path}, line {lineno}, column {name!r}: expected a number, '
                                f'got {text_value!r}') from None
            if not math.isfinite(value):
                raise DataError(f'{path}, line {lineno}, column {name!r}: expected a finite '
                                f'number, got {text_value!r} (no missing-value policy for '
                                f'coordinates: remove the row)')
            if name in ('x', 'y') and not metres.low <= value <= metres.high:
                raise DataError(f'{path}, line {lineno}, column {name!r}: {text_value} is '
                                f'outside the declared range; expected {metres.describe()} '
                                f'(such a row gives inf model inputs)')
            values.append(value)
        rows.append(values)
    if not rows:
        raise DataError(f'{path}: no rows (expected {" ".join(COLUMNS)} per line)')
    return np.asarray(rows, dtype=np.float64)


def _frame_step(data: np.ndarray) -> float:
    """The annotation step of a file: the most common frame difference within tracks."""
    diffs = []
    for ped in np.unique(data[:, 1]):
        frames = np.sort(data[data[:, 1] == ped, 0])
        diffs.append(np.diff(frames))
    diffs = np.concatenate(diffs) if diffs else np.zeros(0)
    diffs = diffs[diffs > 0]
    if diffs.size == 0:
        return 1.0
    values, counts = np.unique(diffs, return_counts=True)
    return float(values[np.argmax(counts)])


@DATASETS.register_module()
class ETHUCYDataset(BaseDataset):
    """Args:
        data_root: a fold folder holding ``train/``, ``val/``, ``test/`` with ``*.txt`` files.
        split: sub-folder to read.
        obs_len, pred_len: observed and predicted steps (8 and 12: 3.2 s and 4.8 s).
        max_neighbors: neighbour tracks given as context tokens (0: none).
        min_peds: keep a window only if at least this many pedestrians are annotated on each of
            its frames (1: every pedestrian window; 2: Social-GAN's filter, approximately).
        frame_step: annotation step; ``None`` infers it per file.
        subsample: keep every ``subsample``-th window (a cheaper validation set).
        linear_prior: add ``seq_prior_linear`` to every sample, from a regression fitted on the
            windows of ``<data_root>/train`` only (the same fit for every split; never on the
            split being read unless it is ``train``).
        linear_prior_ridge: its ridge.
    """

    MODALITIES = ('trajectory',)

    def __init__(self, data_root: str = '', split: str = 'train', obs_len: int = 8,
                 pred_len: int = 12, max_neighbors: int = 8, min_peds: int = 1,
                 frame_step: Optional[float] = None, subsample: int = 1,
                 linear_prior: bool = False, linear_prior_ridge: float = 1e-3, **kwargs):
        self.obs_len, self.pred_len, self.subsample = obs_len, pred_len, max(1, int(subsample))
        self.max_neighbors, self.min_peds, self.frame_step = max_neighbors, min_peds, frame_step
        self.linear_prior_coef = None
        super().__init__(data_root=data_root, split=split, **kwargs)
        if linear_prior:
            self.linear_prior_coef = self._fit_linear_prior(linear_prior_ridge)

    def _fit_linear_prior(self, ridge: float) -> np.ndarray:
        """``C (T_pred, T_obs)`` of the equivariant regression on the ``train/`` windows (every
        window, unsubsampled), cached per training folder and window settings."""
        from .baselines import EquivariantTrajectoryRegressor, windows

        folder = os.path.abspath(os.path.join(self.data_root, 'train'))
        files = sorted(glob.glob(os.path.join(folder, '*.txt')))
        key = (tuple((f, os.path.getmtime(f)) for f in files), self.obs_len, self.pred_len,
               self.min_peds, self.frame_step, float(ridge))
        if key not in _LINEAR_PRIOR_CACHE:
            # neighbours are not needed for the fit: a neighbour-free read is the cheap one
            train = ETHUCYDataset(data_root=self.data_root, split='train', obs_len=self.obs_len,
                                  pred_len=self.pred_len, max_neighbors=0,
                                  min_peds=self.min_peds, frame_step=self.frame_step,
                                  pipeline=[])
            fit = EquivariantTrajectoryRegressor(ridge).fit(*windows(train))
            _LINEAR_PRIOR_CACHE[key] = fit.coef.astype(np.float32)
        return _LINEAR_PRIOR_CACHE[key]

    # ------------------------------------------------------------------ listing
    def load_samples(self) -> list[dict]:
        folder = os.path.join(self.data_root, self.split)
        files = sorted(glob.glob(os.path.join(folder, '*.txt')))
        if not files:
            raise DataError(f'ETHUCYDataset: no *.txt trajectory files in {folder}')
        seq_len = self.obs_len + self.pred_len
        self.scenes: dict[str, dict] = {}
        self.skipped_short = 0  # tracks shorter than one window
        self.skipped_crowd = 0  # windows dropped by min_peds
        self.num_tracks = 0
        samples = []
        for path in files:
            data = read_trajectory_file(path)
            scene = os.path.splitext(os.path.basename(path))[0]
            step = self.frame_step or _frame_step(data)
            tracks, frame_peds = {}, {}
            for ped in np.unique(data[:, 1]):
                rows = data[data[:, 1] == ped]
                rows = rows[np.argsort(rows[:, 0])]
                tracks[ped] = (rows[:, 0], rows[:, 2:4])
            for fr, ped in data[:, :2]:
                frame_peds.setdefault(fr, []).append(ped)
            self.scenes[scene] = dict(path=path, tracks=tracks, frame_peds=frame_peds, step=step)
            for ped, (frames, _) in tracks.items():
                self.num_tracks += 1
                if len(frames) < seq_len:
                    self.skipped_short += 1
                    continue
                consecutive = np.isclose(np.diff(frames), step)
                # start i is valid if frames[i..i+seq_len-1] are consecutive
                run = np.concatenate([[0], np.cumsum(consecutive)])
                starts = [i for i in range(len(frames) - seq_len + 1)
                          if run[i + seq_len - 1] - run[i] == seq_len - 1]
                if not starts:
                    self.skipped_short += 1
                    continue
                for i in starts:
                    if self.min_peds > 1 and min(
                            len(frame_peds[f]) for f in frames[i:i + seq_len]) < self.min_peds:
                        self.skipped_crowd += 1
                        continue
                    samples.append(dict(scene=scene, ped_id=float(ped), start=int(i),
                                        frame=float(frames[i + self.obs_len - 1])))
        return samples[::self.subsample]

    # ------------------------------------------------------------------ reading
    def _neighbors(self, scene: dict, ped: float, obs_frames: np.ndarray,
                   origin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = self.max_neighbors
        nbr = np.zeros((n, self.obs_len, 2), dtype=np.float32)
        pad = np.ones(n, dtype=bool)
        if n == 0:
            return nbr, pad
        others = [p for p in scene['frame_peds'].get(obs_frames[-1], []) if p != ped]
        found = []
        for other in others:
            frames, xy = scene['tracks'][other]
            inside = (frames >= obs_frames[0]) & (frames <= obs_frames[-1])
            fr, pts = frames[inside], xy[inside]
            # nearest annotated position inside the window for every observed frame
            idx = np.abs(obs_frames[:, None] - fr[None, :]).argmin(1)
            track = pts[idx] - origin
            found.append((float(np.linalg.norm(track[-1])), track))
        found.sort(key=lambda t: t[0])
        for j, (_, track) in enumerate(found[:n]):
            nbr[j], pad[j] = track, False
        return nbr, pad

    def get_sample(self, index: int) -> dict:
        rec = self.samples[index]
        scene = self.scenes[rec['scene']]
        frames, xy = scene['tracks'][rec['ped_id']]
        i, seq_len = rec['start'], self.obs_len + self.pred_len
        window = xy[i:i + seq_len]
        origin = window[self.obs_len - 1].copy()
        local = (window - origin).astype(np.float32)
        nbr, pad = self._neighbors(scene, rec['ped_id'], frames[i:i + self.obs_len], origin)
        sample = dict(trajectory=dict(obs=local[:self.obs_len], nbr=nbr, nbr_pad=pad),
                      gt_seq=local[self.obs_len:], origin=origin.astype(np.float32),
                      rot=np.eye(2, dtype=np.float32), scene=rec['scene'],
                      ped_id=rec['ped_id'], frame=rec['frame'])
        if self.linear_prior_coef is not None:
            sample['seq_prior_linear'] = self.linear_prior_coef @ local[:self.obs_len]
        return sample

    def stats(self) -> dict:
        """Target statistics of the training windows (one shared std for x and y)."""
        fut = np.stack([self.get_sample(i)['gt_seq'] for i in
                        range(0, len(self), max(1, len(self) // 2000))])
        std = float(fut.reshape(-1, 2).std())
        return {'target': {'mean': [0.0, 0.0], 'std': [std, std]}}

    def summary(self) -> str:
        return (f'{type(self).__name__}({self.split}): {len(self)} windows from '
                f'{len(self.scenes)} files, {self.num_tracks} tracks, '
                f'{self.skipped_short} tracks shorter than {self.obs_len + self.pred_len} '
                f'consecutive steps skipped, {self.skipped_crowd} windows dropped by '
                f'min_peds={self.min_peds}')
