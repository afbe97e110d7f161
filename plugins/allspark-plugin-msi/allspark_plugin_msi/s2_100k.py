"""``SatCLIPS2Dataset``: SatCLIP's S2-100K patches (12-band Sentinel-2 L2A GeoTIFF + lat/lon).

Format: ``<data_root>/index.csv`` with columns ``lat, lon, fn`` (``url`` ignored) and the GeoTIFFs
in ``<data_root>/images/<fn>`` (12 bands, 256 x 256, uint16, UTM CRS, band order of S2-100K:
B01 B02 B03 B04 B05 B06 B07 B08 B8A B09 B11 B12; B10 is absent from L2A).
Split: none (``split`` is ignored: the 20 example patches are an evaluation set).
Citation: Klemmer et al., "SatCLIP: Global, General-Purpose Location Embeddings with Satellite
Imagery", AAAI 2025.

Sample: ``msi`` float32 ``(C, H', W')``, ``rgb`` (B04-B03-B02 composite, as
``EuroSATCoLocatedDataset``), ``location`` / ``coords`` = the index's ``(lat, lon)`` (latitude
first), ``img_path``, ``center_lat/lon`` = the raster centre reprojected with ``allspark.geo``
(checked against the index: ``max_center_offset_km``).

``eurosat_layout=True`` (default) makes the patches fit a model trained on EuroSAT-MS: the bands
are put in EuroSAT's 13-band order (B8A last) with **B10 filled with zeros** (a cirrus band L2A
does not keep), and the patch is block-averaged by ``downsample`` (256 -> 64 at 4: EuroSAT's
64 x 64 px, 40 m instead of 10 m pixels).  L2A is surface reflectance, EuroSAT L1C top of
atmosphere: the same bands, not the same values.
"""
from __future__ import annotations

import csv
import os
from typing import Sequence

import numpy as np

from allspark.datasets import BaseDataset, DataError
from allspark.geo import haversine_km, raster_center_latlon
from allspark.registry import DATASETS
from allspark_plugin_msi.dataset import SENTINEL2_BANDS, fill_invalid

S2_100K_BANDS = ('B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B8A', 'B09', 'B11',
                 'B12')


