"""``DEMChipDataset``: windowed chips of large single-band DEM/DSM GeoTIFFs, each with its centre
coordinates, so that ``elevation`` and ``location`` are co-located pairs."""
from __future__ import annotations

import glob
import os
from typing import Any, Optional, Sequence, Union

import numpy as np

from allspark.datasets import BaseDataset, DataError
from allspark.geo import raster_center_latlon
from allspark.registry import DATASETS
from allspark_plugin_elevation.io import (
    DEM_EXTENSIONS,
    check_channels,
    chip_channels,
    open_dem,
    valid_mask,
)

SPLITS = ('train', 'test', 'all')


@DATASETS.register_module()
class DEMChipDataset(BaseDataset):
    """Square chips cut from one or more DEM GeoTIFFs.

    Format: single-band GeoTIFF(s) of heights in metres (SRTM, Copernicus DEM, any DSM), any CRS
    (geographic degrees or projected metres).  ``data_root`` is a file or a folder; ``files``
    are glob patterns inside it (default: every ``.tif``/``.tiff`` below it).

    Chips: windows of ``chip_size x chip_size`` pixels on a grid of step ``stride`` (default:
    ``chip_size``, no overlap).  Grid origins are block-aligned: when the file's internal block
    (tile or strip) is no larger than a chip, the step is rounded up to a multiple of the block
    size, so a chip reads whole blocks.  Only windows fully inside the raster are used.  The
    file is opened lazily, once per worker process (handles are never pickled; a forked worker
    opens its own), and each chip is read with a windowed read.

    Each chip carries its centre ``(lat, lon)`` in WGS 84 (reprojected from the file's CRS with
    :func:`allspark.geo.raster_center_latlon`): the ``location`` input.

    Splits: ``split_mode='random'``: a seeded permutation of all chips, the first
    ``round(train_ratio * N)`` are ``'train'``; ``'checkerboard'``: chips whose (row // k + col //
    k) block index is even are ``'train'`` (``k = checker`` chips; spatially separated halves,
    less leakage from spatial autocorrelation); ``'all'`` takes every chip.

    Bad input (``DataError`` naming the file): unreadable file; several bands and no ``band=``;
    no CRS and no ``crs=``; a file whose pixels are all nodata; a chip whose pixels are all
    nodata (``empty_chips='error'``, the default, raises when it is read, naming the file, the
    window and the sample index; ``'drop'`` reads every chip's mask once at listing and leaves
    out those with less than ``min_valid_fraction`` valid pixels).

    Samples: ``{'elevation': float32 (C, chip, chip) in the order of channels, 'location':
    float32 (2,) = (lat, lon) of the chip centre, 'center_lat', 'center_lon', 'dem_path',
    'window': (row_off, col_off, height, width), 'valid_fraction'}``.

    Args:
        channels: see :mod:`allspark_plugin_elevation.io` (``'elevation'``, ``'mask'``,
            ``'slope'``, ``'aspect'``, ``'aspect_sin'``, ``'aspect_cos'``, ``'hillshade'``).
        band: 1-based band of a multi-band file (``None``: the file must have one band).
        crs: CRS to assume for files without one (``None``: such a file is an error).
        nodata: nodata value overriding the file's.

    Data it was written for: SRTM 3" (T. G. Farr et al., "The Shuttle Radar Topography
    Mission", Rev. Geophys. 45, 2007); Copernicus DEM GLO-30 (ESA, doi:10.5270/ESA-c5d3d65).
    """

    MODALITIES = ('elevation', 'location')

    def __init__(self, data_root: str = '', split: str = 'train', pipeline: Sequence = (),
                 files: Union[str, Sequence[str], None] = None, chip_size: int = 64,
                 stride: Optional[int] = None, channels: Sequence[str] = ('elevation', 'mask'),
                 band: Optional[int] = None, crs: Any = None, nodata: Optional[float] = None,
                 split_mode: str = 'random', train_ratio: float = 0.8, seed: int = 0,
                 checker: int = 2, empty_chips: str = 'error', min_valid_fraction: float = 0.0,
                 block_aligned: bool = True, **kwargs):
        if split not in SPLITS:
            raise ValueError(f'DEMChipDataset: split must be one of {SPLITS}, got {split!r}')
        if split_mode not in ('random', 'checkerboard'):
            raise ValueError(f"DEMChipDataset: split_mode must be 'random' or 'checkerboard', "
                             f"got {split_mode!r}")
        if empty_chips not in ('error', 'drop'):
            raise ValueError(f"DEMChipDataset: empty_chips must be 'error' or 'drop', "
                             f"got {empty_chips!r}")
        if chip_size < 2:
            raise ValueError(f'DEMChipDataset: chip_size must be >= 2, got {chip_size}')
        self.files = [files] if isinstance(files, str) else files
        self.chip_size, self.stride = int(chip_size), int(stride or chip_size)
        self.channels = check_channels(channels, 'DEMChipDataset')
        self.band, self.crs, self.nodata = band, crs, nodata
        self.split_mode, self.train_ratio, self.seed = split_mode, train_ratio, seed
        self.checker, self.empty_chips = checker, empty_chips
        self.min_valid_fraction, self.block_aligned = min_valid_fraction, block_aligned
        self.file_info: dict[str, dict] = {}
        self.dropped_chips = 0
        self._handles: dict[str, Any] = {}
        self._handle_pid: Optional[int] = None
        super().__init__(data_root=data_root, split=split, pipeline=pipeline, **kwargs)

    # ------------------------------------------------------------------ listing
    def dem_files(self) -> list[str]:
        if os.path.isfile(self.data_root):
            return [self.data_root]
        if not os.path.isdir(self.data_root):
            raise DataError(f'DEMChipDataset: data_root not found: {self.data_root}')
        patterns = self.files or [f'**/*{ext}' for ext in DEM_EXTENSIONS]
        found = sorted({p for pat in patterns
                        for p in glob.glob(os.path.join(self.data_root, pat), recursive=True)
                        if os.path.isfile(p)})
        if not found:
            present = sorted(os.listdir(self.data_root))[:20]
            raise DataError(f'DEMChipDataset: no file matching {patterns} in {self.data_root} '
                            f'(it holds: {present})')
        return found

    def _step(self, size: int, block: int) -> int:
        if self.block_aligned and 1 < block <= self.chip_size:
            return int(np.ceil(self.stride / block) * block)
        return self.stride

    def _list_file(self, path: str) -> list[dict]:
        from rasterio.windows import Window
        from rasterio.windows import transform as window_transform

        src, band, crs = open_dem(path, self.band, self.crs)
        with src:
            nod = self.nodata if self.nodata is not None else src.nodata
            # the whole file at most 512 px a side: catches an all-nodata file without a full read
            scale = max(1, int(np.ceil(max(src.height, src.width) / 512)))
            shape = (max(1, src.height // scale), max(1, src.width // scale))
            overview = src.read(band, out_shape=shape, out_dtype='float64')
            if not valid_mask(overview, nod).any() and not valid_mask(
                    src.read(band, out_dtype='float64'), nod).any():
                raise DataError(f'DEMChipDataset: {path} is entirely nodata (nodata={nod}); '
                                f'no chip can be cut from it')
            block_h, block_w = src.block_shapes[band - 1]
            if src.height < self.chip_size or src.width < self.chip_size:
                raise DataError(f'DEMChipDataset: {path} is {src.height} x {src.width} px, '
                                f'smaller than chip_size={self.chip_size}')
            row_step = self._step(src.height, block_h)
            col_step = self._step(src.width, block_w)
            self.file_info[path] = dict(crs=crs.to_string(), nodata=nod, band=band,
                                        height=src.height, width=src.width,
                                        block_shape=(block_h, block_w),
                                        steps=(row_step, col_step),
                                        transform=tuple(src.transform)[:6])
            chips = []
            for gi, row in enumerate(range(0, src.height - self.chip_size + 1, row_step)):
                for gj, col in enumerate(range(0, src.width - self.chip_size + 1, col_step)):
                    window = Window(col, row, self.chip_size, self.chip_size)
                    transform = window_transform(window, src.transform)
                    lat, lon = raster_center_latlon(crs, transform, self.chip_size,
                                                    self.chip_size)
                    record = dict(dem_path=path, window=(row, col, self.chip_size,
                                                         self.chip_size),
                                  center_lat=float(lat), center_lon=float(lon), grid=(gi, gj))
                    if self.empty_chips == 'drop':
                        values = src.read(band, window=window, out_dtype='float64')
                        frac = valid_mask(values, nod, src.read_masks(band, window=window)).mean()
                        if frac <= 0 or frac < self.min_valid_fraction:
                            self.dropped_chips += 1
                            continue
                    chips.append(record)
        return chips

    def load_samples(self) -> list[dict]:
        chips = [c for path in self.dem_files() for c in self._list_file(path)]
        if not chips:
            raise DataError(f'DEMChipDataset: no chip of {self.chip_size} px in '
                            f'{self.data_root} ({self.dropped_chips} dropped as nodata)')
        if self.split == 'all':
            return chips
        if self.split_mode == 'random':
            order = np.random.default_rng(self.seed).permutation(len(chips))
            n_train = int(round(self.train_ratio * len(chips)))
            keep = np.sort(order[:n_train] if self.split == 'train' else order[n_train:])
            return [chips[i] for i in keep]
        k = max(1, int(self.checker))
        is_train = [((c['grid'][0] // k) + (c['grid'][1] // k)) % 2 == 0 for c in chips]
        return [c for c, t in zip(chips, is_train) if t == (self.split == 'train')]

    # ------------------------------------------------------------------ reading
    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state['_handles'], state['_handle_pid'] = {}, None  # file handles never travel
        return state

    def _handle(self, path: str):
        pid = os.getpid()
        if self._handle_pid != pid:  # first use in this process (or a forked worker)
            self._handles, self._handle_pid = {}, pid
        if path not in self._handles:
            self._handles[path] = open_dem(path, self.band, self.crs)[0]
        return self._handles[path]

    def close(self) -> None:
        for src in self._handles.values():
            src.close()
        self._handles = {}

    def get_sample(self, index: int) -> dict:
        from rasterio.crs import CRS
        from rasterio.windows import Window
        from rasterio.windows import transform as window_transform

        record = dict(self.samples[index])
        path, (row, col, h, w) = record['dem_path'], record['window']
        info = self.file_info[path]
        src = self._handle(path)
        window = Window(col, row, w, h)
        values = src.read(info['band'], window=window, out_dtype='float64')
        valid = valid_mask(values, info['nodata'], src.read_masks(info['band'], window=window))
        where = f'{path} window (row {row}, col {col}, {h} x {w}) of sample {index}'
        crs = CRS.from_user_input(info['crs'])
        record['elevation'] = chip_channels(values, valid, self.channels, crs,
                                            window_transform(window, src.transform), 0, where)
        record['location'] = np.array([record['center_lat'], record['center_lon']], np.float32)
        record['valid_fraction'] = float(valid.mean())
        record.pop('grid', None)
        return record

    # ------------------------------------------------------------------ statistics
    @property
    def metainfo(self) -> dict:
        return dict(channels=list(self.channels), units='metres (elevation), degrees (slope, '
                    'aspect)', files={p: dict(i) for p, i in self.file_info.items()},
                    dropped_chips=self.dropped_chips)

    def stats(self, max_chips: int = 256) -> dict:
        """Per-channel mean / std over (up to ``max_chips``, evenly spaced) chips of this split:
        for the data preprocessor's ``normalize`` of ``elevation``."""
        idx = np.unique(np.linspace(0, len(self) - 1, min(len(self), max_chips)).astype(int))
        total = np.zeros(len(self.channels))
        total_sq = np.zeros(len(self.channels))
        count = 0
        for i in idx:
            x = self.get_sample(int(i))['elevation'].astype(np.float64)
            total += x.sum(axis=(1, 2))
            total_sq += (x ** 2).sum(axis=(1, 2))
            count += x.shape[1] * x.shape[2]
        mean = total / count
        std = np.sqrt(np.maximum(total_sq / count - mean ** 2, 1e-12))
        return {'inputs': {'elevation': {'mean': mean.tolist(), 'std': std.tolist()}}}
