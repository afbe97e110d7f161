"""Geodesy helpers every geospatial modality needs: distances, a projection, tile centres.

* :func:`haversine_km`: great-circle distance on a sphere of radius 6371.0088 km (the IUGG mean
  Earth radius), vectorised over NumPy arrays or torch tensors (broadcasting like ``a - b``).
* :func:`equal_earth`: the Equal Earth projection (Šavrič, Patterson & Jenny 2018), the
  equal-area map GeoCLIP feeds its random Fourier features; NumPy or torch.
* :func:`tile_center_lonlat` / :func:`raster_center_latlon`: a raster tile's centre reprojected
  from its CRS to WGS 84 degrees with ``rasterio.warp.transform``.

Argument order: every function here takes **latitude first, then longitude** (degrees), as the
location plugin does; only the names ending in ``_lonlat`` return ``(lon, lat)``, the order of
rasterio / GeoJSON (and of SatCLIP's inputs).

Citation: B. Šavrič, T. Patterson, B. Jenny, "The Equal Earth map projection", International
Journal of Geographical Information Science 33(3), 2019, doi:10.1080/13658816.2018.1504949.
"""
from __future__ import annotations

import math
from typing import Any, Union

import numpy as np
import torch

#: IUGG mean Earth radius (km), the usual haversine constant.
EARTH_RADIUS_KM = 6371.0088

# Equal Earth polynomial coefficients (Šavrič et al. 2018, eq. 2).
EE_A1, EE_A2, EE_A3, EE_A4 = 1.340264, -0.081106, 0.000893, 0.003796
#: ``x`` of Equal Earth at (lat 0, lon 180) on the unit sphere: the half-width of the map.
EQUAL_EARTH_X_MAX = 2.0 * math.sqrt(3.0) * math.pi / (3.0 * EE_A1)
#: ``y`` of Equal Earth at the pole on the unit sphere: the half-height of the map.
EQUAL_EARTH_Y_MAX = (EE_A1 * (math.pi / 3) + EE_A2 * (math.pi / 3) ** 3
                     + EE_A3 * (math.pi / 3) ** 7 + EE_A4 * (math.pi / 3) ** 9)

ArrayLike = Union[np.ndarray, torch.Tensor, float]


def _lib(*values: Any):
    return torch if any(isinstance(v, torch.Tensor) for v in values) else np


def _as(values: Any, like: Any):
    if isinstance(like, torch.Tensor):
        return torch.as_tensor(values, dtype=like.dtype if like.is_floating_point()
                               else torch.float64, device=like.device)
    return np.asarray(values, dtype=np.float64)


def haversine_km(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike,
                 radius_km: float = EARTH_RADIUS_KM) -> ArrayLike:
    """Great-circle distance in km between ``(lat1, lon1)`` and ``(lat2, lon2)`` (degrees).

    Inputs broadcast against each other (e.g. ``lat1[:, None]`` against a gallery ``lat2[None]``
    gives a ``(N, G)`` distance matrix).  Torch in, torch out (differentiable); otherwise NumPy.
    The ``asin`` argument is clipped to ``[0, 1]`` so antipodal points do not produce NaN.
    """
    lib = _lib(lat1, lon1, lat2, lon2)
    ref = next((v for v in (lat1, lon1, lat2, lon2) if isinstance(v, torch.Tensor)), None)
    if lib is torch:
        lat1, lon1, lat2, lon2 = (_as(v, ref) for v in (lat1, lon1, lat2, lon2))
    else:
        lat1, lon1, lat2, lon2 = (np.asarray(v, dtype=np.float64)
                                  for v in (lat1, lon1, lat2, lon2))
    p1, p2 = lib.deg2rad(lat1), lib.deg2rad(lat2)
    dphi, dlmb = p2 - p1, lib.deg2rad(lon2 - lon1)
    a = lib.sin(dphi / 2) ** 2 + lib.cos(p1) * lib.cos(p2) * lib.sin(dlmb / 2) ** 2
    a = lib.clip(a, 0.0, 1.0)
    return 2.0 * radius_km * lib.arcsin(lib.sqrt(a))


def equal_earth(lat: ArrayLike, lon: ArrayLike, radius: float = 1.0):
    """Equal Earth projection of ``(lat, lon)`` degrees -> ``(x, y)`` (same type as the input).

    On the unit sphere (``radius=1``) ``x`` spans ``±EQUAL_EARTH_X_MAX`` (±2.7066) and ``y``
    ``±EQUAL_EARTH_Y_MAX`` (±1.3174)::

        theta = asin(sqrt(3) / 2 * sin(lat))
        x = R * 2 sqrt(3) lon cos(theta) / (3 (9 A4 theta^8 + 7 A3 theta^6 + 3 A2 theta^2 + A1))
        y = R * (A4 theta^9 + A3 theta^7 + A2 theta^3 + A1 theta)
    """
    lib = _lib(lat, lon)
    if lib is np:
        lat, lon = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
    else:
        ref = lat if isinstance(lat, torch.Tensor) else lon
        lat, lon = _as(lat, ref), _as(lon, ref)
    phi, lmb = lib.deg2rad(lat), lib.deg2rad(lon)
    theta = lib.arcsin(math.sqrt(3.0) / 2.0 * lib.sin(phi))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = 2.0 * math.sqrt(3.0) * lmb * lib.cos(theta) / (
        3.0 * (9.0 * EE_A4 * t6 * t2 + 7.0 * EE_A3 * t6 + 3.0 * EE_A2 * t2 + EE_A1))
    y = theta * (EE_A4 * t6 * t2 + EE_A3 * t6 + EE_A2 * t2 + EE_A1)
    return radius * x, radius * y


