"""allspark.geo: haversine against known distances, Equal Earth against hand-computed values."""
import math

import numpy as np
import pytest
import torch

from allspark import geo

R = geo.EARTH_RADIUS_KM


def test_haversine_exact_arcs():
    assert geo.haversine_km(0, 0, 0, 90) == pytest.approx(math.pi * R / 2)
    assert geo.haversine_km(0, 0, 0, 180) == pytest.approx(math.pi * R)  # antipodes: no NaN
    assert geo.haversine_km(90, 0, -90, 0) == pytest.approx(math.pi * R)
    assert geo.haversine_km(10, 20, 10, 20) == pytest.approx(0.0, abs=1e-9)
    # across the antimeridian: 1 degree of longitude on the equator, not 359
    assert geo.haversine_km(0, 179.5, 0, -179.5) == pytest.approx(math.pi * R / 180)


@pytest.mark.parametrize('a,b,km', [
    ((51.5074, -0.1278), (48.8566, 2.3522), 343.5),      # London - Paris
    ((40.7128, -74.0060), (34.0522, -118.2437), 3936),   # New York - Los Angeles
    ((-33.8688, 151.2093), (35.6762, 139.6503), 7823),   # Sydney - Tokyo
])
def test_haversine_city_distances(a, b, km):
    assert geo.haversine_km(*a, *b) == pytest.approx(km, rel=5e-3)


def test_haversine_vectorised_numpy_and_torch():
    lat = np.array([51.5074, 40.7128])
    lon = np.array([-0.1278, -74.0060])
    d = geo.haversine_km(lat[:, None], lon[:, None], lat[None], lon[None])
    assert d.shape == (2, 2) and np.allclose(np.diag(d), 0) and np.allclose(d, d.T)
    dt = geo.haversine_km(torch.tensor(lat), torch.tensor(lon), 48.8566, 2.3522)
    assert isinstance(dt, torch.Tensor) and dt.shape == (2,)
    assert dt[0].item() == pytest.approx(343.5, rel=5e-3)


def test_equal_earth_hand_computed():
    # closed forms: on the equator theta = 0; at the pole theta = asin(sqrt(3)/2) = pi/3
    x, y = geo.equal_earth(0.0, 180.0)
    assert x == pytest.approx(2 * math.sqrt(3) * math.pi / (3 * 1.340264)) and y == 0
    assert x == pytest.approx(2.706630, abs=1e-6)
    x, y = geo.equal_earth(90.0, 0.0)
    t = math.pi / 3
    assert x == 0
    assert y == pytest.approx(1.340264 * t - 0.081106 * t ** 3 + 0.000893 * t ** 7
                              + 0.003796 * t ** 9)
    assert y == pytest.approx(1.317363, abs=1e-6)
    # lat 45, lon 90: theta = asin(sqrt(3)/2 sin 45) = 0.658479 rad, worked by hand:
    # x = 2 sqrt(3) (pi/2) cos(theta) / (3 (9 A4 t^8 + 7 A3 t^6 + 3 A2 t^2 + A1)) = 1.159855
    # y = A1 t + A2 t^3 + A3 t^7 + A4 t^9 = 0.860231
    x, y = geo.equal_earth(45.0, 90.0)
    assert (x, y) == (pytest.approx(1.159855, abs=1e-6), pytest.approx(0.860231, abs=1e-6))
    x, y = geo.equal_earth(-45.0, -90.0)  # odd in both coordinates
    assert (x, y) == (pytest.approx(-1.159855, abs=1e-6), pytest.approx(-0.860231, abs=1e-6))
    xt, yt = geo.equal_earth(torch.tensor([45.0]), torch.tensor([90.0]), radius=2.0)
    assert xt.item() == pytest.approx(2 * 1.159855, abs=1e-5)


def test_equal_earth_matches_proj():
    warp = pytest.importorskip('rasterio.warp')
    lon, lat = [90.0, -120.5, 13.4], [45.0, -33.3, 52.5]
    xs, ys = warp.transform('+proj=longlat +R=1 +no_defs', '+proj=eqearth +R=1 +no_defs',
                            lon, lat)
    x, y = geo.equal_earth(lat, lon)
    assert np.allclose(x, xs, atol=1e-9) and np.allclose(y, ys, atol=1e-9)


def test_check_latlon_names_the_value_and_order():
    geo.check_latlon([10, -90, 90], [-180, 180, 0])
    with pytest.raises(ValueError, match=r'latitude at index 1 is 95.0.*\(lat, lon\)'):
        geo.check_latlon([0, 95], [0, 0])
    with pytest.raises(ValueError, match=r'longitude at index 0 is nan'):
        geo.check_latlon([0], [float('nan')])


def test_tile_center_from_utm_and_geographic():
    pytest.importorskip('rasterio')
    # a 64 x 64 tile of 10 m pixels in UTM 31N whose centre is at easting 500000 (the central
    # meridian, lon 3 E) and northing 5,000,000 m (lat ~45.15 N)
    transform = (10.0, 0.0, 500000.0 - 320.0, 0.0, -10.0, 5_000_000.0 + 320.0)
    lon, lat = geo.tile_center_lonlat('EPSG:32631', transform, 64, 64)
    assert lon == pytest.approx(3.0, abs=1e-6)
    assert lat == pytest.approx(45.15, abs=0.01)
    assert geo.raster_center_latlon('EPSG:32631', transform, 64, 64) == (lat, lon)
    lon, lat = geo.tile_center_lonlat('EPSG:4326', (0.01, 0, 5.0, 0, -0.01, 46.0), 100, 100)
    assert (lon, lat) == (pytest.approx(5.5), pytest.approx(45.5))
    with pytest.raises(ValueError, match='no CRS'):
        geo.tile_center_lonlat(None, transform, 64, 64)


def test_pixel_size_metres_geographic_and_projected():
    pytest.importorskip('rasterio')
    dx, dy = geo.pixel_size_metres('EPSG:4326', (1 / 1200, 0, 40, 0, -1 / 1200, 40), 0.0)
    assert dy == pytest.approx(110574 / 1200, rel=1e-3)  # 3 arc-seconds at the equator
    assert dx == pytest.approx(111320 / 1200, rel=1e-3)
    dx60, _ = geo.pixel_size_metres('EPSG:4326', (1 / 1200, 0, 40, 0, -1 / 1200, 40), 60.0)
    assert dx60 == pytest.approx(dx / 2, rel=5e-3)
    assert geo.pixel_size_metres('EPSG:32631', (30, 0, 0, 0, -30, 0), 45.0) == (30.0, 30.0)
