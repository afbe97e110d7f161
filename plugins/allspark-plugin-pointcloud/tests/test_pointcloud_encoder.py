"""The encoder's kernel-1 convolutions run as matrix products on channels-last points; they must
compute exactly what the ``Conv1d`` layers (and their checkpoints) compute on ``(B, C, N)``."""
import pytest
import torch
from torch import nn

from allspark_plugin_pointcloud.baselines import PointNetClassifier
from allspark_plugin_pointcloud.encoder import (
    MiniPointNet,
    PointTransformerEncoder,
    pointwise_forward,
)


def _conv_reference(net: MiniPointNet, groups: torch.Tensor) -> torch.Tensor:
    """Point-BERT's own formulation: ``Conv1d`` on (BG, C, k)."""
    b, g, k, c = groups.shape
    x = net.first(groups.reshape(b * g, k, c).transpose(1, 2))
    glob = x.max(-1, keepdim=True).values.expand(-1, -1, k)
    x = net.second(torch.cat([glob, x], 1))
    return x.max(-1).values.reshape(b, g, net.out_dim)


@pytest.mark.parametrize('train', [True, False])
def test_mini_pointnet_matches_conv1d(train):
    torch.manual_seed(0)
    net = MiniPointNet(in_chans=6, out_dim=24, channels=(8, 16, 32)).train(train)
    groups = torch.randn(2, 5, 7, 6, requires_grad=True)
    ours = net(groups)
    ours.square().sum().backward()
    grads = [p.grad.clone() for p in net.parameters()] + [groups.grad.clone()]
    net.zero_grad()
    groups.grad = None
    ref = _conv_reference(net, groups)
    ref.square().sum().backward()
    assert ours.shape == (2, 5, 24)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=1e-5)
    for got, want in zip(grads, [p.grad for p in net.parameters()] + [groups.grad]):
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)


def test_pointnet_baseline_matches_conv1d():
    torch.manual_seed(0)
    net = PointNetClassifier(num_classes=5).eval()
    points = torch.randn(3, 50, 3)
    ref = net.classifier(net.features(points.transpose(1, 2)).max(-1).values)
    torch.testing.assert_close(net(points), ref, atol=1e-5, rtol=1e-5)


def test_pointwise_forward_rejects_wider_kernels():
    with pytest.raises(ValueError, match='kernel-1'):
        pointwise_forward(nn.Sequential(nn.Conv1d(3, 4, 3)), torch.randn(5, 3))


def test_encoder_output_shape_and_bad_input():
    enc = PointTransformerEncoder(in_chans=3, num_groups=8, group_size=4, embed_dim=32, depth=1,
                                  num_heads=2, mini_channels=(8, 16, 32), fps_backend='torch')
    assert enc(torch.randn(2, 40, 3)).shape == (2, 9, 32)
    with pytest.raises(ValueError, match=r'\(B, N, 3\)'):
        enc(torch.randn(2, 40, 6))
