"""Reading single-band DEM/DSM GeoTIFFs and deriving terrain channels (slope, aspect, hillshade).

Values are heights in metres.  Nodata (the file's ``nodata`` value, NaN, or rasterio's mask) is
masked: the elevation channel is filled (with the mean of the valid pixels of the window) and a
``mask`` channel (1 = valid, 0 = nodata) is passed on, so a network can tell filled from measured
heights.  Terrain channels are computed on the fly from the pixel size in the transform; a
geographic CRS (degrees) is converted to metres on the WGS 84 ellipsoid per row
(:func:`allspark.geo.pixel_size_metres`), so slopes of a lat/lon DEM are true slopes.

Channel names (``channels=``): ``'elevation'`` (m), ``'mask'`` (0/1), ``'slope'`` (degrees,
0..90), ``'aspect'`` (degrees clockwise from north of the downslope direction, 0 on flat cells),
``'aspect_sin'`` / ``'aspect_cos'`` (its sine / cosine, 0 on flat cells: continuous across north),
``'hillshade'`` (0..1, sun at ``azimuth`` 315 deg, ``altitude`` 45 deg).
"""
from __future__ import annotations

import math
from typing import Any, Optional, Sequence

import numpy as np

from allspark.datasets import DataError
from allspark.geo import pixel_size_metres

CHANNELS = ('elevation', 'mask', 'slope', 'aspect', 'aspect_sin', 'aspect_cos', 'hillshade')
DEM_EXTENSIONS = ('.tif', '.tiff')


def _rasterio():
    try:
        import rasterio
    except ImportError as exc:  # pragma: no cover - rasterio is an install requirement
        raise ImportError('the elevation plugin reads GeoTIFFs with rasterio: pip install '
                          'rasterio') from exc
    return rasterio


def check_channels(channels: Sequence[str], owner: str = 'elevation') -> list[str]:
    channels = list(channels)
    unknown = [c for c in channels if c not in CHANNELS]
    if unknown or not channels:
        raise ValueError(f'{owner}: unknown channel(s) {unknown or "(none given)"}; choose '
                         f'from {list(CHANNELS)}')
    return channels


def open_dem(path: str, band: Optional[int] = None, crs: Any = None):
    """Open ``path`` and check it is a usable DEM; returns ``(dataset, band, crs)``.

    Raises ``DataError`` naming the file when it cannot be opened, has several bands and no
    ``band`` is configured (or ``band`` is out of range), or has no CRS and no ``crs`` is given.
    The caller closes the dataset.
    """
    rasterio = _rasterio()
    try:
        src = rasterio.open(path)
    except Exception as exc:
        raise DataError(f'elevation: cannot open {path} as a GeoTIFF ({type(exc).__name__}: '
                        f'{exc})') from None
    try:
        if band is None:
            if src.count != 1:
                names = [d or f'band {i + 1}' for i, d in enumerate(src.descriptions)]
                raise DataError(f'elevation: {path} has {src.count} bands ({names}); a DEM has '
                                f'one. Set band=<1-based index> in the dataset config to use '
                                f'one of them')
            band = 1
        elif not 1 <= int(band) <= src.count:
            raise DataError(f'elevation: {path}: band={band} is out of range; the file has '
                            f'{src.count} band(s) (1-based)')
        if crs is None:
            if src.crs is None:
                raise DataError(f'elevation: {path} has no CRS (no georeferencing); give the '
                                f'dataset crs="EPSG:...", e.g. crs="EPSG:4326" for lat/lon '
                                f'degrees')
            crs = src.crs
        else:
            from rasterio.crs import CRS
            crs = CRS.from_user_input(crs)
    except Exception:
        src.close()
        raise
    return src, int(band), crs


def valid_mask(values: np.ndarray, nodata: Optional[float],
               file_mask: Optional[np.ndarray] = None) -> np.ndarray:
    """True where a height is measured: finite, not ``nodata``, not masked by the file."""
    valid = np.isfinite(values)
    if nodata is not None and not (isinstance(nodata, float) and math.isnan(nodata)):
        valid &= values != nodata
    if file_mask is not None:
        valid &= file_mask > 0
    return valid


