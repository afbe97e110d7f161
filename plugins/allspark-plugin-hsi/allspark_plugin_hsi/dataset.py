"""``HSIPixelDataset``: a hyperspectral cube + ground-truth map, each labelled pixel a sample.

Formats (by extension):

* ``.mat`` (MATLAB, ``scipy.io.loadmat``; v7.3 files through ``h5py``): the cube is the one 3-D
  variable ``(rows, cols, bands)`` (or ``cube_key``), the ground truth the one 2-D variable
  (or ``gt_key``).  E.g. Salinas-A: ``SalinasA_corrected.mat`` / ``SalinasA_gt.mat``.
* anything rasterio reads: GeoTIFF (``.tif``), ENVI (the data file next to its ``.hdr``; giving
  the ``.hdr`` also works), ...: bands first ``(bands, rows, cols)``; the file's ``nodata`` value
  marks nodata pixels.

Classes: the non-zero labels of the ground truth (0 = unlabelled, ignored), sorted and mapped to
0..K-1 (``label_values`` in the metainfo keeps the original ids; ``classes`` names them).

Split: stratified by class with ``numpy.random.default_rng(seed)``: in every class
``max(1, round(train_ratio * n_c))`` pixels train, the rest test.  With ``val_ratio > 0`` a
further stratified ``round(val_ratio * n_train_c)`` of each class's *training* pixels become the
``'val'`` split (and leave ``'train'``), so settings can be chosen without looking at the test
pixels (the test split does not change); with ``val_ratio=0`` (default) ``'val'`` = test.
``val_fold=f`` takes the f-th such slice of each class's shuffled training pixels instead of the
first, so ``val_ratio=0.25`` with ``val_fold`` 0..3 is a 4-fold cross-validation of the training
pixels; ``val_seed`` draws another partition into folds (repeated cross-validation).

Bad input: a cube whose band count differs from ``num_bands`` -> ``DataError`` naming the file,
found and expected bands; an unreadable or truncated file -> ``DataError`` naming the file; a
ground truth whose shape differs from the cube's.

NaN / nodata policy (``nodata_policy``): a pixel whose spectrum has a NaN/inf, or equals the
file's (or ``nodata_value``) nodata value in any band, is

* ``'exclude'`` (default): left out of training and testing (counted in the log; shown as
  unlabelled in the maps);
* ``'fill'``: its bad bands are filled with that band's mean over the valid training pixels
  (counted in the log);
* ``'error'``: a ``DataError`` naming the file and the first bad pixel.

Sample: ``{'hsi': float32 (bands,), 'gt_label': int, 'pixel': int64 (2,) (row, col)}``;
``stats()`` returns the training pixels' per-band mean/std (the model's input normalisation).

Salinas-A: AVIRIS, Salinas Valley (California), 83 x 86 pixels, 204 bands (water absorption
bands removed), 6 classes, 5,348 labelled pixels; distributed by GIC, UPV/EHU ("Hyperspectral
Remote Sensing Scenes").
"""
from __future__ import annotations

import os
from typing import Optional, Sequence

import numpy as np
from mmengine.logging import print_log

from allspark.datasets import BaseDataset, DataError
from allspark.registry import DATASETS

SALINAS_CLASSES = {1: 'Brocoli_green_weeds_1', 10: 'Corn_senesced_green_weeds',
                   11: 'Lettuce_romaine_4wk', 12: 'Lettuce_romaine_5wk',
                   13: 'Lettuce_romaine_6wk', 14: 'Lettuce_romaine_7wk'}
NODATA_POLICIES = ('exclude', 'fill', 'error')


def _mat_variables(path: str) -> dict:
    """All array variables of a MATLAB file (v5 via scipy, v7.3/HDF5 via h5py)."""
    import scipy.io
    try:
        data = scipy.io.loadmat(path)
        return {k: v for k, v in data.items() if not k.startswith('__')}
    except NotImplementedError:  # v7.3 (HDF5)
        import h5py
        with h5py.File(path, 'r') as f:  # MATLAB stores column-major: reverse the axes
            return {k: np.asarray(f[k]).transpose() for k in f.keys()
                    if isinstance(f[k], h5py.Dataset)}


def _envi_data_file(header: str) -> str:
    """The ENVI data file that belongs to ``header`` (same stem, usual extensions)."""
    stem = header[:-4]
    for ext in ('', '.img', '.dat', '.raw', '.bsq', '.bil', '.bip', '.IMG', '.DAT'):
        if os.path.exists(stem + ext):
            return stem + ext
    raise DataError(f'{header}: no ENVI data file next to the header (tried {stem}[.img|.dat|'
                    f'.raw|.bsq|.bil|.bip])')


