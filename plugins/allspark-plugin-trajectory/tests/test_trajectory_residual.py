"""TrajConstantVelocityPrior: the prior equals the constant-velocity baseline in the sample's
frame (also after rotation/flip/scale), and the shipped residual config names it everywhere."""
import numpy as np

from allspark.engine.runner import load_config, setup

setup()

from allspark_plugin_trajectory.baselines import constant_velocity  # noqa: E402
from allspark_plugin_trajectory.transforms import (  # noqa: E402
    TrajCanonicalRotate,
    TrajConstantVelocityPrior,
    TrajRandomFlip,
    TrajRandomScale,
)


def _sample(rng):
    obs = np.cumsum(rng.normal(0.4, 0.1, (8, 2)), 0).astype(np.float32)
    obs -= obs[-1]
    return dict(trajectory=dict(obs=obs, nbr=np.zeros((2, 8, 2), np.float32),
                                nbr_pad=np.ones(2, bool)),
                gt_seq=rng.normal(0, 1, (12, 2)).astype(np.float32))


def test_prior_is_constant_velocity_in_the_final_frame():
    rng = np.random.default_rng(0)
    np.random.seed(0)
    for _ in range(5):
        s = _sample(rng)
        for t in (TrajCanonicalRotate(), TrajRandomFlip(prob=1.0), TrajRandomScale(0.5, 0.6),
                  TrajConstantVelocityPrior()):
            s = t(s)
        expected = constant_velocity(s['trajectory']['obs'][None].astype(np.float64), 12)[0]
        np.testing.assert_allclose(s['seq_prior'], expected, atol=1e-5)
        assert s['seq_prior'].shape == s['gt_seq'].shape and s['seq_prior'].dtype == np.float32


def test_residual_config_puts_the_prior_last_in_every_pipeline():
    cfg = load_config('trajectory::eth_residual.py')
    assert cfg.model.head.prior_key == 'seq_prior' and cfg.model.head.mean_mode
    for split in ('train', 'val', 'test'):
        last = cfg[f'{split}_dataloader'].dataset.pipeline[-1]
        assert last == dict(type='TrajConstantVelocityPrior', key='seq_prior')
