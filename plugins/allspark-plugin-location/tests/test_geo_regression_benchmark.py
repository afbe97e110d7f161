"""geo_regression benchmark: runs on fixtures in both original CSV layouts, writes its JSON, and
multi-scale Fourier features beat raw coordinates on a target with fine spatial structure."""
import json

import numpy as np

from allspark_plugin_location.benchmarks import geo_regression


def _fixtures(root, n=400, seed=0):
    rng = np.random.default_rng(seed)
    (root / 'air_temperature').mkdir()
    (root / 'california_housing').mkdir()
    lat, lon = rng.uniform(-60, 70, n), rng.uniform(-180, 180, n)
    t = 28 - 0.5 * np.abs(lat) + rng.normal(0, 0.5, n)
    with open(root / 'air_temperature' / 'stationDataAll.csv', 'w') as f:
        f.write('Lon,Lat,nObs,SG_rmsep,meanT,meanP,G_rmsep,C_rmsep,PerMod_RMSEP\n')
        for a, b, c in zip(lon, lat, t):
            f.write(f'{a:.3f},{b:.3f},1,0.7,{c:.3f},600,0.7,0.8,0\n')
    # house values peaking around one point (a city): raw (lat, lon) cannot fit that linearly
    lat, lon = rng.uniform(32.5, 42.0, n), rng.uniform(-124.3, -114.3, n)
    value = 2e5 + 1e5 * np.exp(-((lat - 37.2) ** 2 + (lon + 119.3) ** 2) / 4) \
        + rng.normal(0, 5e3, n)
    with open(root / 'california_housing' / 'housing.csv', 'w') as f:
        f.write('longitude,latitude,housing_median_age,total_rooms,total_bedrooms,population,'
                'households,median_income,median_house_value,ocean_proximity\n')
        for a, b, c in zip(lon, lat, value):
            f.write(f'{a:.4f},{b:.4f},30,900,,300,120,3.1,{c:.1f},INLAND\n')


def test_benchmark_runs_and_multiscale_beats_raw(tmp_path):
    _fixtures(tmp_path)
    out = tmp_path / 'res.json'
    rc = geo_regression.main(['--data-root', str(tmp_path), '--seeds', '0', '1', '--methods',
                              'raw', 'rff_single', 'rff_multi', 'enc_multi_trained',
                              '--probes', 'ridge', '--train-steps', '20', '--output', str(out)])
    assert rc == 0
    res = json.loads(out.read_text())
    assert {r['seed'] for r in res['rows']} == {0, 1}
    summary = res['summary']
    assert set(summary) == {'air_temperature', 'california_housing'}
    cal = summary['california_housing']
    assert cal['rff_multi']['ridge']['r2_mean'] > cal['raw']['ridge']['r2_mean'] + 0.3
    air = summary['air_temperature']
    assert air['rff_single']['ridge']['r2_mean'] > 0.8  # |lat| is smooth: one scale suffices
    assert len(air['enc_multi_trained']['ridge']['r2_per_seed']) == 2


def test_probes_choose_hyperparameters_on_training_data_only():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + rng.normal(0, 0.1, 200)
    x_test = rng.normal(size=(50, 3))
    y_test = x_test @ np.array([1.0, -2.0, 0.5])
    res = geo_regression.ridge_probe(x, y, x_test, seed=0)
    assert geo_regression.r2_mse(y_test, res['pred'])[0] > 0.99
    poisoned = geo_regression.ridge_probe(x, y, x_test * 0 + 1e6, seed=0)  # test rows unused
    assert poisoned['params'] == res['params'] and poisoned['cv_mse'] == res['cv_mse']
    mlp = geo_regression.mlp_probe(x, y, x_test, seed=0)
    assert geo_regression.r2_mse(y_test, mlp['pred'])[0] > 0.9
