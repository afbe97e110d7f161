"""``HSIPixelDataset``: a hyperspectral cube + ground-truth map, each labelled pixel a sample.

Formats (by extension):

* ``.mat`` (MATLAB, ``scipy.io.loadmat``; v7.3 files through ``h5py``).  The cube (``cube_key``,
  default: the one variable that fits) is any of
  - a ``rows x cols x bands`` cube (GIC's Salinas-A, Indian Pines, Pavia:
    ``SalinasA_corrected.mat``),
  - a ``bands x rows x cols`` cube,
  - a ``bands x pixels`` or ``pixels x bands`` matrix (the unmixing scenes of F. Zhu: Samson,
    Jasper Ridge, Urban: ``samson_1.mat`` holds ``V (156, 9025)`` and ``nRow``/``nCol``), with
    ``rows``/``cols`` given or read from the file (``nRow``/``nCol``, ``rows``/``cols``,
    ``lines``/``samples``, ``height``/``width``); pixels in ``pixel_order`` (``'F'``, MATLAB's
    column-major order, by default: pixel p is at row ``p % rows``, column ``p // rows``).
  The band axis is the one of length ``num_bands``.
* anything rasterio reads: GeoTIFF (``.tif``), ENVI (the data file next to its ``.hdr``; giving
  the ``.hdr`` also works), ...: bands first ``(bands, rows, cols)``; the file's ``nodata`` value
  marks nodata pixels.

Ground truth (``gt_key``, default: the one variable that fits the cube), ``gt_type``:

* ``'map'``: a ``rows x cols`` label map (or a ``pixels`` vector / ``1 x pixels`` matrix, in
  ``pixel_order``); ``ignore_index`` (default 0, GIC's convention; ``None``: every value is a
  class) marks unlabelled pixels, and is logged;
* ``'abundance'``: per-pixel fractions ``K x pixels``, ``pixels x K``, ``rows x cols x K`` or
  ``K x rows x cols`` (Zhu's ``end3.mat``: ``A (3, 9025)``): each pixel takes the class of its
  largest fraction (argmax), pixels whose largest fraction is below ``min_purity`` are left out
  (unlabelled); every class index, 0 included, is a class;
* ``'auto'`` (default): abundances when the variable has a class axis besides the pixels, else
  a map.

Classes: the labels present (the ``ignore_index`` left out), sorted and mapped to 0..K-1
(``label_values`` in the metainfo keeps the original ids; ``classes`` names them).  Names: the
config's ``class_names`` if given, else names stored in the ground-truth file (a cell/string
variable with one name per class, e.g. Zhu's ``cood``; an ENVI classification header's
``class names``, whose first entry ``Unclassified`` then marks 0 as unlabelled), else the
Salinas-A names when the ground truth is Salinas-A's (file or variable named ``salinas*``), else
``class_<id>``.

A wrong ``cube_key``/``gt_key``, or a file where no variable or several fit, is a ``DataError``
listing every variable of the file with its shape and type.

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
from allspark.datasets.validation import check_integer_labels, check_values
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


def describe_variables(variables: dict) -> str:
    """``'V (156, 9025) float64, nRow (1, 1) uint8'``: every variable with its shape and type."""
    parts = [f'{k} {tuple(np.shape(v))} {getattr(v, "dtype", type(v).__name__)}'
             for k, v in sorted(variables.items())]
    return ', '.join(parts) or 'no variables'


def _mat_scalar(variables: dict, names: Sequence[str]) -> Optional[int]:
    """The integer value of the first scalar variable whose name is one of ``names`` (any case)."""
    lower = {k.lower(): k for k in variables}
    for name in names:
        key = lower.get(name.lower())
        if key is not None and np.size(variables[key]) == 1:
            try:
                return int(np.asarray(variables[key]).ravel()[0])
            except (TypeError, ValueError):
                continue
    return None


def _mat_names(variables: dict, count: int) -> Optional[list]:
    """Class names stored in a .mat file: a cell / string variable with ``count`` strings."""
    for key in sorted(variables):
        value = np.asarray(variables[key])
        if value.size != count or value.dtype.kind not in 'OU':
            continue
        names = []
        for item in value.ravel():
            while isinstance(item, np.ndarray) and item.dtype == object and item.size == 1:
                item = item.ravel()[0]
            text = item if isinstance(item, str) else (
                str(np.asarray(item).ravel()[0]) if np.size(item) == 1 and
                np.asarray(item).dtype.kind == 'U' else None)
            if text is None:
                break
            names.append(text.strip())
        else:
            return names
    return None


def _envi_class_names(path: str) -> Optional[list]:
    """``class names = {...}`` of an ENVI header next to ``path`` (or ``path`` itself)."""
    import re
    if path.lower().endswith(('.tif', '.tiff')):  # a GeoTIFF has no ENVI header
        return None
    stem = path[:-4] if path.lower().endswith('.hdr') else os.path.splitext(path)[0]
    for header in (stem + '.hdr', path + '.hdr'):
        if os.path.exists(header):
            with open(header, errors='replace') as f:
                found = re.search(r'class\s+names\s*=\s*\{([^}]*)\}', f.read(), re.I)
            return [n.strip() for n in found.group(1).split(',')] if found else None
    return None


ROW_NAMES = ('nRow', 'nRows', 'rows', 'lines', 'height', 'nr')
COL_NAMES = ('nCol', 'nCols', 'cols', 'samples', 'width', 'nc')


def _pick(path: str, variables: dict, key: Optional[str], fits, what: str, key_arg: str):
    """The variable named ``key``, else the only one for which ``fits(array)`` holds."""
    if key is not None:
        if key not in variables:
            raise DataError(f'{path}: no variable {key!r} ({key_arg}); the file has: '
                            f'{describe_variables(variables)}')
        return key, np.asarray(variables[key])
    cands = [k for k, v in variables.items()
             if isinstance(v, np.ndarray) and v.dtype.kind in 'biuf' and fits(v)]
    if len(cands) != 1:
        raise DataError(f'{path}: expected exactly one variable that is the {what}, found '
                        f'{len(cands)} ({cands}); the file has: {describe_variables(variables)};'
                        f' name it with {key_arg}')
    return cands[0], np.asarray(variables[cands[0]])


def _envi_data_file(header: str) -> str:
    """The ENVI data file that belongs to ``header`` (same stem, usual extensions)."""
    stem = header[:-4]
    for ext in ('', '.img', '.dat', '.raw', '.bsq', '.bil', '.bip', '.IMG', '.DAT'):
        if os.path.exists(stem + ext):
            return stem + ext
    raise DataError(f'{header}: no ENVI data file next to the header (tried {stem}[.img|.dat|'
                    f'.raw|.bsq|.bil|.bip])')


def read_array(path: str, ndim: int,
               key: Optional[str] = None) -> tuple[np.ndarray, Optional[float]]:
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
                    raise DataError(f'{path}: no variable {key!r}; the file has: '
                                    f'{describe_variables(variables)}')
                arr = np.asarray(variables[key])
            else:
                cands = [k for k, v in variables.items() if np.ndim(v) == ndim]
                if len(cands) != 1:
                    raise DataError(f'{path}: expected exactly one {ndim}-D variable (the {what}),'
                                    f' found {cands}; the file has: '
                                    f'{describe_variables(variables)}; name it with '
                                    f'cube_key/gt_key')
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


def _pixels_to_grid(arr: np.ndarray, rows: int, cols: int, order: str) -> np.ndarray:
    """``(pixels, C)`` -> ``(rows, cols, C)`` in ``order`` ('F': column-major, 'C': row-major)."""
    return arr.reshape(rows, cols, -1, order='F') if order == 'F' else arr.reshape(
        rows, cols, -1)


def read_cube(path: str, num_bands: int, key: Optional[str] = None,
              rows: Optional[int] = None, cols: Optional[int] = None,
              pixel_order: str = 'F') -> tuple[np.ndarray, Optional[float], str]:
    """Read a cube in any layout of the module docstring; returns ``(rows x cols x bands, nodata,
    layout description)``; a bad file is a ``DataError`` naming it and what it contains."""
    if not path.lower().endswith('.mat'):
        cube, nodata = read_array(path, 3, key)
        return cube, nodata, 'bands x rows x cols (raster)'
    if not os.path.exists(path):
        raise DataError(f'{path}: file not found')
    try:
        variables = _mat_variables(path)
    except Exception as exc:
        raise DataError(f'{path}: cannot read the cube ({type(exc).__name__}: {exc})') from exc

    def fits(v):
        return (v.ndim == 3 or (v.ndim == 2 and num_bands in v.shape and min(v.shape) > 1
                                and max(v.shape) > num_bands))
    name, arr = _pick(path, variables, key, fits, f'cube ({num_bands} bands: rows x cols x bands,'
                      f' bands x rows x cols, bands x pixels or pixels x bands)', 'cube_key')
    if arr.ndim == 3:
        if arr.shape[2] == num_bands:
            return arr, None, f'{name}: rows x cols x bands'
        if arr.shape[0] == num_bands:
            return arr.transpose(1, 2, 0), None, f'{name}: bands x rows x cols'
        raise DataError(f'{path}: the cube {name!r} has shape {arr.shape}: {arr.shape[2]} bands'
                        f' (last axis), expected {num_bands} (num_bands in the config); the file'
                        f' has: {describe_variables(variables)}')
    if arr.ndim != 2:
        raise DataError(f'{path}: the cube {name!r} has shape {arr.shape}, expected a 3-D cube '
                        f'or a 2-D bands x pixels matrix')
    if arr.shape[0] == num_bands and arr.shape[1] != num_bands:
        pixels, layout = arr.T, 'bands x pixels'
    elif arr.shape[1] == num_bands:
        pixels, layout = arr, 'pixels x bands'
    else:
        raise DataError(f'{path}: the matrix {name!r} has shape {arr.shape}: no axis of '
                        f'{num_bands} bands (num_bands in the config); the file has: '
                        f'{describe_variables(variables)}')
    rows = rows or _mat_scalar(variables, ROW_NAMES)
    cols = cols or _mat_scalar(variables, COL_NAMES)
    n = pixels.shape[0]
    if rows and not cols and n % rows == 0:
        cols = n // rows
    if cols and not rows and n % cols == 0:
        rows = n // cols
    if not rows or not cols or rows * cols != n:
        raise DataError(f'{path}: {name!r} is a {layout} matrix of {n} pixels; give rows and '
                        f'cols (rows x cols = {n}) in the config, or store nRow/nCol in the '
                        f'file (found rows={rows}, cols={cols}); the file has: '
                        f'{describe_variables(variables)}')
    return (_pixels_to_grid(pixels, rows, cols, pixel_order), None,
            f'{name}: {layout} matrix, {rows} x {cols} pixels in {pixel_order} order')


def read_ground_truth(path: str, shape: tuple, key: Optional[str] = None,
                      gt_type: str = 'auto', pixel_order: str = 'F'
                      ) -> tuple[str, np.ndarray, Optional[list], str]:
    """Read a label map or abundances matching ``shape = (rows, cols)``.

    Returns ``(kind, array, names stored in the file or None, description)``: ``kind`` is
    ``'map'`` (``array`` ``(rows, cols)``) or ``'abundance'`` (``array`` ``(rows, cols, K)``)."""
    if gt_type not in ('auto', 'map', 'abundance'):
        raise ValueError(f"gt_type must be 'auto', 'map' or 'abundance', got {gt_type!r}")
    rows, cols = shape
    n = rows * cols
    if not path.lower().endswith('.mat'):
        arr, _ = read_array(path, 3 if gt_type == 'abundance' else 2, key)
        if gt_type == 'abundance':
            return 'abundance', arr, None, 'abundance raster (one band per class)'
        return 'map', arr, _envi_class_names(path), 'label raster'
    if not os.path.exists(path):
        raise DataError(f'{path}: file not found')
    try:
        variables = _mat_variables(path)
    except Exception as exc:
        raise DataError(f'{path}: cannot read the ground truth ({type(exc).__name__}: {exc})'
                        ) from exc

    def as_map(v):
        if v.shape == (rows, cols):
            return v
        if v.size == n and (v.ndim == 1 or (v.ndim == 2 and 1 in v.shape)):
            return _pixels_to_grid(v.reshape(n, 1), rows, cols, pixel_order)[..., 0]
        return None

    def as_abundance(v):
        if v.ndim == 3 and v.shape[:2] == (rows, cols):
            return v
        if v.ndim == 3 and v.shape[1:] == (rows, cols):
            return v.transpose(1, 2, 0)
        if v.ndim == 2 and v.shape[1] == n and v.shape[0] > 1:
            return _pixels_to_grid(v.T, rows, cols, pixel_order)
        if v.ndim == 2 and v.shape[0] == n and v.shape[1] > 1:
            return _pixels_to_grid(v, rows, cols, pixel_order)
        return None

    def fits(v):
        return ((gt_type != 'abundance' and as_map(v) is not None) or
                (gt_type != 'map' and as_abundance(v) is not None))
    what = {'map': f'label map ({rows} x {cols})',
            'abundance': f'abundances (K x {n} pixels or {rows} x {cols} x K)',
            'auto': f'ground truth (a {rows} x {cols} label map or K x {n} abundances)'}[gt_type]
    name, arr = _pick(path, variables, key, fits, what, 'gt_key')
    ab = None if gt_type == 'map' else as_abundance(arr)
    if ab is not None:
        return ('abundance', ab, _mat_names(variables, ab.shape[2]),
                f'{name}: abundances of {ab.shape[2]} classes')
    gt = None if gt_type == 'abundance' else as_map(arr)
    if gt is None:
        raise DataError(f'{path}: {name!r} has shape {arr.shape}, expected the {what} of the cube'
                        f' ({rows} x {cols} pixels); the file has: '
                        f'{describe_variables(variables)}')
    return 'map', gt, None, f'{name}: label map'


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
        class_names: ``{label id: name}`` or a list in label order (default: the names stored
            in the ground-truth file, the Salinas-A names for Salinas-A, else ``class_<id>``).
        nodata_policy: ``'exclude'``, ``'fill'`` or ``'error'`` (see module docstring).
        nodata_value: a nodata value to use in addition to the file's own.
        rows, cols: grid size of a ``bands x pixels`` / ``pixels x bands`` matrix (default: read
            from the file).
        pixel_order: ``'F'`` (MATLAB column-major, default) or ``'C'`` (row-major) pixel order
            of such matrices and of per-pixel ground truth.
        gt_type: ``'auto'``, ``'map'`` or ``'abundance'`` (see module docstring).
        min_purity: abundances: a pixel whose largest fraction is below this is unlabelled.
        ignore_index: label maps: the value of unlabelled pixels (``None``: none; default 0,
            or what an ENVI header's ``Unclassified`` class says).
        soft_labels: abundances only: every sample also carries ``gt_soft (K,)``, its fractions
            normalised to sum 1 (for ``LinearClsHead(soft_label_key='gt_soft')``); ``gt_label``
            stays their argmax.
    """

    MODALITIES = ('hsi',)

    def __init__(self, data_root: str = '', image_file: str = 'SalinasA_corrected.mat',
                 gt_file: str = 'SalinasA_gt.mat', num_bands: int = 204, split: str = 'train',
                 train_ratio: float = 0.4, val_ratio: float = 0.0, val_fold: int = 0,
                 val_seed: Optional[int] = None, seed: int = 0, cube_key: Optional[str] = None,
                 gt_key: Optional[str] = None, class_names: Optional[dict] = None,
                 nodata_policy: str = 'exclude', nodata_value: Optional[float] = None,
                 rows: Optional[int] = None, cols: Optional[int] = None,
                 pixel_order: str = 'F', gt_type: str = 'auto', min_purity: float = 0.0,
                 ignore_index: Optional[int] = 0, soft_labels: bool = False, **kwargs):
        self.soft_labels = soft_labels
        self._fractions = None
        if pixel_order not in ('F', 'C'):
            raise ValueError(f"HSIPixelDataset: pixel_order must be 'F' or 'C', got "
                             f'{pixel_order!r}')
        if not 0.0 <= min_purity <= 1.0:
            raise ValueError(f'HSIPixelDataset: min_purity must be in [0, 1], got {min_purity}')
        self.rows, self.cols, self.pixel_order = rows, cols, pixel_order
        self.gt_type, self.min_purity, self.ignore_index = gt_type, min_purity, ignore_index
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
        cube, nodata, layout = read_cube(self.image_path, self.num_bands, self.cube_key,
                                         self.rows, self.cols, self.pixel_order)
        if cube.shape[2] != self.num_bands:
            raise DataError(f'{self.image_path}: the cube has {cube.shape[2]} bands, expected '
                            f'{self.num_bands} (num_bands in the config)')
        gt_kind, gt, file_names, gt_layout = read_ground_truth(
            self.gt_path, cube.shape[:2], self.gt_key, self.gt_type, self.pixel_order)
        if gt.shape[:2] != cube.shape[:2]:
            raise DataError(f'{self.gt_path}: ground truth shape {gt.shape} differs from the '
                            f'cube {self.image_path} {cube.shape[:2]}; expected the same rows/cols')
        cube = cube.astype(np.float32)
        self._gt_layout = gt_layout  # starts with the variable's name
        ignore = self.ignore_index
        if gt_kind == 'abundance':
            frac = np.nan_to_num(gt.astype(np.float64), nan=0.0)
            purity = frac.max(2)
            gt = frac.argmax(2).astype(np.int64)
            if self.soft_labels:
                total = frac.sum(2, keepdims=True)
                one_hot = np.eye(frac.shape[2])[gt]  # an all-zero pixel: its argmax
                self._fractions = np.where(total > 0, frac / np.maximum(total, 1e-12),
                                           one_hot).astype(np.float32)
            labelled = purity >= self.min_purity
            all_values = list(range(frac.shape[2]))  # every fraction is a class, 0 included
            gt_note = (f'{gt_layout}, argmax with min_purity={self.min_purity}: '
                       f'{int((~labelled).sum())} mixed pixel(s) left out')
        else:
            if self.soft_labels:
                raise DataError(f'{self.gt_path}: soft_labels=True needs per-pixel abundances '
                                f'(K fractions per pixel); the file holds {gt_layout}')
            gt = np.nan_to_num(gt.astype(np.float64), nan=-1 if ignore is None else ignore)
            # 1.5 or 2**40 is a corrupt map, not a class: refuse it instead of truncating
            gt = check_integer_labels(gt, self.gt_path, gt_layout.split(':')[0],
                                      min_value=-2 ** 15, max_value=2 ** 16,
                                      where='(row, col)')
            if file_names and file_names[0].lower() == 'unclassified':
                ignore = 0  # the ENVI header names class 0 "Unclassified"
            labelled = np.ones(gt.shape, bool) if ignore is None else gt != ignore
            all_values = None
            gt_note = f'{gt_layout}, unlabelled value: {ignore}'

        bad_band = ~np.isfinite(cube)
        for value in (nodata, self.nodata_value):
            if value is not None and np.isfinite(value):
                bad_band |= cube == np.float32(value)
        bad = bad_band.any(2)
        n_bad = int((bad & labelled).sum())
        cube_field = layout.split(':')[0]
        if labelled.any() and not (labelled & ~bad).any():
            raise DataError(f'{self.image_path}: field {cube_field!r}: every one of the '
                            f'{int(labelled.sum())} labelled pixels has NaN/inf/nodata values; '
                            f'expected finite spectra')
        check_values(cube[~bad], self.image_path, cube_field, 'hsi_radiance',
                     where='valid pixel value')
        if n_bad and self.nodata_policy == 'error':
            r, c = map(int, np.argwhere(bad & labelled)[0])
            raise DataError(f'{self.image_path}: pixel (row {r}, col {c}) has NaN/nodata values '
                            f'in {int(bad_band[r, c].sum())} band(s); expected finite values '
                            f'(nodata_policy="error")')

        label_values = sorted(int(v) for v in np.unique(gt[labelled]))
        if not label_values:
            raise DataError(f'{self.gt_path}: no labelled pixel ({gt_note}); expected class '
                            f'ids other than the unlabelled value')
        self.label_values = label_values
        self.classes = self._class_names(label_values, file_names, all_values)
        label_map = np.where(labelled, np.searchsorted(label_values, gt), -1)

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
        print_log(f'HSIPixelDataset: {self.image_path}: cube {cube.shape} ({layout}); '
                  f'{self.gt_path}: {gt_note}; {int(labelled.sum())} labelled pixels in '
                  f'{len(label_values)} classes {self.classes}; {n_bad} labelled pixel(s) '
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

    def _class_names(self, values: list, file_names: Optional[list],
                     all_values: Optional[list]) -> list:
        """Names of the classes ``values``: config, file, Salinas-A (only for Salinas-A), ids."""
        names = self.class_names
        if isinstance(names, (list, tuple)):
            # a list names the classes in label order: every index of an abundance matrix, or
            # the labels present in a map
            order = all_values if all_values is not None else values
            if len(names) != len(order):
                raise DataError(f'{self.gt_path}: class_names has {len(names)} names, the ground'
                                f' truth has {len(order)} classes {order}')
            names = dict(zip(order, names))
        if names is None and file_names:
            order = all_values if all_values is not None else (
                list(range(len(file_names))) if len(file_names) > max(values) else values)
            names = dict(zip(order, file_names))
        if names is None and 'salinas' in (os.path.basename(self.gt_path) + ' ' +
                                           self._gt_layout).lower():
            names = SALINAS_CLASSES
        names = names or {}
        return [str(names.get(v, f'class_{v}')) for v in values]

    @property
    def metainfo(self) -> dict:
        return dict(classes=list(self.classes), label_values=list(self.label_values),
                    image_shape=tuple(self._label_map.shape), gt_map=self._label_map.copy(),
                    train_mask=self._is_train.copy())

    def get_sample(self, index: int) -> dict:
        r, c = self.samples[index]
        sample = {'hsi': self._cube[r, c].copy(), 'gt_label': int(self._label_map[r, c]),
                  'pixel': np.array([r, c], dtype=np.int64)}
        if self._fractions is not None:
            sample['gt_soft'] = self._fractions[r, c].copy()
        return sample

    def fractions(self) -> np.ndarray:
        """``(N, K)`` abundances of this split's pixels, in sample order (``soft_labels``)."""
        if self._fractions is None:
            raise ValueError('HSIPixelDataset.fractions: build the dataset with '
                             'soft_labels=True from abundance ground truth')
        idx = np.asarray(self.samples, dtype=np.int64).reshape(-1, 2)
        return self._fractions[idx[:, 0], idx[:, 1]]

    def train_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """``(spectra (N, bands), labels (N,))`` of this split (for the classic baselines)."""
        idx = np.asarray(self.samples, dtype=np.int64).reshape(-1, 2)
        return self._cube[idx[:, 0], idx[:, 1]], self._label_map[idx[:, 0], idx[:, 1]]

    def stats(self) -> dict:
        x = self._cube[self._is_train].astype(np.float64)
        return {'inputs': {'hsi': {'mean': x.mean(0).tolist(), 'std': x.std(0).tolist()}}}
