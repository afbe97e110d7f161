"""Graph plugin: Los-loop CSV / DCRNN HDF5 + pickle readers, windows, bad input, metric,
baselines and the config end to end."""
import os
import pickle

import numpy as np
import pytest

from allspark import plugins
from allspark.datasets import DataError
from allspark.registry import ENCODERS
from allspark.testing import run_smoke_training

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
CONFIG = 'graph::metr_la.py'
N, T = 5, 120
IDS = [str(773869 + i) for i in range(N)]

@pytest.fixture(autouse=True, scope='module')
def only_this_plugin():
    """Load only this plugin (the others' imports are slow on a shared CPU); afterwards forget
    the discovery so later test modules discover every plugin again."""
    mp = pytest.MonkeyPatch()
    mp.setenv('ALLSPARK_DISABLE_PLUGIN_AUTOLOAD', '1')
    mp.setenv('ALLSPARK_PLUGINS', 'graph')
    plugins.reset_for_tests()
    plugins.load_plugins()
    yield
    mp.undo()
    plugins.reset_for_tests()



def speeds(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(T)[:, None]
    return 55 + 8 * np.sin(2 * np.pi * t / 288 + np.arange(N)) + rng.normal(0, 1, (T, N))


def make_root(root, rows=None, header=None, locations=True, adj=True) -> str:
    """Fixtures in the original formats: los_speed.csv, graph_sensor_locations.csv,
    adj_mx.pkl (Python-2 style protocol-2 pickle of (ids, id->index, weights))."""
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, 'los_speed.csv'), 'w') as f:
        f.write(','.join(header or IDS) + '\n')
        for r in (rows if rows is not None else speeds()):
            f.write(','.join(str(v) for v in r) + '\n')
    if locations:
        with open(os.path.join(root, 'graph_sensor_locations.csv'), 'w') as f:
            f.write('index,sensor_id,latitude,longitude\n')
            for i, s in enumerate(IDS):
                f.write(f'{i},{s},34.1{i},-118.3{i}\n')
    if adj:
        w = np.eye(N, dtype=np.float32) + 0.5 * np.eye(N, k=1, dtype=np.float32)
        with open(os.path.join(root, 'adj_mx.pkl'), 'wb') as f:
            pickle.dump((IDS, {s: i for i, s in enumerate(IDS)}, w), f, protocol=2)
    return str(root)


def test_plugin_is_discovered():
    rec = plugins.get_record('graph')
    assert rec is not None and rec.status == 'ok', plugins.format_report()
    assert rec.modalities == ['graph']
    from allspark_plugin_graph.encoder import STAEGraphEncoder

    assert ENCODERS.get('STAEGraphEncoder') is STAEGraphEncoder


def test_windows_split_and_stats(tmp_path):
    from allspark_plugin_graph.dataset import TrafficGraphDataset

    root = make_root(tmp_path / 'd')
    sets = {s: TrafficGraphDataset(root, s, locations_file='graph_sensor_locations.csv',
                                   adj_file='adj_mx.pkl') for s in ('train', 'val', 'test')}
    n = T - 24 + 1
    assert sum(len(d) for d in sets.values()) == n
    assert len(sets['train']) == round(0.7 * n) and len(sets['val']) == round(0.1 * n)
    # chronological: the first test window starts after the last training window
    assert sets['test'].samples[0]['t'] > sets['train'].samples[-1]['t']
    s = sets['train'][0]
    g = s['inputs']['graph']
    assert g['x'].shape == (12, N, 1) and g['tod'].shape == (12,) and g['dow'][0] == 3  # Thu
    assert abs(g['tod'][1] - 5 / 1440) < 1e-6
    assert s['data_samples']['gt_seq'].shape == (N, 12, 1)
    # residual target + anchor = the true future
    raw = speeds()
    assert np.allclose(s['data_samples']['gt_seq'][..., 0] + s['data_samples']['anchor'],
                       raw[12:24].T, atol=1e-4)
    st = sets['test'].stats()  # training-part statistics whatever the split
    end = len(sets['train']) - 1 + 24
    assert abs(st['inputs']['graph']['mean'][0] - raw[:end].mean()) < 1e-3


