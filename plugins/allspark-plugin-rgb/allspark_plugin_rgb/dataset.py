"""Class-folder RGB scene datasets: ``RGBSceneFolderDataset`` and its UC Merced / NWPU-RESISC45
variants (one class folder per scene category).

Layouts (``<data_root>`` is a config value):

* ``<data_root>/<class>/<image>`` + a **seeded stratified ratio split** (default): per class the
  sorted files are shuffled with ``seed`` and the first ``round(train_ratio * n)`` go to
  ``train`` (at least one image to each side, so every class needs two images);
* ``<data_root>/<class>/<image>`` + **split files** ``split_files=dict(train=..., test=...)``
  (paths relative to ``data_root``, one ``<class>/<image>`` per line, ``#`` comments);
* ``<data_root>/{train,test}/<class>/<image>`` (pre-split folders, used when ``train/`` exists).

Classes are those of the training split (sorted); a class that the test split has and training
does not is a ``DataError``.
"""
from __future__ import annotations

import os
import warnings
from typing import Optional, Sequence

import numpy as np

from allspark.datasets import BaseDataset, DataError
from allspark.registry import DATASETS

IMAGE_EXTS = ('.tif', '.tiff', '.jpg', '.jpeg', '.png', '.bmp')
PIL_BANDS = {'1': 1, 'L': 1, 'P': 3, 'I': 1, 'I;16': 1, 'F': 1, 'LA': 2, 'RGB': 3, 'RGBA': 4,
             'CMYK': 4, 'YCbCr': 3}


def fill_invalid(x: np.ndarray, nodata: Optional[float], path: str) -> tuple[np.ndarray, int]:
    """NaN / inf / nodata policy: **fill** with the mean of the valid pixels of the same band in
    the same image; a band with no valid pixel is a ``DataError``. ``x (C, H, W)`` float32."""
    invalid = ~np.isfinite(x)
    if nodata is not None:
        invalid |= x == nodata
    n_invalid = int(invalid.sum())
    if not n_invalid:
        return x, 0
    x = x.copy()
    for c in range(x.shape[0]):
        if invalid[c].all():
            raise DataError(f'{path}: band {c} has no valid pixel (all NaN/inf/nodata={nodata}); '
                            f'cannot fill it')
        x[c][invalid[c]] = x[c][~invalid[c]].mean()
    return x, n_invalid


