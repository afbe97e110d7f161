"""Geolocation by retrieval over a coordinate gallery, and its scores.

A query (an embedding of any modality) is placed at the gallery coordinate whose location
embedding is most similar (GeoCLIP's protocol).  Galleries: the training coordinates, a regular
global grid (:func:`global_grid`), or GeoCLIP's 100K gallery (:func:`geoclip_gallery`, from the
optional PyPI package ``geoclip``).  Scores (:func:`geolocation_scores`): the share of queries
within 1 / 25 / 200 / 750 / 2500 km of the truth (street / city / region / country / continent)
and the median great-circle error in km.  Baseline: every query at the training-set centroid
(:func:`spherical_centroid`).

Coordinates are ``(lat, lon)`` degrees, latitude first, everywhere here.
"""
from __future__ import annotations

import os
from typing import Optional, Sequence

import numpy as np
import torch

from allspark.geo import haversine_km

THRESHOLDS_KM = (1, 25, 200, 750, 2500)


def geolocation_scores(pred_latlon: np.ndarray, true_latlon: np.ndarray,
                       thresholds_km: Sequence[float] = THRESHOLDS_KM) -> dict:
    """``(N, 2)`` predicted and true ``(lat, lon)`` -> ``{'within_<t>km', 'median_km',
    'mean_km', 'n'}`` (shares in [0, 1])."""
    pred, true = np.asarray(pred_latlon, np.float64), np.asarray(true_latlon, np.float64)
    if pred.shape != true.shape or pred.ndim != 2 or pred.shape[1] != 2:
        raise ValueError(f'geolocation_scores: need two (N, 2) (lat, lon) arrays, got '
                         f'{pred.shape} and {true.shape}')
    err = np.asarray(haversine_km(pred[:, 0], pred[:, 1], true[:, 0], true[:, 1]))
    out = {f'within_{t:g}km': float((err <= t).mean()) for t in thresholds_km}
    out.update(median_km=float(np.median(err)), mean_km=float(err.mean()), n=int(len(err)))
    return out


def spherical_centroid(latlon: np.ndarray) -> np.ndarray:
    """The normalised mean of the unit vectors of ``(N, 2)`` ``(lat, lon)`` -> ``(2,)``."""
    lat, lon = np.deg2rad(np.asarray(latlon, np.float64)).T
    xyz = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], 1)
    x, y, z = xyz.mean(0)
    return np.array([np.rad2deg(np.arctan2(z, np.hypot(x, y))), np.rad2deg(np.arctan2(y, x))])


def global_grid(step_deg: float = 1.0, lat_range: Sequence[float] = (-90.0, 90.0),
                lon_range: Sequence[float] = (-180.0, 180.0)) -> np.ndarray:
    """Cell centres of a regular ``step_deg`` grid -> ``(G, 2)`` ``(lat, lon)``."""
    lats = np.arange(lat_range[0] + step_deg / 2, lat_range[1], step_deg)
    lons = np.arange(lon_range[0] + step_deg / 2, lon_range[1], step_deg)
    grid = np.stack(np.meshgrid(lats, lons, indexing='ij'), -1).reshape(-1, 2)
    return grid.astype(np.float32)


def geoclip_gallery_path() -> Optional[str]:
    """Path of ``coordinates_100K.csv`` in the installed ``geoclip`` package, or ``None``."""
    try:
        import importlib.util
        spec = importlib.util.find_spec('geoclip')
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for root in spec.submodule_search_locations:
        for dirpath, _, files in os.walk(root):
            if 'coordinates_100K.csv' in files:
                return os.path.join(dirpath, 'coordinates_100K.csv')
    return None


def geoclip_gallery() -> np.ndarray:
    """GeoCLIP's 100K gallery ``(100000, 2)`` ``(lat, lon)`` (needs ``pip install geoclip``)."""
    path = geoclip_gallery_path()
    if path is None:
        raise FileNotFoundError('the GeoCLIP gallery needs the optional package geoclip '
                                '(pip install geoclip); coordinates_100K.csv was not found')
    import pandas as pd
    table = pd.read_csv(path)
    cols = {c.upper(): c for c in table.columns}
    lat, lon = cols.get('LAT'), cols.get('LON')
    if lat is None or lon is None:
        raise ValueError(f'{path}: expected columns LAT and LON, found {list(table.columns)}')
    return table[[lat, lon]].to_numpy(np.float32)


def retrieve_locations(query: torch.Tensor, gallery_emb: torch.Tensor,
                       gallery_latlon: np.ndarray, chunk: int = 4096, k: int = 1,
                       exclude_self: bool = False) -> np.ndarray:
    """Top-1 gallery coordinate per query: ``query (N, E)``, ``gallery_emb (G, E)`` -> ``(N, 2)``.

    ``k > 1``: the spherical centroid of the top-``k`` gallery coordinates instead (hedges
    between candidate places).  ``exclude_self``: query ``i`` may not retrieve gallery item ``i``
    (leave-one-out on the training gallery, to choose ``k`` without test data)."""
    if k > 1 or exclude_self:
        sim = query.float() @ gallery_emb.float().t()
        if exclude_self:
            sim.fill_diagonal_(-float('inf'))
        top = sim.topk(min(k, sim.shape[1]), dim=1).indices.numpy()
        latlon = np.asarray(gallery_latlon, np.float64)
        return np.stack([spherical_centroid(latlon[row]) for row in top])
    best_score = torch.full((query.shape[0],), -float('inf'))
    best = torch.zeros(query.shape[0], dtype=torch.long)
    q = query.float()
    for start in range(0, gallery_emb.shape[0], chunk):
        sim = q @ gallery_emb[start:start + chunk].float().t()
        score, idx = sim.max(1)
        better = score > best_score
        best_score[better], best[better] = score[better], idx[better] + start
    return np.asarray(gallery_latlon)[best.numpy()]
