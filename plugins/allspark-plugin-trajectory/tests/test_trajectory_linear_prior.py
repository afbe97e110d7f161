"""ETHUCYDataset(linear_prior=True): an equivariant linear-regression forecast fitted on the fold's
train/ windows only, the same for every split, moved with the track by every augmentation, and
better than constant velocity where walkers slow down."""
import os

import numpy as np

from allspark.engine.runner import load_config, setup

setup()

from allspark_plugin_trajectory.baselines import (  # noqa: E402
    EquivariantTrajectoryRegressor,
    constant_velocity,
    windows,
)
from allspark_plugin_trajectory.dataset import ETHUCYDataset  # noqa: E402
from allspark_plugin_trajectory.transforms import (  # noqa: E402
    TrajCanonicalRotate,
    TrajRandomFlip,
    TrajRandomRotate,
    TrajRandomScale,
)


def _write_slowing_scene(path, seed, n_peds=6, length=30, decay=0.93):
    """Walkers whose speed decays by ``decay`` per step (ETH-UCY text format)."""
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n_peds):
        pos, vel = rng.uniform(-5, 5, 2), rng.uniform(0.3, 0.8, 2) * rng.choice([-1, 1], 2)
        for t in range(length):
            x, y = pos + 0.005 * rng.standard_normal(2)
            rows.append((10 * t, p + 1, x, y))
            pos, vel = pos + vel, vel * decay
    rows.sort()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.writelines(f'{fr:.1f}\t{p:.1f}\t{x:.3f}\t{y:.3f}\n' for fr, p, x, y in rows)


def _fold(tmp_path):
    for split, seed in (('train', 0), ('val', 1), ('test', 2)):
        _write_slowing_scene(str(tmp_path / split / f'scene_{split}.txt'), seed)
    return str(tmp_path)


def test_the_prior_is_fitted_on_train_only_and_shared_by_every_split(tmp_path):
    root = _fold(tmp_path)
    train = ETHUCYDataset(data_root=root, split='train', linear_prior=True, pipeline=[])
    test = ETHUCYDataset(data_root=root, split='test', linear_prior=True, pipeline=[])
    np.testing.assert_array_equal(train.linear_prior_coef, test.linear_prior_coef)
    obs, gt = windows(ETHUCYDataset(data_root=root, split='train', pipeline=[]))
    np.testing.assert_allclose(train.linear_prior_coef,
                               EquivariantTrajectoryRegressor().fit(obs, gt).coef, atol=1e-5)
    # a different test scene does not move the fit
    _write_slowing_scene(str(tmp_path / 'test' / 'scene_test.txt'), seed=7, decay=1.0)
    again = ETHUCYDataset(data_root=root, split='test', linear_prior=True, pipeline=[])
    np.testing.assert_array_equal(again.linear_prior_coef, train.linear_prior_coef)
    assert 'seq_prior_linear' not in ETHUCYDataset(data_root=root, split='test',
                                                   pipeline=[]).get_sample(0)


def test_the_prior_beats_constant_velocity_on_slowing_walkers(tmp_path):
    test = ETHUCYDataset(data_root=_fold(tmp_path), split='test', linear_prior=True,
                         pipeline=[])
    obs, gt = windows(test)
    prior = np.stack([test.get_sample(i)['seq_prior_linear'] for i in range(len(test))])
    ade_prior = np.linalg.norm(prior - gt, axis=-1).mean()
    ade_cv = np.linalg.norm(constant_velocity(obs, 12) - gt, axis=-1).mean()
    assert ade_prior < 0.2 * ade_cv, (ade_prior, ade_cv)


def test_every_augmentation_moves_the_prior_with_the_track(tmp_path):
    ds = ETHUCYDataset(data_root=_fold(tmp_path), split='train', linear_prior=True,
                       pipeline=[])
    np.random.seed(0)
    for i in range(0, len(ds), max(1, len(ds) // 5)):
        s = ds.get_sample(i)
        for t in (TrajCanonicalRotate(), TrajRandomRotate(180.0), TrajRandomFlip(prob=1.0),
                  TrajRandomScale(0.5, 1.5)):
            s = t(s)
        expected = ds.linear_prior_coef @ s['trajectory']['obs']
        np.testing.assert_allclose(s['seq_prior_linear'], expected, atol=1e-4)
        assert s['seq_prior_linear'].shape == s['gt_seq'].shape


def test_linear_prior_config_switches_the_prior_with_one_key():
    cfg = load_config('trajectory::eth_linear_prior.py')
    assert cfg.model.head.prior_key == 'seq_prior_linear' and cfg.model.head.mean_mode
    for split in ('train', 'val', 'test'):
        dataset = cfg[f'{split}_dataloader'].dataset
        assert dataset.linear_prior is True
        # constant velocity stays in every sample: prior_key=seq_prior selects it
        assert dataset.pipeline[-1] == dict(type='TrajConstantVelocityPrior', key='seq_prior')