def read_array(path: str, ndim: int, key: Optional[str] = None) -> tuple[np.ndarray, Optional[float]]:
    """Read a cube (``ndim=3``, returns ``(rows, cols, bands)``) or a label map (``ndim=2``).

    Returns ``(array, nodata value or None)``; any failure is a ``DataError`` naming the file."""
    if not os.path.exists(path):
        raise DataError(f'{path}: file not found')
    what = 'cube (rows, cols, bands)' if ndim == 3 else 'label map (rows, cols)'
    try:
        if path.lower().endswith('.mat'):
            variables = _mat_variables(path)
            if key is not None:
                if key not in variables:
                    raise DataError(f'{path}: no variable {key!r} (has {sorted(variables)})')
                arr = np.asarray(variables[key])
            else:
                cands = [k for k, v in variables.items() if np.ndim(v) == ndim]
                if len(cands) != 1:
                    raise DataError(f'{path}: expected exactly one {ndim}-D variable (the {what}),'
                                    f' found {cands}; name it with cube_key/gt_key')
                arr = np.asarray(variables[cands[0]])
            nodata = None
        else:
            import rasterio
            src_path = _envi_data_file(path) if path.lower().endswith('.hdr') else path
            with rasterio.open(src_path) as src:
                arr = src.read()  # (bands, rows, cols)
                nodata = src.nodata
            arr = arr.transpose(1, 2, 0) if ndim == 3 else arr[0]
    except DataError:
        raise
    except Exception as exc:  # scipy/h5py/rasterio raise many kinds on truncated files
        raise DataError(f'{path}: cannot read the {what} ({type(exc).__name__}: {exc})') from exc
    if arr.ndim != ndim:
        raise DataError(f'{path}: the {what} has shape {arr.shape}, expected {ndim} dimensions')
    return arr, nodata


