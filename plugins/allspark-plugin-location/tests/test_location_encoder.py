"""MultiScaleLocationEncoder: shapes, batch independence, K-independent size, input errors."""
import math

import numpy as np
import pytest
import torch

from allspark_plugin_location.encoder import MultiScaleLocationEncoder


def _coords(n: int, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    lat = torch.rand(n, generator=g) * 180 - 90
    lon = torch.rand(n, generator=g) * 360 - 180
    return torch.stack([lat, lon], dim=1)


def test_shapes_tokens_and_pooled():
    enc = MultiScaleLocationEncoder(embed_dim=32, num_registers=3, depth=1, num_heads=4,
                                    num_frequencies=16).eval()
    out = enc.forward_features(_coords(5))
    assert out['tokens'].shape == (5, 4 + 3, 32)
    assert enc(_coords(5)).shape == (5, 7, 32)
    assert out['pooled'].shape == (5, 32)
    assert torch.allclose(out['pooled'], out['tokens'][:, :4].mean(1))
    assert enc.out_dim == 32 and enc.num_tokens == 7


def test_embedding_of_a_sample_does_not_depend_on_its_batch():
    torch.manual_seed(0)
    enc = MultiScaleLocationEncoder(embed_dim=32, depth=2, num_frequencies=16).eval()
    a, b = _coords(6, seed=1), _coords(6, seed=2)
    b[0] = a[0]
    with torch.no_grad():
        ea, eb = enc.forward_features(a)['pooled'], enc.forward_features(b)['pooled']
        alone = enc.forward_features(a[:1])['pooled']
    assert torch.allclose(ea[0], eb[0], atol=1e-5)
    assert torch.allclose(ea[0], alone[0], atol=1e-5)
    assert not torch.allclose(ea[1], eb[1], atol=1e-3)  # other samples did change


def test_parameter_count_independent_of_number_of_scales():
    counts = []
    for scales in ([1.0], [1.0, 16.0], [1.0, 16.0, 256.0, 4096.0], [2.0 ** k for k in range(8)]):
        enc = MultiScaleLocationEncoder(embed_dim=32, scales=scales, num_frequencies=16, depth=1)
        counts.append(sum(p.numel() for p in enc.parameters()))
        assert enc(_coords(2)).shape == (2, len(scales) + 2, 32)
    assert len(set(counts)) == 1, counts


def test_scales_change_the_features_and_are_frozen():
    enc = MultiScaleLocationEncoder(embed_dim=16, num_heads=4, num_frequencies=8,
                                    scales=[1.0, 4096.0])
    assert not enc.rff_matrix.requires_grad and 'rff_matrix' in enc.state_dict()
    near = torch.tensor([[48.0, 2.0], [48.0, 2.01]])  # ~0.7 km apart
    f = enc.fourier_features(near)
    coarse = (f[0, 0] - f[1, 0]).abs().max()
    fine = (f[0, 1] - f[1, 1]).abs().max()
    assert coarse < 0.05 < fine  # sigma = 1 barely moves, sigma = 4096 decorrelates
    # same seed -> same frozen matrices; another seed -> different ones
    again = MultiScaleLocationEncoder(embed_dim=16, num_heads=4, num_frequencies=8,
                                      scales=[1.0, 4096.0])
    other = MultiScaleLocationEncoder(embed_dim=16, num_heads=4, num_frequencies=8,
                                      scales=[1.0, 4096.0], seed=1)
    assert torch.equal(enc.rff_matrix, again.rff_matrix)
    assert not torch.equal(enc.rff_matrix, other.rff_matrix)


def test_raw_mode_baseline():
    enc = MultiScaleLocationEncoder(embed_dim=16, num_heads=4, mode='raw', num_registers=1)
    assert enc(_coords(3)).shape == (3, 2, 16)
    assert enc.num_scale_tokens == 1
    feats = enc.fourier_features(torch.tensor([[45.0, -90.0]]))
    assert torch.allclose(feats, torch.tensor([[[0.5, -0.5]]]))


@pytest.mark.parametrize('bad,match', [
    (torch.tensor([[120.0, 45.0]]), r'latitude at index 0 is 120.0.*\(lat, lon\)'),
    (torch.tensor([[10.0, 200.0]]), r'longitude at index 0 is 200.0'),
    (torch.tensor([[math.nan, 0.0]]), r'latitude at index 0 is nan'),
    (torch.tensor([[0.0, math.inf]]), r'longitude at index 0 is inf'),
    (torch.zeros(3, 3), r'\(B, 2\) coordinates as \(lat, lon\).*SatCLIP takes \(lon, lat\)'),
])
def test_bad_input_errors_name_the_order(bad, match):
    enc = MultiScaleLocationEncoder(embed_dim=16, num_heads=4, num_frequencies=8)
    with pytest.raises(ValueError, match=match):
        enc(bad)


def test_bad_options():
    with pytest.raises(ValueError, match='mode'):
        MultiScaleLocationEncoder(mode='sphere')
    with pytest.raises(ValueError, match='positive'):
        MultiScaleLocationEncoder(scales=[0.0])


def test_embed_helper_batches_and_keeps_training_flag():
    enc = MultiScaleLocationEncoder(embed_dim=16, num_heads=4, num_frequencies=8).train()
    coords = np.array([[10.0, 20.0], [-33.9, 151.2], [51.5, -0.13]])
    emb = enc.embed(coords, batch_size=2)
    assert emb.shape == (3, 16) and enc.training
    assert torch.allclose(emb, enc.eval().forward_features(torch.as_tensor(coords))['pooled'],
                          atol=1e-5)


def test_gradients_reach_parameters_not_buffers():
    enc = MultiScaleLocationEncoder(embed_dim=16, num_heads=4, num_frequencies=8)
    enc(_coords(4)).sum().backward()
    assert enc.mlp[0].weight.grad is not None and enc.registers.grad is not None
