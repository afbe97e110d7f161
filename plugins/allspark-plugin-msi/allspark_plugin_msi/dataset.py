"""``EuroSATDataset``: EuroSAT-MS Sentinel-2 GeoTIFFs read with rasterio.

Layout: ``<data_root>/<split>/<Class>/<name>.tif`` (``split`` in ``train``/``test``), every file a
13-band GeoTIFF (uint16 top-of-atmosphere reflectance x 10000, 64 x 64, UTM CRS).
"""
from __future__ import annotations

import os
import warnings
from typing import Optional, Sequence

import numpy as np

from allspark.datasets import BaseDataset, DataError
from allspark.datasets.validation import check_dtype, check_path, check_values
from allspark.registry import DATASETS

#: Band order of the EuroSAT-MS ("allBands") GeoTIFFs (B8A is stored last) and the Sentinel-2A
#: central wavelengths in nm (ESA Sentinel-2 spectral response functions, S2A).
SENTINEL2_BANDS = ('B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B09', 'B10', 'B11',
                   'B12', 'B8A')
SENTINEL2_WAVELENGTHS_NM = (442.7, 492.4, 559.8, 664.6, 704.1, 740.5, 782.8, 832.8, 945.1,
                            1373.5, 1613.7, 2202.4, 864.7)
SENTINEL2_RESOLUTION_M = (60, 10, 10, 10, 20, 20, 20, 10, 60, 60, 20, 20, 20)
EUROSAT_CLASSES = ('AnnualCrop', 'Forest', 'HerbaceousVegetation', 'Highway', 'Industrial',
                   'Pasture', 'PermanentCrop', 'Residential', 'River', 'SeaLake')
RASTER_EXTS = ('.tif', '.tiff')


def _rasterio():
    import rasterio  # local: a rasterio handle must never live on the dataset (no pickling)
    return rasterio


def check_raster_header(path: str, num_bands: Optional[int], dataset: str) -> dict:
    """Open ``path``'s header: band count (vs ``num_bands``), size, dtype; raise ``DataError``."""
    rasterio = _rasterio()
    check_path(path)
    try:
        with rasterio.open(path) as src:
            count, height, width = src.count, src.height, src.width
            file_dtype = src.dtypes[0]
    except Exception as exc:  # rasterio raises RasterioIOError and friends
        raise DataError(f'{dataset}: cannot open {path} as a GeoTIFF '
                        f'({type(exc).__name__}: {exc})') from None
    if num_bands is not None and count != num_bands:
        raise DataError(f'{dataset}: {path} has {count} bands, expected {num_bands} '
                        f'(field num_bands of the dataset config)')
    return dict(height=height, width=width, count=count, dtype=str(file_dtype))


def fill_invalid(x: np.ndarray, nodata: Optional[float], path: str,
                 band_names: Sequence[str], dataset: str) -> tuple[np.ndarray, int]:
    """NaN / inf / nodata policy: **fill** each invalid pixel with the mean of the valid pixels
    of the same band in the same image; a band with no valid pixel is a ``DataError``.

    ``x (C, H, W)`` float32 -> (filled copy, number of invalid pixel values)."""
    invalid = ~np.isfinite(x)
    if nodata is not None and np.isfinite(nodata):
        invalid |= x == nodata
    elif nodata is not None and np.isnan(nodata):
        invalid |= np.isnan(x)
    n_invalid = int(invalid.sum())
    if not n_invalid:
        return x, 0
    x = x.copy()
    for c in range(x.shape[0]):
        bad = invalid[c]
        if bad.all():
            raise DataError(f'{dataset}: {path}: band {band_names[c]} (index {c}) has no valid '
                            f'pixel (all NaN/inf/nodata={nodata}); cannot fill it')
        if bad.any():
            x[c][bad] = x[c][~bad].mean()
    return x, n_invalid


