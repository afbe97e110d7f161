"""``MSTARDataset``: SAR target chips in class folders, ``<data_root>/<split>/<class>/<chip>``.

Chips may be 8-bit JPEG (the MSTAR release used here), PNG, TIFF or multi-band GeoTIFF (e.g. a
2-channel dual-polarisation chip), read by :mod:`allspark_plugin_sar.io`.
"""
from __future__ import annotations

import os
import warnings
from typing import Optional, Sequence

import numpy as np
from mmengine.logging import print_log

from allspark.datasets import BaseDataset, DataError
from allspark.registry import DATASETS
from allspark_plugin_sar.io import SAR_EXTENSIONS, center_crop, read_sar_chip


@DATASETS.register_module()
class MSTARDataset(BaseDataset):
    """MSTAR 10-class SOC (or any SAR chip set laid out in class folders).

    Format: ``<data_root>/{train,test}/<class>/<name>.{jpg,jpeg,png,tif,tiff}``; other files are
    ignored.  A class folder is searched recursively, so serial sub-folders
    (``test/T72/A32/HB14931.jpeg``, the layout of the EOC-2 test set, whose file names repeat
    across serials) work.  Classes are the class folders of ``train_split`` (sorted); a class
    folder in another split that the training split lacks is a ``DataError``.

    ``classes=[...]`` fixes the class list and its label order instead: only those class folders
    are read, on any split (a subset, e.g. the 3 classes of the 45 deg scene set or the 4 of
    EOC-2), other folders are skipped (and logged), and no ``train_split`` folder is needed (a
    test set on its own, e.g. ``mstar_eoc/scene_depression45/test``).  A training split must
    have a folder for every listed class; another split may lack some.

    ``file_list``: a CSV with the chips of the split instead of folders (e.g. EOC-2's
    ``train_list.csv``: columns ``file_relative_to_shared_data,class,...``): the first column
    is the path, the ``class`` column the label (classes = ``classes`` or the sorted class
    column); relative paths are resolved against ``list_root`` (default: the list's folder or
    the first of its parents where they exist).

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
        train_split: the split whose folders define the classes (unless ``classes`` is given).
        classes: class names in label order; a subset of the folders (see above).
        file_list / list_root: read the split from a CSV list (see above).

    Samples: ``{'sar': float32 (C, crop, crop), 'gt_label': int, 'img_path': str,
    'nodata_fraction': float}``.

    Citation: T. D. Ross et al., "Standard SAR ATR evaluation experiments using the MSTAR public
    release data set", Proc. SPIE 3370, 1998; S. Chen et al., "Target classification using the
    deep convolutional networks for SAR images" (AConvNets), IEEE TGRS 54(8), 2016.
    """

    MODALITIES = ('sar',)
    #: Few-shot split of the SOC classes (``metainfo``; not the paper's, it has no SAR few-shot
    #: test): every third class of the sorted ten, from the third (BRDM_2, D7, ZIL131), is
    #: novel; the other seven are base classes.
    NOVEL_CLASSES = ('BRDM_2', 'D7', 'ZIL131')
    #: What each vehicle is, for the language model (the serial-like names mean nothing to it).
    CLASS_TEXTS = {
        '2S1': 'self-propelled howitzer', 'BMP2': 'infantry fighting vehicle',
        'BRDM_2': 'armoured scout car', 'BTR60': 'eight-wheeled armoured personnel carrier',
        'BTR70': 'wheeled armoured personnel carrier', 'D7': 'bulldozer',
        'T62': 'main battle tank', 'T72': 'modern main battle tank', 'ZIL131': 'military truck',
        'ZSU_23_4': 'self-propelled anti-aircraft gun'}

    def __init__(self, data_root: str = '', split: str = 'train', pipeline: Sequence = (),
                 channels: int = 1, crop_size: Optional[int] = None, cache: bool = True,
                 skip_bad_files: bool = False, nodata: str = 'fill', fill_value: float = 0.0,
                 train_split: str = 'train', classes: Optional[Sequence[str]] = None,
                 file_list: Optional[str] = None, list_root: Optional[str] = None, **kwargs):
        self.file_list, self.list_root = file_list, list_root
        self.channels, self.crop_size, self.cache = channels, crop_size, cache
        self.skip_bad_files, self.nodata, self.fill_value = skip_bad_files, nodata, fill_value
        self.train_split, self._given_classes = train_split, classes
        self.skipped: list[tuple[str, str]] = []
        self._cache: dict[str, tuple[np.ndarray, dict]] = {}
        super().__init__(data_root=data_root, split=split, pipeline=pipeline, **kwargs)

    # ------------------------------------------------------------------ listing
    def load_samples(self) -> list[dict]:
        if self.file_list:
            samples = self._list_samples()
        else:
            samples = self._folder_samples()
        if self.skip_bad_files:
            samples = self._drop_bad(samples)
        return samples

    def _folder_samples(self) -> list[dict]:
        train_dir = os.path.join(self.data_root, self.train_split)
        split_dir = os.path.join(self.data_root, self.split)
        if not os.path.isdir(split_dir):
            raise DataError(f'MSTARDataset: folder not found: {split_dir}')
        found = sorted(d for d in os.listdir(split_dir)
                       if os.path.isdir(os.path.join(split_dir, d)))
        if self._given_classes:
            self.classes = list(self._given_classes)
            missing = [c for c in self.classes if c not in found]
            if missing and self.split == self.train_split:
                raise DataError(f'MSTARDataset: {split_dir} has no folder for class(es) '
                                f'{missing} of classes={self.classes} (found: {found})')
            skipped = [d for d in found if d not in self.classes]
            if skipped:
                print_log(f'MSTARDataset[{self.split}]: class subset {self.classes}; folders '
                          f'left out: {skipped}', logger='current')
        else:
            if not os.path.isdir(train_dir):
                raise DataError(f'MSTARDataset: folder not found: {train_dir} (the classes are '
                                f'its class folders; give classes=[...] to read {split_dir} on '
                                f'its own; its class folders: {found})')
            self.classes = sorted(d for d in os.listdir(train_dir)
                                  if os.path.isdir(os.path.join(train_dir, d)))
            if not self.classes:
                raise DataError(f'MSTARDataset: no class folders in {train_dir}')
            for cls in found:
                if cls not in self.classes:
                    raise DataError(f'MSTARDataset: class folder {cls!r} in {split_dir} is not '
                                    f'in the training split {train_dir} (classes: '
                                    f'{self.classes}); give classes=[...] to read a subset')
        samples = []
        for cls in found:
            if cls not in self.classes:
                continue
            for folder, dirs, names in os.walk(os.path.join(split_dir, cls)):
                dirs.sort()  # serial sub-folders, in a fixed order
                for name in sorted(names):
                    if name.lower().endswith(SAR_EXTENSIONS):
                        samples.append(dict(img_path=os.path.join(folder, name),
                                            gt_label=self.classes.index(cls)))
        if not samples:
            raise DataError(f'MSTARDataset: no chips ({", ".join(SAR_EXTENSIONS)}) in {split_dir}'
                            f' for classes {self.classes} (class folders found: {found})')
        return samples

    def _list_samples(self) -> list[dict]:
        import csv

        path = (self.file_list if os.path.isabs(self.file_list)
                else os.path.join(self.data_root, self.file_list))
        if not os.path.isfile(path):
            raise DataError(f'MSTARDataset: file list not found: {path}')
        with open(path, newline='') as f:
            rows = list(csv.DictReader(f))
        if not rows:
            raise DataError(f'{path}: no rows (expected a header with a path column and "class")')
        columns = list(rows[0])
        if 'class' not in columns:
            raise DataError(f'{path}: no "class" column (columns: {columns})')
        path_col = columns[0] if columns[0] != 'class' else columns[1]
        if self.list_root is not None:
            roots = [self.list_root]
        else:  # the list's folder and its parents: the first where the first entry exists
            roots, folder = [], os.path.dirname(os.path.abspath(path))
            for _ in range(4):
                roots.append(folder)
                folder = os.path.dirname(folder)
        first = rows[0][path_col]
        root = next((r for r in roots if os.path.exists(os.path.join(r, first))), None)
        if root is None:
            raise DataError(f'{path}: its first file {first!r} (column {path_col!r}) is not '
                            f'found under any of {roots}; set list_root')
        listed = sorted({r['class'] for r in rows})
        self.classes = list(self._given_classes or listed)
        samples = []
        for lineno, row in enumerate(rows, 2):
            if row['class'] not in self.classes:
                continue
            chip = os.path.join(root, row[path_col])
            if not os.path.isfile(chip):
                raise DataError(f'{path}, line {lineno}: file not found: {chip}')
            samples.append(dict(img_path=chip, gt_label=self.classes.index(row['class'])))
        if not samples:
            raise DataError(f'{path}: no row of classes {self.classes} (classes listed: {listed})')
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
        novel = [c for c in self.NOVEL_CLASSES if c in self.classes]
        return dict(classes=list(self.classes), channels=self.channels,
                    skipped=[p for p, _ in self.skipped], novel_classes=novel,
                    base_classes=[c for c in self.classes if c not in novel],
                    class_texts={c: self.CLASS_TEXTS.get(c, c) for c in self.classes})

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