def check_latlon(lat: ArrayLike, lon: ArrayLike, where: str = 'coordinates') -> None:
    """Raise ``ValueError`` naming the first bad value if ``lat``/``lon`` are not finite degrees
    in ``[-90, 90]`` / ``[-180, 180]`` (the usual sign of swapped ``(lon, lat)`` input)."""
    lat = np.asarray(lat.detach().cpu() if isinstance(lat, torch.Tensor) else lat, np.float64)
    lon = np.asarray(lon.detach().cpu() if isinstance(lon, torch.Tensor) else lon, np.float64)
    for name, values, limit in (('latitude', lat, 90.0), ('longitude', lon, 180.0)):
        bad = ~np.isfinite(values) | (np.abs(values) > limit)
        if bad.any():
            index = int(np.flatnonzero(bad.reshape(-1))[0])
            value = float(values.reshape(-1)[index])
            hint = (' (values beyond ±90 in the latitude slot usually mean (lon, lat) order; '
                    'AllSpark takes (lat, lon))' if name == 'latitude' and np.isfinite(value)
                    else '')
            raise ValueError(f'{where}: {name} at index {index} is {value}, expected a finite '
                             f'value in [-{limit:g}, {limit:g}] degrees{hint}')


def tile_center_lonlat(crs: Any, transform: Any, width: int, height: int) -> tuple[float, float]:
    """Centre of a ``width x height`` raster with affine ``transform`` in ``crs``, reprojected to
    WGS 84: returns ``(lon, lat)`` degrees (rasterio's order).

    ``crs`` is anything ``rasterio.crs.CRS.from_user_input`` takes (``'EPSG:32631'``, WKT, a
    ``CRS``); ``transform`` an ``affine.Affine`` or its first six coefficients ``(a, b, c, d, e,
    f)``.  The centre is the pixel-grid centre ``(width / 2, height / 2)`` (corner-based, as
    rasterio's transforms are).
    """
    from affine import Affine
    from rasterio.crs import CRS
    from rasterio.warp import transform as warp_transform

    if crs is None or crs == '':
        raise ValueError('tile_center_lonlat: the raster has no CRS; give one (e.g. crs='
                         '"EPSG:4326")')
    if not isinstance(transform, Affine):
        transform = Affine(*tuple(transform)[:6])
    col, row = width / 2.0, height / 2.0
    cx = transform.a * col + transform.b * row + transform.c
    cy = transform.d * col + transform.e * row + transform.f
    src = CRS.from_user_input(crs)
    if src.is_geographic and src.to_epsg() == 4326:
        return float(cx), float(cy)
    lon, lat = warp_transform(src, 'EPSG:4326', [cx], [cy])
    return float(lon[0]), float(lat[0])


def raster_center_latlon(crs: Any, transform: Any, width: int, height: int) -> tuple[float, float]:
    """As :func:`tile_center_lonlat`, in this module's order: ``(lat, lon)`` degrees."""
    lon, lat = tile_center_lonlat(crs, transform, width, height)
    return lat, lon


def pixel_size_metres(crs: Any, transform: Any, center_lat: float) -> tuple[float, float]:
    """Ground size ``(dx, dy)`` in metres of one pixel of a north-up raster.

    Projected CRS: the transform's pixel size times the CRS's linear unit factor (metres for UTM).
    Geographic CRS (degrees): converted on the WGS 84 ellipsoid at ``center_lat``
    (metres per degree of latitude and of longitude, the standard series expansion), so slope
    and hillshade computed from a lat/lon DEM use true distances.
    """
    from affine import Affine
    from rasterio.crs import CRS

    if not isinstance(transform, Affine):
        transform = Affine(*tuple(transform)[:6])
    if transform.b != 0 or transform.d != 0:
        raise ValueError('pixel_size_metres: the raster is rotated (transform has shear terms); '
                         'only north-up rasters are supported')
    dx, dy = abs(transform.a), abs(transform.e)
    crs = CRS.from_user_input(crs)
    if crs.is_geographic:
        phi = math.radians(center_lat)
        m_per_deg_lat = (111132.92 - 559.82 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi)
                         - 0.0023 * math.cos(6 * phi))
        m_per_deg_lon = (111412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi)
                         + 0.118 * math.cos(5 * phi))
        return dx * m_per_deg_lon, dy * m_per_deg_lat
    factor = 1.0
    try:
        factor = float(crs.linear_units_factor[1])
    except Exception:  # CRS without a defined linear unit: assume metres
        factor = 1.0
    return dx * factor, dy * factor
