"""``AutocastOptimWrapper``: the training forward runs in bfloat16, weights stay float32, and a
real config trains with it through the runner (checkpoint included)."""
import os

import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from torch import nn

from allspark.engine.optim import AutocastOptimWrapper
from allspark.testing import run_smoke_training


def _build(model: nn.Module, **kwargs):
    with DefaultScope.overwrite_default_scope('allspark'):
        return build_optim_wrapper(model, dict(type='AutocastOptimWrapper',
                                               optimizer=dict(type='SGD', lr=0.1), **kwargs))


def test_forward_is_bfloat16_and_weights_stay_float32():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
    wrapper = _build(model)
    assert isinstance(wrapper, AutocastOptimWrapper)
    x, y = torch.randn(64, 8), torch.randn(64, 1)
    losses = []
    for _ in range(20):
        with wrapper.optim_context(model):
            out = model(x)
            assert out.dtype == torch.bfloat16
            loss = nn.functional.mse_loss(out.float(), y)
        wrapper.update_params(loss)
        losses.append(loss.item())
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert losses[-1] < 0.9 * losses[0]
    assert model(x).dtype == torch.float32          # outside the context: plain float32


def test_disabled_is_plain_float32():
    model = nn.Linear(4, 2)
    wrapper = _build(model, enabled=False)
    with wrapper.optim_context(model):
        assert model(torch.randn(3, 4)).dtype == torch.float32


def test_float16_is_refused_with_a_reason():
    with pytest.raises(ValueError, match='loss scaling'):
        AutocastOptimWrapper(dtype='float16',
                             optimizer=torch.optim.SGD([nn.Parameter(torch.ones(1))], lr=1))


def test_quickstart_trains_under_bfloat16(tmp_path, repo_root):
    metrics = run_smoke_training(os.path.join(repo_root, 'configs', 'quickstart.py'),
                                 str(tmp_path), max_iters=3,
                                 cfg_options={'optim_wrapper.type': 'AutocastOptimWrapper'})
    assert metrics and all(torch.isfinite(torch.tensor(float(v))) for v in metrics.values())
    assert os.path.exists(os.path.join(str(tmp_path), 'iter_3.pth'))
