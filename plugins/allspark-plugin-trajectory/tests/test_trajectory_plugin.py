"""Trajectory plugin: ETH-UCY text reader, windows, bad input, metric, baselines, end to end."""
import os

import numpy as np
import pytest

from allspark import plugins
from allspark.datasets import DataError
from allspark.registry import ENCODERS
from allspark.testing import run_smoke_training

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
CONFIG = 'trajectory::eth.py'

@pytest.fixture(autouse=True, scope='module')
def only_this_plugin():
    """Load only this plugin (the others' imports are slow on a shared CPU); afterwards forget
    the discovery so later test modules discover every plugin again."""
    mp = pytest.MonkeyPatch()
    mp.setenv('ALLSPARK_DISABLE_PLUGIN_AUTOLOAD', '1')
    mp.setenv('ALLSPARK_PLUGINS', 'trajectory')
    plugins.reset_for_tests()
    plugins.load_plugins()
    yield
    mp.undo()
    plugins.reset_for_tests()



def write_scene(path: str, n_peds: int = 3, length: int = 24, short: int = 0, seed: int = 0,
                first_frame: int = 0) -> None:
    """A scene file in the original format: tab-separated ``frame ped x y``, every 10 frames;
    ``short`` extra pedestrians with 10-step tracks."""
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
    with open(path, 'w') as f:
        for fr, p, x, y in rows:
            f.write(f'{fr:.1f}\t{p:.1f}\t{x:.3f}\t{y:.3f}\n')


def make_fold(root) -> str:
    for split, seed in (('train', 0), ('val', 1), ('test', 2)):
        os.makedirs(os.path.join(root, split))
        write_scene(os.path.join(root, split, f'scene_{split}.txt'), seed=seed,
                    short=1 if split == 'test' else 0)
    return str(root)


def test_plugin_is_discovered():
    rec = plugins.get_record('trajectory')
    assert rec is not None and rec.status == 'ok', plugins.format_report()
    assert rec.modalities == ['trajectory']
    from allspark_plugin_trajectory.encoder import TrajTransformerEncoder

    assert ENCODERS.get('TrajTransformerEncoder') is TrajTransformerEncoder


def test_windows_and_short_tracks(tmp_path):
    from allspark_plugin_trajectory.dataset import ETHUCYDataset

    root = make_fold(tmp_path / 'fold')
    ds = ETHUCYDataset(root, 'test', max_neighbors=4)
    # 3 pedestrians x (24 - 20 + 1) windows; the 10-step track is skipped and counted
    assert len(ds) == 15 and ds.skipped_short == 1
    s = ds[0]
    traj = s['inputs']['trajectory']
    assert traj['obs'].shape == (8, 2) and np.allclose(traj['obs'][-1], 0)
    assert traj['nbr'].shape == (4, 8, 2) and traj['nbr_pad'].sum() == 1  # 2 walkers + short
    assert s['data_samples']['gt_seq'].shape == (12, 2)
    # Social-GAN-like filter: every frame has 3 (or 4) pedestrians, so nothing is dropped
    assert len(ETHUCYDataset(root, 'test', min_peds=2)) == 15
    assert len(ETHUCYDataset(root, 'test', min_peds=5)) == 0


def test_gap_in_track_breaks_windows(tmp_path):
    from allspark_plugin_trajectory.dataset import ETHUCYDataset

    os.makedirs(tmp_path / 'test')
    with open(tmp_path / 'test' / 'gap.txt', 'w') as f:
        for t in list(range(15)) + list(range(16, 31)):  # one missing frame (150)
            f.write(f'{10 * t} 1 {0.4 * t:.2f} 0.0\n')
    ds = ETHUCYDataset(str(tmp_path), 'test')
    assert len(ds) == 0 and ds.skipped_short == 1


