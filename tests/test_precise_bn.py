"""``PreciseBNHook`` / ``recompute_bn_stats``: BatchNorm statistics recomputed with dropout off,
random states untouched, and the hook runs inside a real training run."""
import logging
import os
import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from mmengine.model import BaseModel
from torch import nn

from allspark.engine.precise_bn import PreciseBNHook, recompute_bn_stats
from allspark.testing import run_smoke_training


class DropoutThenBN(BaseModel):
    """x -> Linear -> Dropout(0.5) -> ReLU -> BatchNorm1d: dropout shifts what the BN sees."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 8), nn.Dropout(0.5), nn.ReLU())
        self.bn = nn.BatchNorm1d(8)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.bn(self.body(inputs))
        return {'loss': out.sum()} if mode == 'loss' else out


def _batches(n=6, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [dict(inputs=torch.randn(size, 4, generator=g) + 1.0) for _ in range(n)]


def test_statistics_are_those_of_eval_mode_features():
    torch.manual_seed(0)
    model = DropoutThenBN()
    batches = _batches()
    model.train()
    for b in batches:                       # running stats as training leaves them (dropout on)
        model(**model.data_preprocessor(b, True))
    with torch.no_grad():
        model.eval()
        feats = [model.body(b['inputs']) for b in batches]
    want_mean = torch.stack([f.mean(0) for f in feats]).mean(0)
    want_var = torch.stack([f.var(0) for f in feats]).mean(0)
    assert not torch.allclose(model.bn.running_mean, want_mean, atol=1e-2)
    assert recompute_bn_stats(model, batches, num_batches=100) == len(batches)
    torch.testing.assert_close(model.bn.running_mean, want_mean, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(model.bn.running_var, want_var, atol=1e-5, rtol=1e-5)
    assert model.bn.momentum == 0.1 and not model.training
    assert recompute_bn_stats(model, batches, num_batches=2) == 2


def test_no_batchnorm_is_a_no_op():
    model = nn.Linear(2, 2)
    assert recompute_bn_stats(model, [], 5) == 0


def test_hook_leaves_random_states_alone():
    model = DropoutThenBN().train()
    runner = SimpleNamespace(model=model, train_dataloader=_batches(3),
                             logger=logging.getLogger('test'), epoch=0)
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    PreciseBNHook(num_batches=3)._run(runner, 'epoch 1')
    after = (random.random(), np.random.rand(), torch.rand(1).item())
    random.seed(1), np.random.seed(1), torch.manual_seed(1)
    assert after == (random.random(), np.random.rand(), torch.rand(1).item())
    assert model.training                   # back in the mode training left it in


def test_bad_arguments():
    with pytest.raises(ValueError, match='num_batches'):
        PreciseBNHook(num_batches=0)


def test_runs_in_training_before_the_checkpoint(tmp_path, repo_root, caplog):
    run_smoke_training(os.path.join(repo_root, 'configs', 'quickstart.py'), str(tmp_path),
                       max_iters=3, cfg_options={
                           'model.head.norm': 'batch',
                           'custom_hooks': [dict(type='PreciseBNHook', num_batches=2)]})
    log = open(next(p for p in (tmp_path).rglob('*.log'))).read()
    expected = 'PreciseBNHook: BatchNorm statistics recomputed in eval mode over 2 training batches'
    assert expected in log
    state = torch.load(tmp_path / 'iter_3.pth', weights_only=True, map_location='cpu')['state_dict']
    assert 'head.norm.running_mean' in state and int(state['head.norm.num_batches_tracked']) == 2
