"""Tiny SAR fixtures in the original formats (8-bit JPEG chips in class folders, PNG, TIFF,
2-channel GeoTIFF with a CRS), written into a test's ``tmp_path``."""
from __future__ import annotations

import os
from typing import Optional, Sequence

import numpy as np

CLASSES = ('2S1', 'BMP2', 'T72')


def synthetic_chip(label: int, size: tuple[int, int], rng: np.random.Generator,
                   channels: int = 1) -> np.ndarray:
    """Speckled clutter with a bright class-dependent target in the middle: float (C, H, W)."""
    h, w = size
    yy, xx = np.mgrid[:h, :w]
    cy, cx = h / 2 + rng.uniform(-3, 3), w / 2 + rng.uniform(-3, 3)
    ry, rx = 4 + 3 * label, 10 - 2 * label
    target = np.exp(-(((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2))
    out = []
    for _ in range(channels):
        clutter = rng.gamma(2.0, 0.05, size=(h, w))
        out.append(np.clip(0.1 + clutter + 0.8 * target, 0, 1))
    return np.stack(out).astype(np.float32)


def write_jpeg_tree(root: str, classes: Sequence[str] = CLASSES, per_class: int = 4,
                    sizes: Sequence[tuple[int, int]] = ((100, 100), (101, 102), (128, 128)),
                    splits: Sequence[str] = ('train', 'test'), seed: int = 0,
                    ext: str = '.JPG') -> str:
    """``<root>/<split>/<class>/<n>.JPG``: 8-bit greyscale chips of different sizes per class."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for split in splits:
        for label, cls in enumerate(classes):
            folder = os.path.join(root, split, cls)
            os.makedirs(folder, exist_ok=True)
            size = sizes[label % len(sizes)]
            for i in range(per_class):
                chip = synthetic_chip(label, size, rng)[0]
                Image.fromarray((chip * 255).astype(np.uint8), mode='L').save(
                    os.path.join(folder, f'HB{label}{i:04d}{ext}'))
    return root


def write_geotiff(path: str, data: np.ndarray, nodata: Optional[float] = None,
                  crs: Optional[str] = 'EPSG:32633') -> str:
    """Write ``data (C, H, W)`` as a (Geo)TIFF with rasterio (a CRS + transform unless crs=None)."""
    import rasterio
    from rasterio.transform import from_origin

    os.makedirs(os.path.dirname(path), exist_ok=True)
    profile = dict(driver='GTiff', height=data.shape[1], width=data.shape[2], count=data.shape[0],
                   dtype=data.dtype.name)
    if crs is not None:
        profile.update(crs=crs, transform=from_origin(500000.0, 4100000.0, 0.3, 0.3))
    if nodata is not None:
        profile['nodata'] = nodata
    import warnings

    from rasterio.errors import NotGeoreferencedWarning
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', NotGeoreferencedWarning)
        with rasterio.open(path, 'w', **profile) as dst:
            dst.write(data)
    return path


def write_geotiff_tree(root: str, classes: Sequence[str] = CLASSES, per_class: int = 3,
                       size: tuple[int, int] = (100, 100), seed: int = 0) -> str:
    """``<root>/<split>/<class>/<n>.tif``: 2-channel (HH, HV) float32 GeoTIFF chips with a CRS."""
    rng = np.random.default_rng(seed)
    for split in ('train', 'test'):
        for label, cls in enumerate(classes):
            for i in range(per_class):
                write_geotiff(os.path.join(root, split, cls, f'chip{i}.tif'),
                              synthetic_chip(label, size, rng, channels=2))
    return root


def truncate(path: str, keep: float = 0.4) -> str:
    with open(path, 'rb') as f:
        data = f.read()
    with open(path, 'wb') as f:
        f.write(data[:int(len(data) * keep)])
    return path
