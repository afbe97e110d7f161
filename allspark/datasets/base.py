"""``BaseDataset``: what every AllSpark dataset shares, and the batch collation.

A dataset lists its samples once (``load_samples``), reads one on demand (``get_sample``, a flat
dict such as ``{'sar': array, 'gt_label': 3, 'img_path': ...}``), runs the transform pipeline and
packs the result as ``{'inputs': {modality: ...}, 'data_samples': {...everything else}}``.  The
keys named in ``modalities`` become model inputs.  ``stats()`` returns training-split statistics
(input normalisation, regression targets) that ``DatasetStatsHook`` copies into the model.
"""
from __future__ import annotations

import numbers
from typing import Any, Optional, Sequence

import numpy as np
import torch
from mmengine.dataset import Compose
from torch.utils.data import Dataset
from torch.utils.data._utils.collate import default_collate

from allspark.registry import FUNCTIONS


class DataError(ValueError):
    """Bad input data: the message names the file, the field and what was expected."""


class BaseDataset(Dataset):
    """Args:
        data_root: folder (or file) the data lives in: a config value, never hard-coded.
        split: ``'train'``, ``'val'`` or ``'test'`` (datasets may accept more).
        pipeline: transform configs (built from the ``TRANSFORMS`` registry).
        modalities: keys of a sample that are model inputs (default: the class's ``MODALITIES``).
        indices: keep only these sample indices (or the first ``indices`` if an int).

    A dataset whose samples may lack some modalities (co-located data, modality dropping) lists
    them in ``optional_modalities``: a sample without one of them has no such input, and
    ``allspark.collate`` writes placeholders plus ``inputs['modality_mask']`` for the batch.
    """

    #: modalities a sample may lack (``pack`` then leaves them out instead of raising).
    optional_modalities: Sequence[str] = ()

    MODALITIES: Sequence[str] = ()
    METAINFO: dict = {}

    def __init__(self, data_root: str = '', split: str = 'train', pipeline: Sequence = (),
                 modalities: Optional[Sequence[str]] = None, indices=None):
        self.data_root, self.split = data_root, split
        self.modalities = list(modalities or self.MODALITIES)
        if not self.modalities:
            raise ValueError(f'{type(self).__name__}: no modalities declared')
        self.pipeline = Compose(list(pipeline))
        self.samples = self.load_samples()
        if indices is not None:
            keep = range(indices) if isinstance(indices, int) else indices
            self.samples = [self.samples[i] for i in keep]

    # -- to implement ---------------------------------------------------------------------
    def load_samples(self) -> list[dict]:
        """List the samples (paths, labels, offsets): cheap, done once."""
        raise NotImplementedError

    def get_sample(self, index: int) -> dict:
        """Read sample ``index`` as a flat dict; the default returns a copy of its record."""
        return dict(self.samples[index])

    def stats(self) -> Optional[dict]:
        """Training-split statistics: ``{'inputs': {m: {'mean','std'}}, 'target': {...}}``."""
        return None

    # -- shared ---------------------------------------------------------------------------
    @property
    def metainfo(self) -> dict:
        return dict(self.METAINFO)

    def __len__(self) -> int:
        return len(self.samples)

    def pack(self, sample: dict) -> dict:
        if 'inputs' in sample and 'data_samples' in sample:
            return sample
        missing = [m for m in self.modalities
                   if m not in sample and m not in self.optional_modalities]
        if missing:
            raise KeyError(f'{type(self).__name__}: sample has no {missing} after the pipeline '
                           f'(keys: {sorted(sample)})')
        inputs = {m: sample.pop(m) for m in self.modalities if m in sample}
        return dict(inputs=inputs, data_samples=sample)

    def __getitem__(self, index: int) -> dict:
        sample = self.pipeline(self.get_sample(index))
        if sample is None:
            raise DataError(f'{type(self).__name__}: the pipeline dropped sample {index}')
        return self.pack(sample)


def _to_tensor(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.dtype != object:
        return torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, np.generic):
        return value.item()
    return value


def _collate_inputs(values: list, name: str) -> Any:
    first = values[0]
    if isinstance(first, dict):
        return {k: _collate_inputs([v[k] for v in values], f'{name}.{k}') for k in first}
    if isinstance(first, (str, bytes)):
        return list(values)
    values = [_to_tensor(v) for v in values]
    if isinstance(values[0], torch.Tensor):
        shapes = {tuple(v.shape) for v in values}
        if len(shapes) > 1:
            raise DataError(f'cannot batch input {name!r}: samples have different shapes '
                            f'{sorted(shapes)[:4]}; add a resize/crop/pad transform')
        return torch.stack(values)
    if isinstance(values[0], numbers.Number):
        return torch.as_tensor(values)
    return default_collate(values)


#: Reserved input key of the per-modality presence mask (``AllSpark`` reads it).
MODALITY_MASK_KEY = 'modality_mask'


def _placeholder(value: Any) -> Any:
    """A stand-in of the same type and shape for a sample that lacks the modality."""
    if isinstance(value, dict):
        return {k: _placeholder(v) for k, v in value.items()}
    if isinstance(value, str):
        return ''
    if isinstance(value, torch.Tensor):
        return torch.zeros_like(value)
    if isinstance(value, np.ndarray):
        return np.zeros_like(value)
    if isinstance(value, numbers.Number):
        return type(value)(0)
    raise DataError(f'cannot make a placeholder for a missing input of type '
                    f'{type(value).__name__}')


@FUNCTIONS.register_module(name='collate')
def allspark_collate(batch: Sequence[dict]) -> dict:
    """Stack each modality's inputs (strings stay lists); keep data samples as a list of dicts.

    Samples may lack modalities: the batch holds every modality some sample has (in order of
    first appearance), a placeholder (zeros / ``''``) where a sample lacks it, and
    ``inputs['modality_mask'] = {m: (B,) bool}`` (True = real) for each modality some sample
    lacks.  A modality no sample has is not in the batch."""
    names: list = []
    for b in batch:
        names.extend(m for m in b['inputs'] if m not in names)
    inputs, mask = {}, {}
    for m in names:
        have = [m in b['inputs'] for b in batch]
        first = next(b['inputs'][m] for b in batch if m in b['inputs'])
        values = [b['inputs'][m] if m in b['inputs'] else _placeholder(first) for b in batch]
        inputs[m] = _collate_inputs(values, m)
        if not all(have):
            mask[m] = torch.tensor(have, dtype=torch.bool)
    if mask:
        inputs[MODALITY_MASK_KEY] = mask
    samples = [{k: _to_tensor(v) for k, v in b['data_samples'].items()} for b in batch]
    return dict(inputs=inputs, data_samples=samples)