def test_relative_weight_trains_for_relative_error(tmp_path):
    """relative_weight=lam adds gt_weight = (1 - lam) + lam * mean_speed / speed per reading."""
    from allspark_plugin_graph.dataset import TrafficGraphDataset

    root = make_root(tmp_path / 'd')
    plain = TrafficGraphDataset(root, 'train')
    assert 'gt_weight' not in plain[0]['data_samples']
    ds = TrafficGraphDataset(root, 'train', relative_weight=0.5)
    ds_ = ds[3]['data_samples']
    speed = ds_['gt_seq'] + ds_['anchor'][:, None]  # (N, 12, 1) true future speeds
    expected = 0.5 + 0.5 * ds.speed_mean / np.maximum(speed, 1.0)
    assert ds_['gt_weight'].shape == ds_['gt_seq'].shape
    assert np.allclose(ds_['gt_weight'], expected, rtol=1e-4)
    with pytest.raises(ValueError, match='relative_weight'):
        TrafficGraphDataset(root, 'train', relative_weight=1.5)


def test_weekday_weekend_day_classes(tmp_path):
    """dow_classes=2 maps Mon-Fri to one embedding and Sat/Sun to another, so a test day the
    training part never saw (Los-loop: test Tue/Wed) reads a trained embedding; the dataset says
    which days its split sees that training does not."""
    import torch

    from allspark_plugin_graph.dataset import TrafficGraphDataset
    from allspark_plugin_graph.encoder import STAEGraphEncoder

    enc = STAEGraphEncoder(num_nodes=N, dow_classes=2, out_dim=16)
    assert enc.dow_embed.num_embeddings == 2
    inputs = dict(x=torch.randn(2, 12, N, 1), valid=torch.ones(2, 12, N, 1),
                  tod=torch.full((2, 12), 0.5), dow=torch.tensor([[1] * 12, [3] * 12]))
    enc.eval()
    assert enc(inputs).shape == (2, N, 16)
    # Tuesday and Thursday are both weekdays: same day embedding, same tokens for same readings
    same = dict(inputs, x=inputs['x'][:1].expand(2, -1, -1, -1))
    out = enc(same)
    assert torch.allclose(out[0], out[1], atol=1e-6)
    weekend = dict(same, dow=torch.tensor([[1] * 12, [6] * 12]))
    out = enc(weekend)
    assert not torch.allclose(out[0], out[1], atol=1e-4)
    with pytest.raises(ValueError, match='dow_classes'):
        STAEGraphEncoder(num_nodes=N, dow_classes=3)
    root = make_root(tmp_path / 'd')  # 120 steps: Thu 17:00 .. Fri 02:55
    sets = {s: TrafficGraphDataset(root, s, start_time='2012-03-01 17:00:00')
            for s in ('train', 'test')}
    assert sets['train'].unseen_days == [] and sets['test'].unseen_days == ['Fri']


def test_h5_reader_and_missing_zeros(tmp_path):
    import pandas as pd

    from allspark_plugin_graph.dataset import TrafficGraphDataset

    values = speeds()
    values[30:40, 2] = 0.0  # missing readings (METR-LA convention)
    df = pd.DataFrame(values, columns=IDS,
                      index=pd.date_range('2012-03-04 00:00', periods=T, freq='5min'))
    df.to_hdf(tmp_path / 'metr-la.h5', key='df')
    ds = TrafficGraphDataset(str(tmp_path), 'train', speed_file='metr-la.h5')
    assert ds.sensor_ids == IDS and ds.dow[0] == 6  # 2012-03-04 was a Sunday
    s = ds[20]['data_samples']  # targets t = 32..43 include the outage of sensor 2
    assert not s['gt_mask'][2, :8].any() and s['gt_mask'][2, 8:].all()
    x = ds[25]['inputs']['graph']  # inputs 25..36: anchor = last valid reading (step 29)
    assert x['valid'][:, 2, 0].sum() == 5
    assert abs(ds[25]['data_samples']['anchor'][2, 0] - values[29, 2]) < 1e-4


def test_h5_without_datetime_index(tmp_path):
    import pandas as pd

    from allspark_plugin_graph.dataset import TrafficGraphDataset

    pd.DataFrame(speeds(), columns=IDS).to_hdf(tmp_path / 'metr-la.h5', key='df')
    with pytest.raises(DataError, match='expected a DatetimeIndex'):
        TrafficGraphDataset(str(tmp_path), 'train', speed_file='metr-la.h5')