@DATASETS.register_module()
class HSIPixelDataset(BaseDataset):
    """Args:
        data_root: folder holding the files.
        image_file: cube file name (``.mat``, ``.tif``, ENVI data file or ``.hdr``).
        gt_file: ground-truth file name (same formats; 0 = unlabelled).
        num_bands: expected band count (a differing cube is an error).
        split: ``'train'``, ``'val'`` or ``'test'``.
        train_ratio: fraction of every class's labelled pixels used for training.
        val_ratio: fraction of every class's training pixels held out as ``'val'`` (0: ``'val'``
            is the test split).
        val_fold: which slice of that size is held out (0 .. ceil(1/val_ratio)-1): k-fold
            cross-validation over the training pixels.
        val_seed: seed of the partition into folds (None: the default partition).
        seed: seed of the stratified split.
        cube_key / gt_key: variable names inside ``.mat`` files (default: the only 3-D / 2-D one).
        class_names: ``{label id: name}`` (default: Salinas names where they apply, else ids).
        nodata_policy: ``'exclude'``, ``'fill'`` or ``'error'`` (see module docstring).
        nodata_value: a nodata value to use in addition to the file's own.
    """

    MODALITIES = ('hsi',)

    def __init__(self, data_root: str = '', image_file: str = 'SalinasA_corrected.mat',
                 gt_file: str = 'SalinasA_gt.mat', num_bands: int = 204, split: str = 'train',
                 train_ratio: float = 0.4, val_ratio: float = 0.0, val_fold: int = 0,
                 val_seed: Optional[int] = None, seed: int = 0, cube_key: Optional[str] = None,
                 gt_key: Optional[str] = None, class_names: Optional[dict] = None,
                 nodata_policy: str = 'exclude', nodata_value: Optional[float] = None,
                 **kwargs):
        if split not in ('train', 'val', 'test'):
            raise ValueError(f"HSIPixelDataset: split must be 'train', 'val' or 'test', "
                             f'got {split!r}')
        if nodata_policy not in NODATA_POLICIES:
            raise ValueError(f'HSIPixelDataset: nodata_policy must be one of {NODATA_POLICIES},'
                             f' got {nodata_policy!r}')
        if not 0.0 < train_ratio < 1.0:
            raise ValueError(f'HSIPixelDataset: train_ratio must be in (0, 1), got {train_ratio}')
        if not 0.0 <= val_ratio < 1.0:
            raise ValueError(f'HSIPixelDataset: val_ratio must be in [0, 1), got {val_ratio}')
        num_folds = int(np.ceil(1.0 / val_ratio - 1e-9)) if val_ratio > 0 else 1
        if not 0 <= val_fold < num_folds:
            raise ValueError(f'HSIPixelDataset: val_fold must be in [0, {num_folds}) for '
                             f'val_ratio={val_ratio}, got {val_fold}')
        self.val_ratio, self.val_fold, self.val_seed = val_ratio, val_fold, val_seed
        self.image_path = os.path.join(data_root, image_file)
        self.gt_path = os.path.join(data_root, gt_file)
        self.num_bands, self.train_ratio, self.seed = num_bands, train_ratio, seed
        self.cube_key, self.gt_key = cube_key, gt_key
        self.class_names = class_names
        self.nodata_policy, self.nodata_value = nodata_policy, nodata_value
        super().__init__(data_root=data_root, split=split, **kwargs)

    def load_samples(self) -> list:
        cube, nodata = read_array(self.image_path, 3, self.cube_key)
        if cube.shape[2] != self.num_bands:
            raise DataError(f'{self.image_path}: the cube has {cube.shape[2]} bands, expected '
                            f'{self.num_bands} (num_bands in the config)')
        gt, _ = read_array(self.gt_path, 2, self.gt_key)
        if gt.shape != cube.shape[:2]:
            raise DataError(f'{self.gt_path}: ground truth shape {gt.shape} differs from the '
                            f'cube {self.image_path} {cube.shape[:2]}; expected the same rows/cols')
        cube = cube.astype(np.float32)
        gt = np.nan_to_num(gt.astype(np.float64), nan=0).astype(np.int64)

        bad_band = ~np.isfinite(cube)
        for value in (nodata, self.nodata_value):
            if value is not None and np.isfinite(value):
                bad_band |= cube == np.float32(value)
        bad = bad_band.any(2)
        labelled = gt > 0
        n_bad = int((bad & labelled).sum())
        if n_bad and self.nodata_policy == 'error':
            r, c = map(int, np.argwhere(bad & labelled)[0])
            raise DataError(f'{self.image_path}: pixel (row {r}, col {c}) has NaN/nodata values '
                            f'in {int(bad_band[r, c].sum())} band(s); expected finite values '
                            f'(nodata_policy="error")')

        label_values = sorted(int(v) for v in np.unique(gt[labelled]))
        if not label_values:
            raise DataError(f'{self.gt_path}: no labelled pixel (all 0); expected class ids > 0')
        names = self.class_names or SALINAS_CLASSES
        self.label_values = label_values
        self.classes = [str(names.get(v, v)) for v in label_values]
        lookup = np.full(max(label_values) + 1, -1, dtype=np.int64)
        lookup[label_values] = np.arange(len(label_values))
        label_map = np.where(labelled, lookup[np.clip(gt, 0, None)], -1)

        # stratified split over the labelled pixels (those excluded by the policy are removed
        # after the split is drawn, so the split does not depend on the policy)
        rng = np.random.default_rng(self.seed)
        is_train = np.zeros(gt.shape, dtype=bool)
        is_val = np.zeros(gt.shape, dtype=bool)
        for k in range(len(label_values)):
            pix = np.flatnonzero(label_map.ravel() == k)
            pix = pix[rng.permutation(pix.size)]
            n_train = max(1, int(round(self.train_ratio * pix.size)))
            is_train.ravel()[pix[:n_train]] = True
            # a separate generator: the train/test split is the same with or without val_ratio
            if self.val_ratio > 0:
                fold_seed = [self.seed, k] + ([] if self.val_seed is None else [self.val_seed])
                held = np.random.default_rng(fold_seed).permutation(pix[:n_train])
                n_val = min(n_train - 1, int(round(self.val_ratio * n_train)))
                start = min(self.val_fold * n_val, n_train - n_val)
                is_val.ravel()[held[start:start + n_val]] = True
        if self.nodata_policy == 'exclude':
            usable = labelled & ~bad
        else:
            usable = labelled
            if n_bad:  # fill with the band means of the valid training pixels
                train_ok = is_train & labelled & ~bad
                for b in np.flatnonzero(bad_band.any((0, 1))):
                    band = cube[:, :, b]
                    ok = train_ok & ~bad_band[:, :, b]
                    fill = band[ok].mean() if ok.any() else 0.0
                    band[bad_band[:, :, b]] = fill
        print_log(f'HSIPixelDataset: {self.image_path}: cube {cube.shape}, {int(labelled.sum())}'
                  f' labelled pixels in {len(label_values)} classes; {n_bad} labelled pixel(s) '
                  f'with NaN/nodata ({self.nodata_policy})', logger='current')
        self._cube = cube
        self._label_map = np.where(usable, label_map, -1)
        self._is_train = is_train & ~is_val & usable
        if self.split == 'train':
            mask = self._is_train
        elif self.split == 'val' and self.val_ratio > 0:
            mask = is_val & usable
        else:
            mask = usable & ~is_train
        rows, cols = np.nonzero(mask)
        print_log(f'HSIPixelDataset[{self.split}]: {rows.size} pixels '
                  f'(train_ratio={self.train_ratio}, val_ratio={self.val_ratio}, '
                  f'val_fold={self.val_fold}, seed={self.seed})', logger='current')
        return [(int(r), int(c)) for r, c in zip(rows, cols)]

    @property
    def metainfo(self) -> dict:
        return dict(classes=list(self.classes), label_values=list(self.label_values),
                    image_shape=tuple(self._label_map.shape), gt_map=self._label_map.copy(),
                    train_mask=self._is_train.copy())

    def get_sample(self, index: int) -> dict:
        r, c = self.samples[index]
        return {'hsi': self._cube[r, c].copy(), 'gt_label': int(self._label_map[r, c]),
                'pixel': np.array([r, c], dtype=np.int64)}

    def train_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """``(spectra (N, bands), labels (N,))`` of this split (for the classic baselines)."""
        idx = np.asarray(self.samples, dtype=np.int64).reshape(-1, 2)
        return self._cube[idx[:, 0], idx[:, 1]], self._label_map[idx[:, 0], idx[:, 1]]

    def stats(self) -> dict:
        x = self._cube[self._is_train].astype(np.float64)
        return {'inputs': {'hsi': {'mean': x.mean(0).tolist(), 'std': x.std(0).tolist()}}}