@DATASETS.register_module()
class EuroSATDataset(BaseDataset):
    """EuroSAT-MS (Sentinel-2 L1C, 13 bands, 64 x 64 px GeoTIFF), land-use/land-cover scenes.

    Format: ``<data_root>/{train,test}/<Class>/<Class>_<id>.tif``, read with rasterio.
    Classes (10): AnnualCrop, Forest, HerbaceousVegetation, Highway, Industrial, Pasture,
    PermanentCrop, Residential, River, SeaLake (the class folders of ``train/``, sorted).
    Splits: the folders ``train/`` and ``test/`` (the copy in ``../shared/data/eurosat`` has
    16 + 4 files per class); a class folder in ``test/`` that ``train/`` lacks is an error.
    Citation: Helber et al., "EuroSAT: A Novel Dataset and Deep Learning Benchmark for Land Use
    and Land Cover Classification", IEEE JSTARS 12(7), 2019.

    Sample: ``{'msi': float32 (C, H, W) raw reflectance x 1e4, 'gt_label': int, 'img_path',
    'crs': 'EPSG:32631' (WKT if no EPSG code), 'transform': (a, b, c, d, e, f) affine,
    'center_lon', 'center_lat' (WGS 84 degrees of the tile centre), 'invalid_pixels': int}``.
    Band names / wavelengths are in ``metainfo``.

    NaN / nodata policy: pixels that are NaN, inf or equal to the file's nodata value (or
    ``nodata`` given here) are **filled** with the mean of that band's valid pixels in the same
    image (count in ``invalid_pixels``); a band with no valid pixel is a ``DataError``.
    Statistics (``stats()``) ignore invalid pixels.

    Args:
        num_bands: bands every file must have (13); a file with another count is a
            ``DataError`` naming the file, found and expected counts.
        bands: optional subset of band names to keep (e.g. ``['B04', 'B03', 'B02']``).
        nodata: nodata value overriding the files' own.
        skip_bad_files: ``False`` (default): an unreadable / truncated / wrong-band file raises
            ``DataError`` naming it.  ``True``: every file is read fully once while listing, bad
            files are dropped with a warning each and a count at the end (``self.skipped``).
        check_files: open every header while listing (cheap; band-count errors appear early).
    """

    MODALITIES = ('msi',)

    def __init__(self, data_root: str = '', split: str = 'train', pipeline: Sequence = (),
                 num_bands: int = 13, bands: Optional[Sequence[str]] = None,
                 band_names: Sequence[str] = SENTINEL2_BANDS,
                 wavelengths_nm: Sequence[float] = SENTINEL2_WAVELENGTHS_NM,
                 nodata: Optional[float] = None, skip_bad_files: bool = False,
                 check_files: bool = True, dtype: Optional[str] = 'auto',
                 value_range: Optional[str] = 'reflectance_x10000', **kwargs):
        if len(band_names) != num_bands or len(wavelengths_nm) != num_bands:
            raise ValueError(f'EuroSATDataset: num_bands={num_bands} but {len(band_names)} band '
                             f'names and {len(wavelengths_nm)} wavelengths given')
        self.num_bands, self.nodata = num_bands, nodata
        # dtype: every file must have it ('auto': the first file's; None: any); value_range: a
        # declared range of allspark.datasets.validation.PHYSICAL_RANGES (None: unchecked)
        self.dtype, self.value_range = dtype, value_range
        self._first_dtype: Optional[tuple[str, str]] = None
        self.all_band_names, self.all_wavelengths = list(band_names), list(wavelengths_nm)
        unknown = [b for b in (bands or []) if b not in self.all_band_names]
        if unknown:
            raise ValueError(f'EuroSATDataset: unknown bands {unknown}; known: '
                             f'{self.all_band_names}')
        self.band_index = [self.all_band_names.index(b) for b in bands] if bands else \
            list(range(num_bands))
        self.skip_bad_files, self.check_files = skip_bad_files, check_files
        self.skipped: list[tuple[str, str]] = []
        self._stats: Optional[dict] = None
        super().__init__(data_root=data_root, split=split, pipeline=pipeline, **kwargs)

    # ------------------------------------------------------------------ listing
    def _list_split(self, split: str, classes: Optional[list]) -> tuple[list, list]:
        folder = os.path.join(self.data_root, split)
        if not os.path.isdir(folder):
            raise DataError(f'EuroSATDataset: split folder not found: {folder} '
                            f'(expected <data_root>/{split}/<Class>/*.tif)')
        found = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))
        if classes is None:
            classes = found
        extra = [c for c in found if c not in classes]
        if extra:
            raise DataError(f'EuroSATDataset: class folder(s) {extra} in {folder} are not in the '
                            f'training split {os.path.join(self.data_root, "train")} '
                            f'(classes: {classes})')
        files = []
        for cls in found:
            for name in sorted(os.listdir(os.path.join(folder, cls))):
                if name.lower().endswith(RASTER_EXTS):
                    files.append((os.path.join(folder, cls, name), classes.index(cls)))
        return classes, files

    def load_samples(self) -> list[dict]:
        self.classes, _ = self._list_split('train', None)
        if not self.classes:
            raise DataError(f'EuroSATDataset: no class folders in '
                            f'{os.path.join(self.data_root, "train")}')
        _, files = self._list_split(self.split, self.classes)
        samples = []
        for path, label in files:
            if self.skip_bad_files:
                try:
                    self._read(path)
                except DataError as exc:
                    warnings.warn(f'EuroSATDataset: skipping bad file: {exc}')
                    self.skipped.append((path, str(exc)))
                    continue
            elif self.check_files:
                info = check_raster_header(path, self.num_bands, 'EuroSATDataset')
                self._check_dtype(info['dtype'], path)
            samples.append(dict(img_path=path, gt_label=label))
        if self.skipped:
            warnings.warn(f'EuroSATDataset ({self.split}): skipped {len(self.skipped)} bad '
                          f'file(s) of {len(files)}; kept {len(samples)}')
        if not samples:
            raise DataError(f'EuroSATDataset: no readable .tif files in '
                            f'{os.path.join(self.data_root, self.split)}')
        return samples

    @property
    def metainfo(self) -> dict:
        return dict(classes=list(self.classes),
                    bands=[self.all_band_names[i] for i in self.band_index],
                    wavelengths_nm=[self.all_wavelengths[i] for i in self.band_index],
                    sensor='Sentinel-2 MSI (L1C)', value_scale='reflectance x 10000',
                    nodata_policy='fill with the per-image band mean of valid pixels')

    # ------------------------------------------------------------------ reading
    def _check_dtype(self, dtype: str, path: str) -> None:
        """A file whose dtype differs from ``self.dtype`` (or, with ``'auto'``, an integer
        dtype other than the first integer file's: a uint8 tile among uint16 ones, which is
        scaled differently) is a ``DataError``; float tiles are range-checked instead."""
        if self.dtype is None:
            return
        if self.dtype != 'auto':
            check_dtype(dtype, self.dtype, path, 'dtype')
        elif np.dtype(dtype).kind == 'f':
            return
        elif self._first_dtype is None:
            self._first_dtype = (str(dtype), path)
        elif str(dtype) != self._first_dtype[0]:
            raise DataError(f'{path}: field \'dtype\': {dtype}, expected '
                            f'{self._first_dtype[0]} like the first file '
                            f'{self._first_dtype[1]} (a tile stored at another bit depth is '
                            f'scaled differently; set dtype= in the config to choose)')

    def _read(self, path: str) -> tuple[np.ndarray, dict]:
        """Read all bands of ``path`` -> (``(C, H, W)`` float32 selected bands, geo metadata)."""
        rasterio = _rasterio()
        try:
            with rasterio.open(path) as src:
                if src.count != self.num_bands:
                    raise DataError(f'EuroSATDataset: {path} has {src.count} bands, expected '
                                    f'{self.num_bands} (field num_bands of the dataset config)')
                self._check_dtype(src.dtypes[0], path)
                data = src.read(out_dtype='float32')
                crs, transform = src.crs, src.transform
                nodata = self.nodata if self.nodata is not None else src.nodata
                height, width = src.height, src.width
        except DataError:
            raise
        except Exception as exc:
            raise DataError(f'EuroSATDataset: cannot read {path} as a GeoTIFF '
                            f'({type(exc).__name__}: {exc})') from None
        data, n_invalid = fill_invalid(data, nodata, path, self.all_band_names, 'EuroSATDataset')
        if self.value_range is not None:
            check_values(data, path, 'reflectance', self.value_range, where='(band, row, col)')
        meta = dict(transform=tuple(float(v) for v in tuple(transform)[:6]),
                    invalid_pixels=n_invalid, crs='', center_lon=float('nan'),
                    center_lat=float('nan'))
        if crs is not None:
            epsg = crs.to_epsg()
            meta['crs'] = f'EPSG:{epsg}' if epsg else crs.to_wkt()
            t = transform
            cx = t.c + t.a * width / 2.0 + t.b * height / 2.0
            cy = t.f + t.d * width / 2.0 + t.e * height / 2.0
            from rasterio.warp import transform as warp_transform
            lon, lat = warp_transform(crs, 'EPSG:4326', [cx], [cy])
            meta['center_lon'], meta['center_lat'] = float(lon[0]), float(lat[0])
        return data[self.band_index], meta

    def get_sample(self, index: int) -> dict:
        record = dict(self.samples[index])
        data, meta = self._read(record['img_path'])
        record.update(meta)
        record['msi'] = data
        return record

    # ------------------------------------------------------------------ statistics
    def stats(self) -> dict:
        """Per-band mean / std of the **training split** (invalid pixels excluded)."""
        if self._stats is None:
            source = self if self.split == 'train' else EuroSATDataset(
                self.data_root, 'train', num_bands=self.num_bands,
                bands=[self.all_band_names[i] for i in self.band_index],
                band_names=self.all_band_names, wavelengths_nm=self.all_wavelengths,
                nodata=self.nodata, skip_bad_files=self.skip_bad_files, dtype=self.dtype,
                value_range=self.value_range)
            total = np.zeros(len(self.band_index))
            total_sq = np.zeros(len(self.band_index))
            count = 0
            for rec in source.samples:
                x, _ = source._read(rec['img_path'])
                x = x.reshape(x.shape[0], -1).astype(np.float64)
                total += x.sum(1)
                total_sq += (x ** 2).sum(1)
                count += x.shape[1]
            mean = total / count
            std = np.sqrt(np.maximum(total_sq / count - mean ** 2, 0.0))
            self._stats = dict(inputs=dict(msi=dict(mean=mean.tolist(), std=std.tolist())))
        return self._stats