def terrain(elevation: np.ndarray, dx: np.ndarray | float, dy: float, azimuth: float = 315.0,
            altitude: float = 45.0) -> dict[str, np.ndarray]:
    """Slope, aspect and hillshade of a north-up height grid ``(H, W)`` in metres.

    ``dx``: east-west pixel size in metres (a scalar, or ``(H,)`` one per row: a lat/lon grid
    narrows towards the poles), ``dy``: north-south pixel size in metres (row 0 = north).
    Gradients are central differences (one-sided at the borders), exact for a plane.
    """
    z = elevation.astype(np.float64)
    dz_drow, dz_dcol = np.gradient(z) if min(z.shape) > 1 else (np.zeros_like(z),) * 2
    dx = np.asarray(dx, dtype=np.float64)
    dx = dx[:, None] if dx.ndim == 1 else dx
    gx = dz_dcol / dx            # dz / d(east)
    gy = -dz_drow / float(dy)    # dz / d(north): rows run southwards
    steep = np.hypot(gx, gy)
    slope = np.arctan(steep)
    flat = steep < 1e-12
    aspect = np.where(flat, 0.0, np.degrees(np.arctan2(-gx, -gy)) % 360.0)
    aspect_rad = np.radians(aspect)
    zenith, sun = math.radians(90.0 - altitude), math.radians(azimuth)
    shade = (math.cos(zenith) * np.cos(slope)
             + math.sin(zenith) * np.sin(slope) * np.cos(sun - aspect_rad))
    return dict(slope=np.degrees(slope), aspect=aspect,
                aspect_sin=np.where(flat, 0.0, np.sin(aspect_rad)),
                aspect_cos=np.where(flat, 0.0, np.cos(aspect_rad)),
                hillshade=np.clip(shade, 0.0, 1.0))


def row_pixel_sizes(crs, transform, row_off: int, height: int) -> tuple[np.ndarray, float]:
    """``(dx per row (H,), dy)`` in metres for rows ``row_off .. row_off + height - 1``."""
    if crs.is_geographic:
        rows = row_off + np.arange(height) + 0.5
        lats = transform.f + transform.e * rows
        sizes = [pixel_size_metres(crs, transform, float(np.clip(lat, -89.9, 89.9)))
                 for lat in lats]
        return np.array([s[0] for s in sizes]), float(np.mean([s[1] for s in sizes]))
    dx, dy = pixel_size_metres(crs, transform, 0.0)
    return np.full(height, dx), dy


def chip_channels(values: np.ndarray, valid: np.ndarray, channels: Sequence[str], crs,
                  transform, row_off: int = 0, where: str = '', fill: str = 'mean',
                  azimuth: float = 315.0, altitude: float = 45.0) -> np.ndarray:
    """Stack the requested channels ``(C, H, W)`` float32 for one window of heights."""
    if not valid.any():
        raise DataError(f'elevation: {where} is entirely nodata (no valid height); drop it '
                        f"(DEMChipDataset empty_chips='drop') or check the file's nodata value")
    filled = values.astype(np.float64)
    fill_value = float(filled[valid].mean()) if fill == 'mean' else float(fill)
    filled = np.where(valid, filled, fill_value)
    out = {'elevation': filled, 'mask': valid.astype(np.float64)}
    wanted = set(channels) - {'elevation', 'mask'}
    if wanted:
        dx, dy = row_pixel_sizes(crs, transform, row_off, values.shape[0])
        derived = terrain(filled, dx, dy, azimuth, altitude)
        for name in wanted:  # heights next to nodata are filled: their terrain is unreliable
            out[name] = np.where(valid, derived[name], 0.0)
    return np.stack([out[c] for c in channels]).astype(np.float32)


def read_dem(path: str, channels: Sequence[str] = ('elevation', 'mask'),
             band: Optional[int] = None, crs: Any = None, nodata: Optional[float] = None,
             window=None, fill: str = 'mean') -> tuple[np.ndarray, dict]:
    """Read a DEM (or a window of it) -> ``((C, H, W) float32, info)``.

    ``info``: ``crs``, ``transform`` (of the window), ``center_lat``, ``center_lon`` (WGS 84),
    ``valid_fraction``, ``nodata``.  ``nodata`` overrides the file's nodata value.
    """
    from rasterio.windows import Window
    from rasterio.windows import transform as window_transform

    from allspark.geo import raster_center_latlon

    channels = check_channels(channels)
    src, band, crs = open_dem(path, band, crs)
    with src:
        window = window or Window(0, 0, src.width, src.height)
        values = src.read(band, window=window, out_dtype='float64')
        file_mask = src.read_masks(band, window=window)
        nod = nodata if nodata is not None else src.nodata
        transform = window_transform(window, src.transform)
    valid = valid_mask(values, nod, file_mask)
    where = f'{path} (window row {int(window.row_off)}, col {int(window.col_off)}, ' \
            f'{int(window.height)} x {int(window.width)})'
    data = chip_channels(values, valid, channels, crs, transform, 0, where, fill)
    lat, lon = raster_center_latlon(crs, transform, values.shape[1], values.shape[0])
    return data, dict(crs=crs.to_string(), transform=tuple(transform)[:6], center_lat=lat,
                      center_lon=lon, valid_fraction=float(valid.mean()), nodata=nod)
