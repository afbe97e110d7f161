"""``MSTARDataset``: SAR target chips in class folders, ``<data_root>/<split>/<class>/<chip>``.

Chips may be 8-bit JPEG (the MSTAR release used here), PNG, TIFF or multi-band GeoTIFF (e.g. a
2-channel dual-polarisation chip), read by :mod:`allspark_plugin_sar.io`.
"""
from __future__ import annotations

import os
import warnings
from typing import Optional, Sequence

import numpy as np

from allspark.datasets import BaseDataset, DataError
from allspark.registry import DATASETS

from allspark_plugin_sar.io import SAR_EXTENSIONS, center_crop, read_sar_chip


@DATASETS.register_module()
class MSTARDataset(BaseDataset):
    """MSTAR 10-class SOC (or any SAR chip set laid out in class folders).

    Format: ``<data_root>/{train,test}/<class>/<name>.{jpg,jpeg,png,tif,tiff}``; other files are
    ignored.  Classes are the class folders of ``train_split`` (sorted); a class folder in another
    split that the training split lacks is a ``DataError``.

    Classes (SOC): 2S1, BMP2, BRDM_2, BTR60, BTR70, D7, T62, T72, ZIL131, ZSU_23_4.
    Splits (SOC): train = 17 deg depression (2,746 chips here), test = 15 deg (2,425).

    Preprocessing: each chip is read as float32 ``(C, H, W)`` (8-bit / 255), checked against
    ``channels``, its NaN/nodata pixels handled by the ``nodata`` policy (see ``io.py``), and
    centre-cropped to ``crop_size`` (chips are 128..193 px; AConvNets uses the centre 88 x 88).
    With ``crop_size=96`` the pipeline then takes a random 88 crop (+-4 px shift) in training and
    the centre 88 at test, which is exactly the centre 88 of the original chip.

    Args:
        channels: expected band count (1 for MSTAR magnitude, 2 for dual-pol GeoTIFF).
        crop_size: centre crop applied on read (None keeps the chip size).
        cache: keep the decoded, cropped chips in memory (decode each file once).
        skip_bad_files: ``False`` (default): an unreadable / truncated / wrong-band file raises a
            ``DataError`` naming it.  ``True``: every file is read up front, bad ones are left
            out with a warning each and a summary warning with the count (``self.skipped``).
        nodata, fill_value: NaN/nodata policy, ``'fill'`` (with ``fill_value``) or ``'error'``.
        train_split: the split whose folders define the classes.

    Samples: ``{'sar': float32 (C, crop, crop), 'gt_label': int, 'img_path': str,
    'nodata_fraction': float}``.

    Citation: T. D. Ross et al., "Standard SAR ATR evaluation experiments using the MSTAR public
    release data set", Proc. SPIE 3370, 1998; S. Chen et al., "Target classification using the
    deep convolutional networks for SAR images" (AConvNets), IEEE TGRS 54(8), 2016.
    """

    MODALITIES = ('sar',)

    def __init__(self, data_root: str = '', split: str = 'train', pipeline: Sequence = (),
                 channels: int = 1, crop_size: Optional[int] = None, cache: bool = True,
                 skip_bad_files: bool = False, nodata: str = 'fill', fill_value: float = 0.0,
                 train_split: str = 'train', classes: Optional[Sequence[str]] = None, **kwargs):
        self.channels, self.crop_size, self.cache = channels, crop_size, cache
        self.skip_bad_files, self.nodata, self.fill_value = skip_bad_files, nodata, fill_value
        self.train_split, self._given_classes = train_split, classes
        self.skipped: list[tuple[str, str]] = []
        self._cache: dict[str, tuple[np.ndarray, dict]] = {}
        super().__init__(data_root=data_root, split=split, pipeline=pipeline, **kwargs)

    # ------------------------------------------------------------------ listing
    def load_samples(self) -> list[dict]:
        train_dir = os.path.join(self.data_root, self.train_split)
        split_dir = os.path.join(self.data_root, self.split)
        for folder in (train_dir, split_dir):
            if not os.path.isdir(folder):
                raise DataError(f'MSTARDataset: folder not found: {folder}')
        self.classes = list(self._given_classes or sorted(
            d for d in os.listdir(train_dir) if os.path.isdir(os.path.join(train_dir, d))))
        if not self.classes:
            raise DataError(f'MSTARDataset: no class folders in {train_dir}')
        samples = []
        for cls in sorted(os.listdir(split_dir)):
            if not os.path.isdir(os.path.join(split_dir, cls)):
                continue
            if cls not in self.classes:
                raise DataError(f'MSTARDataset: class folder {cls!r} in {split_dir} is not in '
                                f'the training split {train_dir} (classes: {self.classes})')
            for name in sorted(os.listdir(os.path.join(split_dir, cls))):
                if name.lower().endswith(SAR_EXTENSIONS):
                    samples.append(dict(img_path=os.path.join(split_dir, cls, name),
                                        gt_label=self.classes.index(cls)))
        if not samples:
            raise DataError(f'MSTARDataset: no chips ({", ".join(SAR_EXTENSIONS)}) in {split_dir}')
        if self.skip_bad_files:
            samples = self._drop_bad(samples)
        return samples

    def _drop_bad(self, samples: list[dict]) -> list[dict]:
        good = []
        for record in samples:
            try:
                self._load(record['img_path'])
                good.append(record)
            except DataError as exc:
                self.skipped.append((record['img_path'], str(exc)))
                warnings.warn(f'MSTARDataset: skipping bad file: {exc}', stacklevel=2)
        if self.skipped:
            warnings.warn(f'MSTARDataset ({self.split}): skipped {len(self.skipped)} bad file(s) '
                          f'of {len(samples)} (skip_bad_files=True); first: '
                          f'{self.skipped[0][0]}', stacklevel=2)
        if not good:
            raise DataError(f'MSTARDataset: every file in {self.data_root}/{self.split} is bad')
        return good

    @property
    def metainfo(self) -> dict:
        return dict(classes=list(self.classes), channels=self.channels,
                    skipped=[p for p, _ in self.skipped])

    # ------------------------------------------------------------------ reading
    def _load(self, path: str) -> tuple[np.ndarray, dict]:
        if path in self._cache:
            return self._cache[path]
        arr, info = read_sar_chip(path, self.channels, self.nodata, self.fill_value)
        if self.crop_size:
            arr = center_crop(arr, self.crop_size)
        if self.cache:
            self._cache[path] = (arr, info)
        return arr, info

    def get_sample(self, index: int) -> dict:
        record = dict(self.samples[index])
        arr, info = self._load(record['img_path'])
        record['sar'] = arr.copy() if self.cache else arr
        record['nodata_fraction'] = float(info['nodata_fraction'])
        return record

    def stats(self) -> Optional[dict]:
        """Per-channel mean/std of the (cropped) chips of this split (use on the training split)."""
        total = np.zeros(self.channels)
        total_sq = np.zeros(self.channels)
        count = 0
        for record in self.samples:
            arr = self._load(record['img_path'])[0].astype(np.float64)
            total += arr.sum(axis=(1, 2))
            total_sq += (arr ** 2).sum(axis=(1, 2))
            count += arr.shape[1] * arr.shape[2]
        mean = total / count
        std = np.sqrt(np.maximum(total_sq / count - mean ** 2, 1e-12))
        return {'inputs': {'sar': {'mean': mean.tolist(), 'std': std.tolist()}}}
