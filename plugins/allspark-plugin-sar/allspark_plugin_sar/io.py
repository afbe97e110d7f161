"""Readers for SAR chips: 8/16-bit JPEG/PNG (Pillow) and TIFF / GeoTIFF (rasterio).

Every reader returns ``(array, info)``: ``array`` is float32 ``(C, H, W)``, ``info`` a dict with
``bands``, ``dtype``, ``nodata_fraction`` and, for GeoTIFFs, ``crs`` and ``transform``.

Scaling: 8-bit data are divided by 255, 16-bit integer data by 65535 (MSTAR's JPEG magnitude
chips end up in [0, 1]); float data (calibrated amplitude / intensity / dB GeoTIFFs) are kept as
they are; complex data (single-look complex) become their magnitude.

NaN / nodata policy (``nodata=``):
    ``'fill'`` (default): pixels that are NaN/inf, or equal to the file's nodata value, are
        replaced by ``fill_value`` (0.0: no radar return), and their share is recorded in
        ``info['nodata_fraction']``; a chip with no valid pixel at all is a ``DataError``.
    ``'error'``: any such pixel is a ``DataError`` naming the file and the pixel count.
"""
from __future__ import annotations

import os
import warnings
from typing import Optional

import numpy as np

from allspark.datasets import DataError
from allspark.datasets.validation import check_values

PIL_EXTENSIONS = ('.jpg', '.jpeg', '.png')
TIFF_EXTENSIONS = ('.tif', '.tiff')
SAR_EXTENSIONS = PIL_EXTENSIONS + TIFF_EXTENSIONS
NODATA_POLICIES = ('fill', 'error')


def _scale(arr: np.ndarray) -> np.ndarray:
    if np.iscomplexobj(arr):
        return np.abs(arr).astype(np.float32)
    if arr.dtype == np.uint8:
        return arr.astype(np.float32) / 255.0
    if arr.dtype == np.uint16:
        return arr.astype(np.float32) / 65535.0
    return arr.astype(np.float32)


def read_pil(path: str) -> tuple[np.ndarray, dict]:
    """JPEG / PNG chip -> ``(C, H, W)`` float32 (mode ``L`` is one band, ``LA`` two, ``RGB`` 3)."""
    from PIL import Image

    try:
        with Image.open(path) as im:
            im.load()  # decodes now: a truncated file raises here, not later
            bands = len(im.getbands())
            arr = np.asarray(im)
    except Exception as exc:
        raise DataError(f'{path}: cannot read image ({type(exc).__name__}: {exc})') from exc
    arr = arr[None] if arr.ndim == 2 else np.moveaxis(arr, -1, 0)
    return _scale(arr), dict(bands=bands, dtype=str(arr.dtype), nodata=None)


def read_tiff(path: str) -> tuple[np.ndarray, dict]:
    """TIFF / GeoTIFF (any band count) via rasterio -> ``(C, H, W)`` float32 + geo metadata."""
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning

    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', NotGeoreferencedWarning)
            with rasterio.open(path) as src:
                arr = src.read()
                info = dict(bands=int(src.count), dtype=str(arr.dtype), nodata=src.nodata,
                            crs=src.crs.to_string() if src.crs else None,
                            transform=tuple(src.transform)[:6] if src.crs else None)
    except Exception as exc:
        raise DataError(f'{path}: cannot read TIFF/GeoTIFF ({type(exc).__name__}: {exc})') \
            from exc
    return arr, info


def read_sar_chip(path: str, channels: Optional[int] = None, nodata: str = 'fill',
                  fill_value: float = 0.0, value_range: Optional[str] = 'sar_amplitude',
                  value_policy: str = 'error') -> tuple[np.ndarray, dict]:
    """Read one chip; check its band count against ``channels``; apply the nodata policy; check
    the values against the declared ``value_range`` (``allspark.datasets.validation``; a chip of
    1e30 is refused: it would also skew the normalisation statistics) with ``value_policy``
    ``'error'`` (default) or ``'clip'``.

    Returns ``(array (C, H, W) float32, info)``; raises ``DataError`` naming the file.
    """
    if nodata not in NODATA_POLICIES:
        raise ValueError(f'nodata policy must be one of {NODATA_POLICIES}, got {nodata!r}')
    ext = os.path.splitext(path)[1].lower()
    if ext in PIL_EXTENSIONS:
        arr, info = read_pil(path)
        raw = None
    elif ext in TIFF_EXTENSIONS:
        raw, info = read_tiff(path)
        arr = _scale(raw)
    else:
        raise DataError(f'{path}: unsupported extension {ext!r} (expected one of '
                        f'{SAR_EXTENSIONS})')
    if channels is not None and info['bands'] != channels:
        raise DataError(f'{path}: found {info["bands"]} band(s), expected {channels} '
                        f'(the config\'s channels={channels})')
    invalid = ~np.isfinite(arr)
    if raw is not None and info.get('nodata') is not None and not np.isnan(info['nodata']):
        invalid |= raw == info['nodata']
    count = int(invalid.sum())
    info['nodata_fraction'] = count / max(invalid.size, 1)
    if count:
        if nodata == 'error':
            raise DataError(f'{path}: {count} NaN/inf/nodata pixel value(s) of {invalid.size} '
                            f'(nodata policy "error"; use nodata="fill" to replace them)')
        if count == invalid.size:
            raise DataError(f'{path}: every pixel is NaN/inf/nodata: no valid data')
        arr = np.where(invalid, np.float32(fill_value), arr)
    if value_range is not None:
        arr = check_values(arr, path, 'pixel values', value_range, value_policy,
                           where='(band, row, col)')
    return np.ascontiguousarray(arr, dtype=np.float32), info


def center_crop(arr: np.ndarray, size: int) -> np.ndarray:
    """Centre ``size x size`` crop of ``(C, H, W)``; smaller chips are zero-padded symmetrically.

    The offset is ``(H - size) // 2``, so cropping 96 then 88 equals cropping 88 directly."""
    h, w = arr.shape[-2:]
    if h < size or w < size:
        ph, pw = max(size - h, 0), max(size - w, 0)
        arr = np.pad(arr, [(0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2)])
        h, w = arr.shape[-2:]
    top, left = (h - size) // 2, (w - size) // 2
    return np.ascontiguousarray(arr[:, top:top + size, left:left + size])
