"""End-to-end: the shipped location configs train on fixtures in the original CSV formats (tiny
language model) and learn far beyond chance."""
import numpy as np

from allspark.config import load_config
from allspark.testing import run_smoke_training


def _stations(path, n=400, seed=0):
    """SatCLIP's air-temperature CSV layout; meanT falls with |lat| (as real climate does)."""
    rng = np.random.default_rng(seed)
    lat = rng.uniform(-60, 75, n)
    lon = rng.uniform(-180, 180, n)
    mean_t = 28 - 0.5 * np.abs(lat) + rng.normal(0, 1.0, n)
    with open(path, 'w') as f:
        f.write('Lon,Lat,nObs,SG_rmsep,meanT,meanP,G_rmsep,C_rmsep,PerMod_RMSEP\n')
        for a, b, t in zip(lon, lat, mean_t):
            f.write(f'{a:.2f},{b:.2f},0.9,0.7,{t:.3f},600,0.7,0.8,0.0\n')


def test_air_temperature_config_learns(tmp_path):
    _stations(tmp_path / 'stationDataAll.csv')
    cfg = load_config('location::air_temperature.py', data_root=str(tmp_path))
    metrics = run_smoke_training(cfg, str(tmp_path / 'work'), max_iters=100, batch_size=32)
    r2 = [v for k, v in metrics.items() if k.endswith('r2')][0]
    assert r2 > 0.6, metrics  # predicting the mean gives R2 = 0


def test_classification_config_learns(tmp_path):
    rng = np.random.default_rng(1)
    lat, lon = rng.uniform(-80, 80, 300), rng.uniform(-180, 180, 300)
    path = tmp_path / 'points.csv'
    with open(path, 'w') as f:
        f.write('lat,lon,label\n')
        for a, b in zip(lat, lon):
            f.write(f'{a:.3f},{b:.3f},{"north" if a > 0 else "south"}\n')
    cfg = load_config('location::points_cls.py', data_root=str(path))
    metrics = run_smoke_training(cfg, str(tmp_path / 'work'), max_iters=80, batch_size=32)
    acc = [v for k, v in metrics.items() if k.endswith('accuracy') and 'mean' not in k][0]
    assert acc > 80.0, metrics  # chance: ~50 %
