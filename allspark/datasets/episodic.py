"""``EpisodicSampler``: batches that are few-shot episodes, for episodic training (ProtoNet).

Each episode draws ``way`` classes, then ``shot + query`` distinct samples of each; it yields the
support samples of every class first (class by class, ``shot`` each), then their queries, so a
dataloader with ``batch_size = way * (shot + query)`` (and no shuffling of its own) delivers one
episode per batch, which ``PrototypeHead`` splits back by label.  Episodes depend only on
``seed`` and the epoch (``set_epoch``, called by mmengine's ``DistSamplerSeedHook``).

Config::

    train_dataloader = dict(
        batch_size=5 * (1 + 3),
        sampler=dict(type='EpisodicSampler', way=5, shot=1, query=3, episodes_per_epoch=50),
        ...)
"""
from __future__ import annotations

from typing import Iterator, Optional, Sequence

import numpy as np
from torch.utils.data import Sampler

from allspark.registry import DATA_SAMPLERS


def dataset_labels(dataset) -> np.ndarray:
    """Integer class labels of every sample, read from the dataset's sample records (no data is
    loaded): ``dataset.samples[i]['gt_label']``."""
    samples = getattr(dataset, 'samples', None)
    if samples is None:
        raise TypeError(f'{type(dataset).__name__} has no `samples` list of records; episodic '
                        f'sampling needs each record\'s gt_label')
    try:
        return np.asarray([int(s['gt_label']) for s in samples], dtype=np.int64)
    except (KeyError, TypeError) as exc:
        raise TypeError(f'{type(dataset).__name__}: sample records need an integer gt_label '
                        f'for episodic sampling ({exc})') from None


@DATA_SAMPLERS.register_module()
class EpisodicSampler(Sampler):
    """Args:
        dataset: any dataset whose ``samples`` records carry ``gt_label``.
        way, shot, query: classes per episode, support and query samples per class.
        episodes_per_epoch: episodes (batches) per epoch.
        classes: label ids to draw from (``None``: every label with ``shot + query`` samples).
        seed: ``None`` takes mmengine's synchronised random seed (like ``DefaultSampler``).
    """

    def __init__(self, dataset, way: int, shot: int, query: int, episodes_per_epoch: int = 100,
                 classes: Optional[Sequence[int]] = None, seed: Optional[int] = None):
        if min(way, shot, query, episodes_per_epoch) < 1:
            raise ValueError(f'EpisodicSampler: way, shot, query and episodes_per_epoch must be '
                             f'>= 1 (got {way}, {shot}, {query}, {episodes_per_epoch})')
        if seed is None:
            from mmengine.dist import sync_random_seed
            seed = sync_random_seed()
        self.way, self.shot, self.query = int(way), int(shot), int(query)
        self.episodes_per_epoch, self.seed, self.epoch = int(episodes_per_epoch), int(seed), 0
        labels = dataset_labels(dataset)
        wanted = sorted(set(labels.tolist())) if classes is None else [int(c) for c in classes]
        self.pools = {c: np.flatnonzero(labels == c) for c in wanted}
        need = self.shot + self.query
        small = {c: len(p) for c, p in self.pools.items() if len(p) < need}
        if classes is not None and small:
            raise ValueError(f'EpisodicSampler: classes {small} (label: samples) have fewer '
                             f'than shot + query = {need} samples')
        self.classes = [c for c in wanted if c not in small]
        if len(self.classes) < self.way:
            raise ValueError(f'EpisodicSampler: way={self.way} but only {len(self.classes)} '
                             f'classes have shot + query = {need} samples (per-class counts: '
                             f'{ {c: len(p) for c, p in self.pools.items()} })')

    @property
    def episode_size(self) -> int:
        """The dataloader's ``batch_size``: ``way * (shot + query)``."""
        return self.way * (self.shot + self.query)

    def __iter__(self) -> Iterator[int]:
        rng = np.random.default_rng([self.seed, self.epoch])
        for _ in range(self.episodes_per_epoch):
            chosen = rng.choice(self.classes, self.way, replace=False)
            draws = [rng.choice(self.pools[c], self.shot + self.query, replace=False)
                     for c in chosen]
            for d in draws:
                yield from (int(i) for i in d[:self.shot])
            for d in draws:
                yield from (int(i) for i in d[self.shot:])

    def __len__(self) -> int:
        return self.episodes_per_epoch * self.episode_size

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)