@DATASETS.register_module()
class SatCLIPS2Dataset(BaseDataset):
    """Args:
        modalities: among ``msi``, ``rgb``, ``location``.
        eurosat_layout / downsample: see the module docstring.
        max_center_offset_km: an index row whose (lat, lon) is farther than this from its
            raster's centre is a ``DataError`` (swapped or wrong coordinates).
    """

    MODALITIES = ('msi', 'location')

    def __init__(self, data_root: str = '', split: str = 'test', pipeline: Sequence = (),
                 modalities: Sequence[str] = ('msi', 'location'), eurosat_layout: bool = True,
                 downsample: int = 4, rgb_gain: float = 3.0e-4,
                 max_center_offset_km: float = 5.0, **kwargs):
        self.eurosat_layout, self.downsample = eurosat_layout, int(downsample)
        self.rgb_gain, self.max_center_offset_km = float(rgb_gain), float(max_center_offset_km)
        super().__init__(data_root=data_root, split=split, pipeline=pipeline,
                         modalities=list(modalities), **kwargs)

    def load_samples(self) -> list[dict]:
        index = os.path.join(self.data_root, 'index.csv')
        if not os.path.isfile(index):
            raise DataError(f'SatCLIPS2Dataset: {index} not found (expected index.csv with '
                            f'columns lat, lon, fn and the GeoTIFFs in images/)')
        samples = []
        with open(index, newline='') as f:
            reader = csv.DictReader(f)
            missing = [c for c in ('lat', 'lon', 'fn') if c not in (reader.fieldnames or [])]
            if missing:
                raise DataError(f'SatCLIPS2Dataset: {index} lacks columns {missing} (has '
                                f'{reader.fieldnames})')
            for line, row in enumerate(reader, start=2):
                try:
                    lat, lon = float(row['lat']), float(row['lon'])
                except ValueError:
                    raise DataError(f'SatCLIPS2Dataset: {index} line {line}: lat/lon '
                                    f'{row["lat"]!r}, {row["lon"]!r} are not numbers') from None
                if not (np.isfinite(lat) and np.isfinite(lon) and abs(lat) <= 90
                        and abs(lon) <= 180):
                    raise DataError(f'SatCLIPS2Dataset: {index} line {line}: (lat, lon) = '
                                    f'({lat}, {lon}) is not a valid coordinate in degrees')
                path = os.path.join(self.data_root, 'images', row['fn'])
                if not os.path.isfile(path):
                    raise DataError(f'SatCLIPS2Dataset: {index} line {line} names {path}, '
                                    f'which does not exist')
                samples.append(dict(img_path=path, coords=np.array([lat, lon], np.float32),
                                    index_line=line))
        if not samples:
            raise DataError(f'SatCLIPS2Dataset: {index} lists no patches')
        return samples

    def _read(self, path: str) -> tuple[np.ndarray, dict]:
        import rasterio
        try:
            with rasterio.open(path) as src:
                if src.count != len(S2_100K_BANDS):
                    raise DataError(f'SatCLIPS2Dataset: {path} has {src.count} bands, expected '
                                    f'{len(S2_100K_BANDS)} ({", ".join(S2_100K_BANDS)})')
                data = src.read(out_dtype='float32')
                crs, transform, nodata = src.crs, src.transform, src.nodata
        except DataError:
            raise
        except Exception as exc:
            raise DataError(f'SatCLIPS2Dataset: cannot read {path} as a GeoTIFF '
                            f'({type(exc).__name__}: {exc})') from None
        if crs is None:
            raise DataError(f'SatCLIPS2Dataset: {path} has no CRS')
        data, _ = fill_invalid(data, nodata, path, S2_100K_BANDS, 'SatCLIPS2Dataset')
        lat, lon = raster_center_latlon(crs, transform, data.shape[2], data.shape[1])
        return data, dict(center_lat=lat, center_lon=lon, crs=crs.to_string())

    def to_eurosat_bands(self, data: np.ndarray) -> np.ndarray:
        """``(12, H, W)`` S2-100K order -> ``(13, H, W)`` EuroSAT order, B10 = 0."""
        out = np.zeros((len(SENTINEL2_BANDS),) + data.shape[1:], np.float32)
        for i, band in enumerate(S2_100K_BANDS):
            out[SENTINEL2_BANDS.index(band)] = data[i]
        return out

    def get_sample(self, index: int) -> dict:
        record = dict(self.samples[index])
        data, meta = self._read(record['img_path'])
        record.update(meta)
        offset = float(haversine_km(record['coords'][0], record['coords'][1], meta['center_lat'],
                                    meta['center_lon']))
        if offset > self.max_center_offset_km:
            raise DataError(f'SatCLIPS2Dataset: index.csv line {record["index_line"]}: (lat, '
                            f'lon) {tuple(record["coords"])} is {offset:.1f} km from the centre '
                            f'of {record["img_path"]} ({meta["center_lat"]:.4f}, '
                            f'{meta["center_lon"]:.4f}); swapped or wrong coordinates?')
        k = self.downsample
        if k > 1:
            c, h, w = data.shape
            data = data[:, :h - h % k, :w - w % k].reshape(c, h // k, k, w // k, k).mean((2, 4))
        rgb_idx = [S2_100K_BANDS.index(b) for b in ('B04', 'B03', 'B02')]
        if 'rgb' in self.modalities:
            record['rgb'] = np.clip(data[rgb_idx] * self.rgb_gain, 0, 1).astype(np.float32)
        if 'msi' in self.modalities:
            record['msi'] = (self.to_eurosat_bands(data) if self.eurosat_layout
                             else data.astype(np.float32))
        if 'location' in self.modalities:
            record['location'] = record['coords'].copy()
        return record