@pytest.mark.parametrize('line, expected', [
    ('10\t1\t0.5\n', 'expected 4 whitespace-separated columns'),
    ('10\t1\t0.5\t1.0\t7\n', 'expected 4 whitespace-separated columns'),
    ('10\t1\tabc\t1.0\n', "column 'x': expected a number, got 'abc'"),
    ('10\t1\t0.5\tnan\n', "column 'y': expected a finite number"),
])
def test_bad_rows_name_file_line_and_column(tmp_path, line, expected):
    from allspark_plugin_trajectory.dataset import ETHUCYDataset

    os.makedirs(tmp_path / 'test')
    path = tmp_path / 'test' / 'bad.txt'
    path.write_text('0\t1\t0.0\t1.0\n' + line)
    with pytest.raises(DataError) as err:
        ETHUCYDataset(str(tmp_path), 'test')
    assert str(path) in str(err.value) and 'line 2' in str(err.value)
    assert expected in str(err.value)


def test_missing_split_folder(tmp_path):
    from allspark_plugin_trajectory.dataset import ETHUCYDataset

    with pytest.raises(DataError, match='no \\*.txt trajectory files'):
        ETHUCYDataset(str(tmp_path), 'train')


def test_metric_and_baselines():
    from allspark_plugin_trajectory.baselines import LinearTrajectoryRegressor, constant_velocity
    from allspark_plugin_trajectory.metrics import trajectory_scores

    t = np.arange(-7, 13, dtype=float)
    track = np.stack([0.4 * t, 0.1 * t], -1)[None]  # straight line, last observed at 0
    obs, gt = track[:, :8], track[:, 8:]
    assert trajectory_scores(constant_velocity(obs), gt)['ade'] < 1e-9
    lin = LinearTrajectoryRegressor().fit(np.repeat(obs, 3, 0), np.repeat(gt, 3, 0))
    assert trajectory_scores(lin.predict(obs), gt)['fde'] < 1e-3
    # two hypotheses: one off by 1 m everywhere, one exact -> best-of-2 = 0, K=1 = 1
    pred = np.stack([gt[0] + [1.0, 0.0], gt[0]])[None]
    s = trajectory_scores(pred, gt)
    assert s['ade'] < 1e-9 and s['fde'] < 1e-9
    assert abs(s['ade_k1'] - 1) < 1e-9 and abs(s['fde_k1'] - 1) < 1e-9


def test_transforms_keep_world_frame(tmp_path):
    from allspark_plugin_trajectory.dataset import ETHUCYDataset
    from allspark_plugin_trajectory.transforms import (
        TrajCanonicalRotate,
        TrajRandomFlip,
        TrajRandomRotate,
        TrajRandomScale,
    )
    from allspark_plugin_trajectory.visualize import to_world

    ds = ETHUCYDataset(make_fold(tmp_path / 'fold'), 'train')
    raw = ds.get_sample(3)
    s = TrajCanonicalRotate()(ds.get_sample(3))
    d = s['trajectory']['obs'][-1] - s['trajectory']['obs'][0]
    assert abs(d[1]) < 1e-4 and d[0] > 0  # heading along +x
    np.random.seed(0)
    s = TrajRandomScale(0.8, 1.2)(TrajRandomFlip(prob=1.0)(TrajRandomRotate(180)(s)))
    for key in ('gt_seq',):
        assert np.allclose(to_world(s[key], s['rot'], s['origin']),
                           raw[key] + raw['origin'], atol=1e-4)
    assert np.allclose(to_world(s['trajectory']['obs'], s['rot'], s['origin']),
                       raw['trajectory']['obs'] + raw['origin'], atol=1e-4)


def test_config_trains_end_to_end(tmp_path):
    root = make_fold(tmp_path / 'fold')
    opts = {f'{k}_dataloader.dataset.data_root': root for k in ('train', 'val', 'test')}
    opts['val_dataloader.dataset.subsample'] = 1
    metrics = run_smoke_training(CONFIG, str(tmp_path / 'work'), max_iters=3, batch_size=4,
                                 cfg_options=opts)
    assert metrics['num_windows'] == 15 and metrics['num_modes'] == 20
    assert 0 <= metrics['ade'] <= metrics['ade_k1'] and np.isfinite(metrics['fde'])
    assert os.path.exists(tmp_path / 'work' / 'iter_3.pth')