def test_adj_pickle_reader_refuses_code(tmp_path):
    from allspark_plugin_graph.io import read_adj_pickle

    root = make_root(tmp_path / 'd')
    ids, index, adj = read_adj_pickle(os.path.join(root, 'adj_mx.pkl'))
    assert ids == IDS and adj.shape == (N, N) and index[IDS[1]] == 1

    class Evil:
        def __reduce__(self):
            return (os.system, ('echo pwned',))

    bad = tmp_path / 'evil.pkl'
    bad.write_bytes(pickle.dumps((IDS, {}, Evil()), protocol=2))
    with pytest.raises(DataError, match='only NumPy arrays and builtins'):
        read_adj_pickle(str(bad))


def test_bad_rows(tmp_path):
    from allspark_plugin_graph.dataset import TrafficGraphDataset

    rows = [list(map(str, r)) for r in speeds()]
    rows[3] = rows[3][:-1]  # wrong number of columns
    root = make_root(tmp_path / 'a', rows=rows)
    with pytest.raises(DataError, match=r'los_speed.csv, line 5: expected 5 comma-separated'):
        TrafficGraphDataset(root, 'train')
    rows = [list(map(str, r)) for r in speeds()]
    rows[7][1] = 'fast'  # non-numeric reading
    root = make_root(tmp_path / 'b', rows=rows)
    with pytest.raises(DataError, match=f"line 9, column '{IDS[1]}': expected a speed"):
        TrafficGraphDataset(root, 'train')


def test_nan_after_policy_names_the_column(tmp_path):
    from allspark_plugin_graph.dataset import TrafficGraphDataset

    rows = [list(map(str, r)) for r in speeds()]
    rows[10][3] = ''  # empty cell -> NaN
    root = make_root(tmp_path / 'a', rows=rows)
    with pytest.raises(DataError, match=f"los_speed.csv, column '{IDS[3]}': 1 NaN"):
        TrafficGraphDataset(root, 'train')
    ds = TrafficGraphDataset(root, 'train', nan_policy='zero')  # policy: NaN = missing
    assert not ds.valid[10, 3] and np.isfinite(ds.values).all()


def test_locations_missing_column(tmp_path):
    from allspark_plugin_graph.dataset import TrafficGraphDataset

    root = make_root(tmp_path / 'a')
    with open(os.path.join(root, 'graph_sensor_locations.csv'), 'w') as f:
        f.write('index,sensor_id,latitude\n0,773869,34.1\n')
    with pytest.raises(DataError) as err:
        TrafficGraphDataset(root, 'train', locations_file='graph_sensor_locations.csv')
    assert 'graph_sensor_locations.csv' in str(err.value)
    assert "missing required column 'longitude'" in str(err.value)


def test_metric_and_baselines(tmp_path):
    from allspark_plugin_graph.baselines import (
        PerSensorRidge,
        TimeOfDayAverage,
        collect,
        last_value,
    )
    from allspark_plugin_graph.dataset import TrafficGraphDataset
    from allspark_plugin_graph.metrics import traffic_scores

    gt = np.full((2, 3, 12), 50.0)
    pred = gt + 5.0
    mask = np.ones_like(gt, dtype=bool)
    gt[0, 0, 2] = 0.0  # a missing reading is never scored
    s = traffic_scores(pred, gt, mask)
    assert s['mae_h3'] == pytest.approx(5.0) and s['rmse'] == pytest.approx(5.0)
    assert s['mape_h12'] == pytest.approx(10.0)

    root = make_root(tmp_path / 'd')
    tr, te = TrafficGraphDataset(root, 'train'), TrafficGraphDataset(root, 'test')
    dtr, dte = collect(tr), collect(te)
    assert np.allclose(last_value(dte, 12)[:, :, 0], dte['x'][:, -1])
    ridge = PerSensorRidge().fit(dtr)
    assert traffic_scores(ridge.predict(dtr), dtr['y'], dtr['mask'])['mae'] < 2.0
    assert TimeOfDayAverage().fit(tr).predict(dte).shape == dte['y'].shape


def test_config_trains_end_to_end(tmp_path):
    root = make_root(tmp_path / 'd')
    opts = {f'{k}_dataloader.dataset.data_root': root for k in ('train', 'val', 'test')}
    opts['model.modalities.graph.encoder.num_nodes'] = N
    opts['val_dataloader.dataset.indices'] = 4
    metrics = run_smoke_training(CONFIG, str(tmp_path / 'work'), max_iters=2, batch_size=4,
                                 cfg_options=opts)
    for key in ('mae_h3', 'rmse_h6', 'mape_h12', 'mae', 'rmse', 'mape'):
        assert np.isfinite(metrics[key])
    assert os.path.exists(tmp_path / 'work' / 'iter_2.pth')
