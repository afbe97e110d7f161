"""Table plugin: PRSA CSV reader, missing-value policy, splits, bad input, encoder, baseline and
both real configs trained end to end on tiny UCI-format fixtures."""
import os

import numpy as np
import pandas as pd
import pytest
import torch

from allspark.datasets import DataError
from allspark.engine.runner import setup
from allspark.testing import run_smoke_training

setup()  # loads the installed plugins (registers the table classes)

from allspark_plugin_table.baselines import baseline_matrix, fit_gradient_boosting  # noqa: E402
from allspark_plugin_table.dataset import PRSADataset, read_prsa_csv  # noqa: E402
from allspark_plugin_table.encoder import TabularTokenEncoder  # noqa: E402
from allspark_plugin_table.transforms import TableColumnDropout  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
HEADER = ['No', 'year', 'month', 'day', 'hour', 'PM2.5', 'PM10', 'SO2', 'NO2', 'CO', 'O3',
          'TEMP', 'PRES', 'DEWP', 'RAIN', 'wd', 'WSPM', 'station']
WINDS = ['N', 'NNE', 'NE', 'E', 'SE', 'S', 'SW', 'W', 'NW', 'NNW']


def station_rows(station, hours=96, seed=0):
    """UCI-formatted rows (strings) of one station, hourly from 2013-03-01 00h."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(hours):
        day, hour = 1 + i // 24, i % 24
        co = rng.uniform(200, 3000)
        pm = 0.05 * co + rng.normal(0, 5) + 20
        vals = [i + 1, 2013, 3, day, hour, round(pm, 1), round(pm * 1.3, 1),
                round(rng.uniform(2, 40), 1), round(rng.uniform(10, 90), 1), round(co),
                round(rng.uniform(5, 150), 1), round(rng.uniform(-5, 15), 1),
                round(rng.uniform(1005, 1030), 1), round(rng.uniform(-20, 5), 1), 0,
                f'"{WINDS[i % len(WINDS)]}"', round(rng.uniform(0.5, 5), 1), f'"{station}"']
        rows.append([str(v) for v in vals])
    return rows


def write_csv(path, rows, header=HEADER):
    with open(path, 'w', newline='') as f:
        f.write(','.join(f'"{h}"' for h in header) + '\r\n')
        for row in rows:
            f.write(','.join(row) + '\r\n')
    return path


def make_prsa(folder, stations=('Aotizhongxin', 'Changping'), hours=96):
    os.makedirs(folder, exist_ok=True)
    for k, name in enumerate(stations):
        rows = station_rows(name, hours, seed=k)
        rows[3][5] = 'NA'   # missing target -> dropped
        rows[4][9] = 'NA'   # missing CO -> masked
        rows[5][15] = 'NA'  # missing wind direction -> masked
        write_csv(os.path.join(folder, f'PRSA_Data_{name}_20130301-20170228.csv'), rows)
    return folder


def test_table_reader_policy_and_splits(tmp_path):
    root = make_prsa(str(tmp_path / 'prsa'))
    frame = read_prsa_csv(os.path.join(root, 'PRSA_Data_Aotizhongxin_20130301-20170228.csv'))
    assert len(frame) == 96 and np.isnan(frame['PM2.5'][3]) and pd.isna(frame['wd'][5])
    train = PRSADataset(data_root=root, split='train', bins=8)
    test = PRSADataset(data_root=root, split='test', bins=8)
    assert len(train) + len(test) == 2 * 96 - 2  # the two rows without PM2.5 are dropped
    assert abs(len(train) - 0.4 * 190) <= 1
    assert not set(train.samples) & set(test.samples)
    co, wd = train.column_names.index('CO'), train.column_names.index('wd')
    masked = [i for i in range(len(train._frame)) if np.isnan(train._frame['CO'].iloc[i])]
    assert masked and all(train._index[i, co] == 0 for i in masked)  # missing token
    assert (train._index[:, wd] == 0).sum() == 2
    s = train[0]
    assert s['inputs']['table']['index'].shape == (16,) and isinstance(s['data_samples'][
        'gt_value'], float)
    stats = train.stats()['target']
    y = train._target[train._is_train]
    assert np.isclose(stats['mean'][0], y.mean()) and np.isclose(stats['std'][0], y.std())
    # chronological: every training row is earlier than every test row
    tr = PRSADataset(data_root=root, split='train', split_mode='chronological', bins=8)
    te = PRSADataset(data_root=root, split='test', split_mode='chronological', bins=8)
    t = tr._frame['time'].to_numpy()
    assert t[tr.samples].max() < t[te.samples].min()
    assert 0.35 < len(tr) / (len(tr) + len(te)) < 0.45
    # impute: the CO rows get the training median, nothing is masked
    imp = PRSADataset(data_root=root, split='train', bins=8, missing={'CO': 'impute'})
    assert (imp._index[:, co] > 0).all()
    # absolute time beyond the training period -> missing token when outside='missing'
    cols = [dict(name='station'), dict(name='time', bins=8, outside='missing'), dict(name='CO')]
    te = PRSADataset(data_root=root, split='test', split_mode='chronological', columns=cols)
    tr = PRSADataset(data_root=root, split='train', split_mode='chronological', columns=cols)
    assert (te._index[te.samples, 1] == 0).all() and (tr._index[tr.samples, 1] > 0).all()
    sub = PRSADataset(data_root=root, split='test', bins=8, subsample=0.5)
    assert len(sub) == round(0.5 * len(test)) and set(sub.samples) <= set(test.samples)


def test_table_wrong_number_of_columns_names_file_and_line(tmp_path):
    root = make_prsa(str(tmp_path / 'prsa'), stations=('Aotizhongxin',))
    path = os.path.join(root, 'PRSA_Data_Aotizhongxin_20130301-20170228.csv')
    rows = station_rows('Aotizhongxin')
    rows[7] = rows[7][:-2]  # a short row (pandas would silently pad it with NaN)
    write_csv(path, rows)
    with pytest.raises(DataError, match=r'Aotizhongxin.*line 9: 16 fields, expected 18'):
        PRSADataset(data_root=root, split='train')
    rows = station_rows('Aotizhongxin')
    rows[2] = rows[2] + ['1.0']  # a long row
    write_csv(path, rows)
    with pytest.raises(DataError, match=r'line 4: 19 fields, expected 18'):
        PRSADataset(data_root=root, split='train')


def test_table_missing_required_column_names_file_and_column(tmp_path):
    root = str(tmp_path / 'prsa')
    os.makedirs(root)
    keep = [i for i, h in enumerate(HEADER) if h != 'NO2']
    rows = [[r[i] for i in keep] for r in station_rows('Dongsi')]
    path = write_csv(os.path.join(root, 'PRSA_Data_Dongsi_20130301-20170228.csv'), rows,
                     header=[HEADER[i] for i in keep])
    with pytest.raises(DataError) as err:
        PRSADataset(data_root=root, split='train')
    assert path in str(err.value) and "'NO2'" in str(err.value)


def test_table_nan_after_policy_names_column(tmp_path):
    root = make_prsa(str(tmp_path / 'prsa'))
    # policy 'error' for CO: the NA in CO is refused, naming the column
    with pytest.raises(DataError, match=r"column 'CO' is missing"):
        PRSADataset(data_root=root, split='train', missing={'CO': 'error'})
    # an inf is not a missing value: it survives the 'mask' policy and is refused
    path = os.path.join(root, 'PRSA_Data_Changping_20130301-20170228.csv')
    rows = station_rows('Changping', seed=1)
    rows[10][11] = 'inf'  # TEMP
    write_csv(path, rows)
    with pytest.raises(DataError, match=r"line 12: column 'TEMP' is inf after"):
        PRSADataset(data_root=root, split='train')
    # a non-numeric value is refused too
    rows[10][11] = 'warm'
    write_csv(path, rows)
    with pytest.raises(DataError, match=r"column 'TEMP' has 'warm'"):
        PRSADataset(data_root=root, split='train')


def test_table_encoder_transform_and_baseline(tmp_path):
    enc = TabularTokenEncoder(num_columns=4, vocab_size=9, embed_dim=16, depth=1, num_heads=2)
    x = {'index': torch.randint(0, 9, (3, 4)), 'frac': torch.rand(3, 4)}
    assert enc(x).shape == (3, 4, 16)
    with pytest.raises(ValueError, match='outside'):
        enc({'index': torch.full((3, 4), 9), 'frac': torch.rand(3, 4)})
    with pytest.raises(ValueError, match='expects index'):
        enc({'index': torch.zeros(3, 5, dtype=torch.long), 'frac': torch.rand(3, 5)})
    np.random.seed(0)
    sample = {'table': {'index': np.arange(1, 101), 'frac': np.ones(100, np.float32)}}
    out = TableColumnDropout(p=0.5)(sample)['table']
    assert 20 < (out['index'] == 0).sum() < 80 and (out['frac'][out['index'] == 0] == 0).all()
    drops = [TableColumnDropout(p=0.0, column_p={'3': 0.9})(
        {'table': {'index': np.arange(1, 6), 'frac': np.zeros(5, np.float32)}})['table']['index']
        for _ in range(50)]
    drops = np.stack(drops)
    assert (drops[:, [0, 1, 2, 4]] > 0).all() and (drops[:, 3] == 0).sum() > 30
    root = make_prsa(str(tmp_path / 'prsa'))
    train = PRSADataset(data_root=root, split='train', bins=8)
    test = PRSADataset(data_root=root, split='test', bins=8)
    model, vocab = fit_gradient_boosting(train.baseline_frame(), max_iter=5)
    pred = model.predict(baseline_matrix(test.baseline_frame(), vocab))
    assert pred.shape == (len(test),) and np.isfinite(pred).all()


@pytest.mark.parametrize('config', ['table::prsa.py', 'table::prsa_chronological.py'])
def test_table_configs_train_end_to_end(tmp_path, config):
    root = make_prsa(str(tmp_path / 'prsa'))
    opts = {'train_dataloader.dataset.data_root': root,
            'test_dataloader.dataset.data_root': root}
    metrics = run_smoke_training(config, str(tmp_path / 'work'),
                                 max_iters=3, batch_size=16, cfg_options=opts)
    assert np.isfinite(metrics['rmse']) and np.isfinite(metrics['mae']) and 'r2' in metrics
    assert os.path.exists(tmp_path / 'work' / 'iter_3.pth')
    from allspark.engine.checkpoint import safe_torch_load
    ckpt = safe_torch_load(str(tmp_path / 'work' / 'iter_3.pth'))  # weights_only=True
    mean = ckpt['state_dict']['head.scaling.target_mean']
    assert float(mean) > 1.0  # the training split's PM2.5 mean was saved with the weights