def read_rgb(path: str, num_bands: int = 3, nodata: Optional[float] = None
             ) -> tuple[np.ndarray, int]:
    """Read an image file -> (``(C, H, W)`` float32 in its own value range, invalid pixels).

    Pillow reads JPEG/PNG/8-bit TIFF; TIFFs Pillow cannot decode (float, >8-bit multi-band
    GeoTIFF) are read with rasterio.  Raises ``DataError`` naming the file for unreadable /
    truncated files and for a band count other than ``num_bands``."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            mode = img.mode
            img.load()  # decodes now: a truncated file fails here
            if mode == 'P':
                img = img.convert('RGB')
            bands = len(img.getbands())
            if bands != num_bands:
                raise DataError(f'{path} has {bands} bands (image mode {mode!r}), expected '
                                f'{num_bands} (field num_bands of the dataset config)')
            arr = np.asarray(img, dtype=np.float32)
        arr = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
    except DataError:
        raise
    except UnidentifiedImageError as exc:
        if not path.lower().endswith(('.tif', '.tiff')):
            raise DataError(f'cannot read image {path} ({type(exc).__name__}: {exc})') from None
        arr = _read_with_rasterio(path, num_bands)
    except Exception as exc:  # OSError 'image file is truncated', decoder errors, ...
        raise DataError(f'cannot read image {path} ({type(exc).__name__}: {exc})') from None
    return fill_invalid(arr, nodata, path)


def _read_with_rasterio(path: str, num_bands: int) -> np.ndarray:
    import rasterio

    try:
        with rasterio.open(path) as src:
            if src.count != num_bands:
                raise DataError(f'{path} has {src.count} bands, expected {num_bands} '
                                f'(field num_bands of the dataset config)')
            arr = src.read(out_dtype='float32')
            if src.nodata is not None:
                arr[arr == src.nodata] = np.nan  # handled by the fill policy
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f'cannot read image {path} ({type(exc).__name__}: {exc})') from None
    return arr


@DATASETS.register_module()
class RGBSceneFolderDataset(BaseDataset):
    """RGB scene classification from class folders (see the module docstring for layouts).

    Sample: ``{'rgb': float32 (3, H, W) in 0..255, 'gt_label': int, 'img_path': str,
    'invalid_pixels': int}``.

    NaN / nodata policy: NaN/inf pixels (float TIFFs), the file's nodata value (GeoTIFF) or
    ``nodata`` given here are **filled** with the mean of that band's valid pixels in the same
    image; a band with no valid pixel is a ``DataError``.

    Args:
        train_ratio, seed: the seeded stratified split (when no split files / split folders).
        split_files: ``dict(train='splits/train.txt', test='splits/test.txt')``.
        num_bands: 3; an image with another band count is a ``DataError`` (file, found,
            expected).
        extensions: image file endings to list.
        skip_bad_files: ``False``: an unreadable / truncated / wrong-band file raises
            ``DataError`` naming it (when read).  ``True``: every listed file is decoded once
            while listing; bad ones are dropped with a warning each and a count at the end
            (``self.skipped``).
        compute_stats: ``stats()`` returns per-channel mean/std of the training split (0..255);
            ``False`` for backbones with fixed normalisation (pretrained weights).
        classes: keep only these class folders (e.g. UC Merced's six few-shot novel classes);
            ``None``: all.
    """

    MODALITIES = ('rgb',)
    EXTENSIONS: Sequence[str] = IMAGE_EXTS

    def __init__(self, data_root: str = '', split: str = 'train', pipeline: Sequence = (),
                 train_ratio: float = 0.5, seed: int = 0, split_files: Optional[dict] = None,
                 num_bands: int = 3, extensions: Optional[Sequence[str]] = None,
                 nodata: Optional[float] = None, skip_bad_files: bool = False,
                 compute_stats: bool = True, classes: Optional[Sequence[str]] = None,
                 **kwargs):
        if not 0.0 < train_ratio < 1.0:
            raise ValueError(f'{type(self).__name__}: train_ratio must be in (0, 1), got '
                             f'{train_ratio}')
        self.train_ratio, self.seed, self.split_files = train_ratio, seed, split_files
        self.num_bands, self.nodata = num_bands, nodata
        self.extensions = tuple(e.lower() for e in (extensions or self.EXTENSIONS))
        self.skip_bad_files, self.compute_stats = skip_bad_files, compute_stats
        self.class_subset = list(classes) if classes else None
        self.skipped: list[tuple[str, str]] = []
        self._stats: Optional[dict] = None
        super().__init__(data_root=data_root, split=split, pipeline=pipeline, **kwargs)

    # ------------------------------------------------------------------ listing
    def _images(self, folder: str) -> list[str]:
        return sorted(n for n in os.listdir(folder) if n.lower().endswith(self.extensions))

    def _class_dirs(self, folder: str) -> list[str]:
        if not os.path.isdir(folder):
            raise DataError(f'{type(self).__name__}: folder not found: {folder}')
        return sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))

    def _read_split_file(self, split: str) -> list[tuple[str, str]]:
        rel = self.split_files.get(split)
        if rel is None:
            raise DataError(f'{type(self).__name__}: split_files has no {split!r} entry '
                            f'({sorted(self.split_files)})')
        path = rel if os.path.isabs(rel) else os.path.join(self.data_root, rel)
        if not os.path.isfile(path):
            raise DataError(f'{type(self).__name__}: split file not found: {path}')
        items = []
        with open(path) as f:
            for lineno, line in enumerate(f, 1):
                line = line.split('#', 1)[0].strip()
                if not line:
                    continue
                parts = line.replace('\\', '/').split('/')
                if len(parts) < 2:
                    raise DataError(f'{path}, line {lineno}: expected <class>/<image>, got '
                                    f'{line!r}')
                items.append((parts[-2], os.path.join(self.data_root, line)))
        return items

    def _ratio_split(self) -> dict[str, list[tuple[str, str]]]:
        rng = np.random.default_rng(self.seed)
        out = dict(train=[], test=[])
        for cls in self._class_dirs(self.data_root):
            names = self._images(os.path.join(self.data_root, cls))
            if not names:
                continue
            if len(names) < 2:
                raise DataError(f'{type(self).__name__}: class folder '
                                f'{os.path.join(self.data_root, cls)} has {len(names)} image; '
                                f'a ratio split needs at least 2 (one train, one test)')
            order = rng.permutation(len(names))
            n_train = int(min(max(round(self.train_ratio * len(names)), 1), len(names) - 1))
            for rank, i in enumerate(order):
                part = 'train' if rank < n_train else 'test'
                out[part].append((cls, os.path.join(self.data_root, cls, names[i])))
        return out

    def _listing(self) -> dict[str, list[tuple[str, str]]]:
        if self.split_files:
            return {s: self._read_split_file(s) for s in {'train', self.split}}
        if os.path.isdir(os.path.join(self.data_root, 'train')):
            out = {}
            for s in {'train', self.split}:
                folder = os.path.join(self.data_root, s)
                out[s] = [(cls, os.path.join(folder, cls, n)) for cls in self._class_dirs(folder)
                          for n in self._images(os.path.join(folder, cls))]
            return out
        if self.split not in ('train', 'val', 'test', 'all'):
            raise ValueError(f'{type(self).__name__}: unknown split {self.split!r}')
        out = self._ratio_split()
        out['val'] = out['test']
        out['all'] = out['train'] + out['test']  # every image (few-shot pools, base training)
        return out

    def load_samples(self) -> list[dict]:
        listing = self._listing()
        if self.class_subset:
            present = {cls for cls, _ in listing['train']}
            missing = [c for c in self.class_subset if c not in present]
            if missing:
                raise DataError(f'{type(self).__name__}: requested classes {missing} have no '
                                f'training images under {self.data_root} (found: '
                                f'{sorted(present)})')
            listing = {s: [it for it in items if it[0] in self.class_subset]
                       for s, items in listing.items()}
        self.classes = sorted({cls for cls, _ in listing['train']})
        if not self.classes:
            raise DataError(f'{type(self).__name__}: no training images under {self.data_root}')
        items = listing[self.split]
        unknown = sorted({cls for cls, _ in items} - set(self.classes))
        if unknown:
            raise DataError(f'{type(self).__name__}: class(es) {unknown} in the {self.split!r} '
                            f'split are not in the training split (classes: {self.classes}); '
                            f'data_root={self.data_root}')
        samples = []
        for cls, path in items:
            if self.skip_bad_files:
                try:
                    read_rgb(path, self.num_bands, self.nodata)
                except DataError as exc:
                    warnings.warn(f'{type(self).__name__}: skipping bad file: {exc}')
                    self.skipped.append((path, str(exc)))
                    continue
            elif not os.path.isfile(path):
                raise DataError(f'{type(self).__name__}: listed image not found: {path}')
            samples.append(dict(img_path=path, gt_label=self.classes.index(cls)))
        if self.skipped:
            warnings.warn(f'{type(self).__name__} ({self.split}): skipped {len(self.skipped)} '
                          f'bad file(s) of {len(items)}; kept {len(samples)}')
        return samples

    @property
    def metainfo(self) -> dict:
        return dict(classes=list(self.classes), bands=['red', 'green', 'blue'],
                    nodata_policy='fill with the per-image band mean of valid pixels')

    def split_lists(self) -> dict[str, list[str]]:
        """``{split: ['<class>/<image>', ...]}`` of the current listing (to save a seeded split)."""
        return {s: [os.path.relpath(p, self.data_root) for _, p in items]
                for s, items in self._listing().items()}

    # ------------------------------------------------------------------ reading
    def get_sample(self, index: int) -> dict:
        record = dict(self.samples[index])
        record['rgb'], record['invalid_pixels'] = read_rgb(record['img_path'], self.num_bands,
                                                           self.nodata)
        return record

    def stats(self) -> Optional[dict]:
        """Per-channel mean / std (0..255) of the **training split** (of every listed image
        when training on ``split='all'``)."""
        if not self.compute_stats:
            return None
        if self._stats is None:
            source = self if self.split in ('train', 'all') else type(self)(
                self.data_root, 'train', train_ratio=self.train_ratio, seed=self.seed,
                split_files=self.split_files, num_bands=self.num_bands,
                extensions=self.extensions, nodata=self.nodata,
                skip_bad_files=self.skip_bad_files, classes=self.class_subset)
            total = np.zeros(self.num_bands)
            total_sq = np.zeros(self.num_bands)
            count = 0
            for rec in source.samples:
                x, _ = read_rgb(rec['img_path'], self.num_bands, self.nodata)
                x = x.reshape(x.shape[0], -1).astype(np.float64)
                total, total_sq, count = total + x.sum(1), total_sq + (x ** 2).sum(1), \
                    count + x.shape[1]
            mean = total / count
            std = np.sqrt(np.maximum(total_sq / count - mean ** 2, 0.0))
            self._stats = dict(inputs=dict(rgb=dict(mean=mean.tolist(), std=std.tolist())))
        return self._stats


@DATASETS.register_module()
class UCMercedDataset(RGBSceneFolderDataset):
    """UC Merced Land Use: 21 classes, 256 x 256 RGB TIFF, 1 ft/px (USGS urban imagery).

    Format: ``<data_root>/<class>/<class>NN.tif``.  Classes (21): agricultural, airplane,
    baseballdiamond, beach, buildings, chaparral, denseresidential, forest, freeway, golfcourse,
    harbor, intersection, mediumresidential, mobilehomepark, overpass, parkinglot, river, runway,
    sparseresidential, storagetanks, tenniscourt.  Splits: none upstream; seeded stratified ratio
    split (default 50 % train, seed 0) or split files.  The copy in ``../shared/data/ucmerced``
    is a 240-image subset (15 classes x 4, six few-shot novel classes x 30); a few original
    images are 255 or 254 px wide, so configs resize.
    Citation: Y. Yang, S. Newsam, "Bag-of-visual-words and spatial extensions for land-use
    classification", ACM SIGSPATIAL GIS 2010.

    Few-shot split (the AllSpark paper's UC Merced 5-way experiments, in ``metainfo``):
    ``novel_classes`` = beach, golfcourse, mobilehomepark, river, sparseresidential, tenniscourt;
    ``base_classes`` = the other 15; ``class_texts`` = readable names for the language model
    (``'golf course'``).  ``split='all'`` lists every image (few-shot pools).
    """

    EXTENSIONS = ('.tif', '.tiff')
    NOVEL_CLASSES = ('beach', 'golfcourse', 'mobilehomepark', 'river', 'sparseresidential',
                     'tenniscourt')
    BASE_CLASSES = ('agricultural', 'airplane', 'baseballdiamond', 'buildings', 'chaparral',
                    'denseresidential', 'forest', 'freeway', 'harbor', 'intersection',
                    'mediumresidential', 'overpass', 'parkinglot', 'runway', 'storagetanks')
    CLASS_TEXTS = dict(
        agricultural='agricultural field', baseballdiamond='baseball diamond',
        denseresidential='dense residential area', golfcourse='golf course',
        mediumresidential='medium residential area', mobilehomepark='mobile home park',
        parkinglot='parking lot', sparseresidential='sparse residential area',
        storagetanks='storage tanks', tenniscourt='tennis court')

    @property
    def metainfo(self) -> dict:
        info = super().metainfo
        info.update(base_classes=list(self.BASE_CLASSES), novel_classes=list(self.NOVEL_CLASSES),
                    class_texts={c: self.CLASS_TEXTS.get(c, c) for c in
                                 self.BASE_CLASSES + self.NOVEL_CLASSES})
        return info


@DATASETS.register_module()
class NWPURESISC45Dataset(RGBSceneFolderDataset):
    """NWPU-RESISC45: 45 classes x 700, 256 x 256 RGB JPEG (Google Earth).

    Format: ``<data_root>/<class>/<class>_NNN.jpg``.  Splits: seeded stratified ratio split (the
    AllSpark paper and the benchmark's authors use 20 % train / 80 % test) or split files.  The
    copy in ``../shared/data/nwpu_resisc45`` holds only 2 classes x 20 (format checks only).
    Citation: G. Cheng, J. Han, X. Lu, "Remote Sensing Image Scene Classification: Benchmark and
    State of the Art", Proc. IEEE 105(10), 2017.
    """

    EXTENSIONS = ('.jpg', '.jpeg')

    def __init__(self, *args, train_ratio: float = 0.2, **kwargs):
        super().__init__(*args, train_ratio=train_ratio, **kwargs)
