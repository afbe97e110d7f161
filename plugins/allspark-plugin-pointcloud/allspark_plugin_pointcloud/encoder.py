"""``PointTransformerEncoder``: the AllSpark paper's point cloud encoder, after Point-BERT.

    points (B, N, 3|C)
      -> PointGrouper: exact FPS of G centres + k nearest neighbours
                                                        (B, G, k, C), centres (B, G, 3)
      -> MiniPointNet: shared 1-D convolutions per group, max-pooled   (B, G, D)
      -> + positional embedding MLP(centre xyz); [CLS] token prepended
      -> transformer encoder (``depth`` pre-norm layers; paper: 12)    (B, 1 + G, D)

Clouds with fewer points than the grouper needs (``max(G, k)``) are resampled with replacement
first (:func:`~allspark_plugin_pointcloud.fps.resample_points`).  Outside training the grouper
caches each cloud's grouping (FPS + kNN indices) under a hash of its coordinates, so the fixed
test clouds are grouped once however many times they are evaluated.

Reference: X. Yu et al., "Point-BERT: Pre-training 3D Point Cloud Transformers with Masked Point
Modeling", CVPR 2022.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from allspark.registry import ENCODERS
from allspark_plugin_pointcloud.fps import farthest_point_sample, knn_indices, resample_points


class PointGrouper(nn.Module):
    """FPS centres + kNN groups.  ``(B, N, C) -> groups (B, G, k, C)`` (xyz relative to the
    centre, extra channels as they are) and ``centres (B, G, 3)``.

    Args:
        num_groups: ``G`` centres per cloud.
        group_size: ``k`` neighbours per centre.
        backend: FPS backend (``'auto'``: Open3D on CPU, torch on GPU).
        cache_size: groupings kept (LRU) for clouds seen outside training; 0 disables.
    """

    def __init__(self, num_groups: int = 64, group_size: int = 32, backend: str = 'auto',
                 cache_size: int = 20000):
        super().__init__()
        self.num_groups, self.group_size = num_groups, group_size
        self.backend, self.cache_size = backend, cache_size
        self._cache: OrderedDict = OrderedDict()
        self.cache_hits = self.cache_misses = 0

    @staticmethod
    def _key(cloud: torch.Tensor) -> bytes:
        return hashlib.blake2b(cloud.detach().cpu().contiguous().numpy().tobytes(),
                               digest_size=16).digest()

    def _group_indices(self, xyz: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        centre_idx = farthest_point_sample(xyz, self.num_groups, backend=self.backend)
        rows = torch.arange(xyz.shape[0], device=xyz.device)[:, None]
        centres = xyz[rows, centre_idx]
        return centre_idx, knn_indices(xyz, centres, self.group_size)

    def indices(self, xyz: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, G)`` centre and ``(B, G, k)`` neighbour indices, cached outside training."""
        if self.training or not self.cache_size:
            return self._group_indices(xyz)
        keys = [self._key(c) for c in xyz]
        missing = [i for i, k in enumerate(keys) if k not in self._cache]
        self.cache_hits += len(keys) - len(missing)
        self.cache_misses += len(missing)
        if missing:
            c_idx, k_idx = self._group_indices(xyz[missing])
            dtype = np.int16 if xyz.shape[1] < 2 ** 15 else np.int64
            for j, i in enumerate(missing):
                self._cache[keys[i]] = (c_idx[j].cpu().numpy().astype(dtype),
                                        k_idx[j].cpu().numpy().astype(dtype))
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        for k in keys:
            self._cache.move_to_end(k)
        c_idx = torch.from_numpy(np.stack([self._cache[k][0] for k in keys])).long()
        k_idx = torch.from_numpy(np.stack([self._cache[k][1] for k in keys])).long()
        return c_idx.to(xyz.device), k_idx.to(xyz.device)

    def forward(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        needed = max(self.num_groups, self.group_size)
        if points.shape[1] < needed:  # documented policy: resample with replacement
            points = resample_points(points, needed)
        xyz = points[..., :3].contiguous()
        c_idx, k_idx = self.indices(xyz)
        batch = torch.arange(points.shape[0], device=points.device)
        centres = xyz[batch[:, None], c_idx]                        # (B, G, 3)
        groups = points[batch[:, None, None], k_idx]                # (B, G, k, C)
        rel = groups[..., :3] - centres.unsqueeze(2)
        groups = torch.cat([rel, groups[..., 3:]], -1)
        return groups, centres


def pointwise_forward(layers: nn.Sequential, x: torch.Tensor) -> torch.Tensor:
    """Run a stack of kernel-1 ``Conv1d`` / ``BatchNorm1d`` / activation layers on points stored
    channels-last: ``(M, C_in) -> (M, C_out)``, one row per point.

    Same result (and the same parameters, so Point-BERT / PointNet checkpoints load) as calling
    ``layers`` on ``(B, C, N)``, but a kernel-1 convolution becomes one matrix product: on CPU the
    oneDNN ``Conv1d`` path was measured at 58 ms per backward call for a (512, 128, 32) input,
    a quarter of an AllSpark ModelNet40 training step; the matrix product takes a few ms."""
    for layer in layers:
        if isinstance(layer, nn.Conv1d):
            if layer.kernel_size != (1,):
                raise ValueError(f'pointwise_forward needs kernel-1 convolutions, got {layer}')
            x = F.linear(x, layer.weight.squeeze(-1), layer.bias)
        else:   # BatchNorm1d normalises (M, C) over M exactly as it does (B, C, N) over B and N
            x = layer(x)
    return x


class MiniPointNet(nn.Module):
    """Point-BERT's group encoder: ``(B, G, k, C) -> (B, G, D)``.

    conv(C->c1)-BN-ReLU-conv(c1->c2), max over the group, concat [global, per point], then
    conv(2*c2->c3)-BN-ReLU-conv(c3->D), max over the group (Point-BERT: 128, 256, 512)."""

    def __init__(self, in_chans: int = 3, out_dim: int = 256, channels=(128, 256, 512)):
        super().__init__()
        c1, c2, c3 = channels
        self.first = nn.Sequential(nn.Conv1d(in_chans, c1, 1), nn.BatchNorm1d(c1),
                                   nn.ReLU(inplace=True), nn.Conv1d(c1, c2, 1))
        self.second = nn.Sequential(nn.Conv1d(2 * c2, c3, 1), nn.BatchNorm1d(c3),
                                    nn.ReLU(inplace=True), nn.Conv1d(c3, out_dim, 1))
        self.out_dim = out_dim

    def forward(self, groups: torch.Tensor) -> torch.Tensor:
        b, g, k, c = groups.shape
        x = pointwise_forward(self.first, groups.reshape(b * g * k, c))  # (BGk, c2)
        x = x.reshape(b * g, k, -1)
        glob = x.max(1, keepdim=True).values.expand(-1, k, -1)
        x = torch.cat([glob, x], -1).reshape(b * g * k, -1)
        x = pointwise_forward(self.second, x).reshape(b * g, k, self.out_dim)
        return x.max(1).values.reshape(b, g, self.out_dim)


@ENCODERS.register_module()
class PointTransformerEncoder(nn.Module):
    """Point-BERT-style encoder.  ``(B, N, in_chans) -> (B, 1 + G, embed_dim)``.

    Args:
        in_chans: 3 (xyz) or 6 (xyz + normals).
        num_groups / group_size: ``G`` FPS centres and ``k`` neighbours per group.
        embed_dim / depth / num_heads / mlp_ratio: transformer (paper: 384 / 12 / 6 / 4).
        mini_channels: the mini-PointNet's hidden widths (Point-BERT: 128, 256, 512).
        fps_backend: ``'auto'`` | ``'open3d'`` | ``'torch'``.
        drop_path: dropout inside the transformer layers.
    """

    def __init__(self, in_chans: int = 3, num_groups: int = 64, group_size: int = 32,
                 embed_dim: int = 384, depth: int = 12, num_heads: int = 6,
                 mlp_ratio: float = 4.0, mini_channels=(128, 256, 512),
                 fps_backend: str = 'auto', dropout: float = 0.0, cache_size: int = 20000):
        super().__init__()
        self.in_chans, self.out_dim = in_chans, embed_dim
        self.grouper = PointGrouper(num_groups, group_size, fps_backend, cache_size)
        self.group_encoder = MiniPointNet(in_chans, embed_dim, tuple(mini_channels))
        self.pos_embed = nn.Sequential(nn.Linear(3, 128), nn.GELU(), nn.Linear(128, embed_dim))
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.cls_pos = nn.Parameter(torch.randn(1, 1, embed_dim) * 0.02)
        layer = nn.TransformerEncoderLayer(embed_dim, num_heads, int(embed_dim * mlp_ratio),
                                           dropout=dropout, activation='gelu',
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(embed_dim)

    def forward(self, points: torch.Tensor) -> torch.Tensor:
        if points.dim() != 3 or points.shape[-1] != self.in_chans:
            raise ValueError(f'PointTransformerEncoder expects points (B, N, {self.in_chans}), '
                             f'got {tuple(points.shape)}')
        groups, centres = self.grouper(points.float())
        tokens = self.group_encoder(groups)                                 # (B, G, D)
        cls = self.cls_token.expand(tokens.shape[0], -1, -1)
        x = torch.cat([cls, tokens], 1)
        pos = torch.cat([self.cls_pos.expand(tokens.shape[0], -1, -1),
                         self.pos_embed(centres)], 1)
        return self.norm(self.blocks(x + pos))
