"""Tiny ETH-UCY fixtures in the original format (tab-separated ``frame ped x y`` text files),
laid out as leave-one-scene-out folds, written into a test's ``tmp_path``."""
from __future__ import annotations

import os
from typing import Sequence

import numpy as np


def write_scene(path: str, n_peds: int = 3, length: int = 24, short: int = 0, seed: int = 0,
                first_frame: int = 0) -> str:
    """A scene file: ``n_peds`` walkers at constant velocity plus noise, every 10 frames;
    ``short`` extra pedestrians with 10-step tracks (too short for a window)."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_peds):
        start = rng.uniform(-5, 5, 2)
        vel = rng.uniform(-0.5, 0.5, 2)
        for t in range(length):
            x, y = start + vel * t + 0.02 * rng.standard_normal(2)
            rows.append((first_frame + 10 * t, p + 1, x, y))
    for q in range(short):
        for t in range(10):
            rows.append((first_frame + 10 * t, 100 + q, 0.3 * t, 1.0))
    rows.sort()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        for fr, p, x, y in rows:
            f.write(f'{fr:.1f}\t{p:.1f}\t{x:.3f}\t{y:.3f}\n')
    return path


def make_fold(root: str, test_scenes: Sequence[str] = ('scene_test',), seed: int = 0) -> str:
    """``<root>/{train,val,test}/<scene>.txt``: one fold (test = ``test_scenes``)."""
    write_scene(os.path.join(root, 'train', 'scene_a_train.txt'), seed=seed)
    write_scene(os.path.join(root, 'val', 'scene_a_val.txt'), seed=seed + 1)
    for i, name in enumerate(test_scenes):
        write_scene(os.path.join(root, 'test', f'{name}.txt'), seed=seed + 2 + i, short=1)
    return str(root)


def make_eth_ucy(root: str, folds: Sequence[str] = ('eth', 'univ')) -> str:
    """``<root>/<fold>/...`` for each of ``folds`` (different scenes per fold)."""
    for i, fold in enumerate(folds):
        make_fold(os.path.join(root, fold), test_scenes=(f'{fold}_test',), seed=10 * i)
    return str(root)
