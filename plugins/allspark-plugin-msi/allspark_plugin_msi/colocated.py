"""``EuroSATCoLocatedDataset``: four real co-located modalities from each EuroSAT-MS GeoTIFF.

Each 13-band Sentinel-2 tile gives

* ``msi``: the 13 bands, float32 ``(13, H, W)``, reflectance x 1e4 (as ``EuroSATDataset``);
* ``rgb``: the true-colour composite B04-B03-B02, ``(3, H, W)`` float32 in ``[0, 1]``
  (reflectance x ``rgb_gain``, clipped: how a viewer shows the tile);
* ``location``: the tile centre reprojected from its UTM CRS to WGS 84, float32 ``(lat, lon)``
  degrees, **latitude first** (``allspark.geo.raster_center_latlon``);
* ``caption``: a sentence from the class name (``'A satellite image of a river.'``).

Every sample also carries ``coords = (lat, lon)`` and ``gt_label`` as ground truth (for scoring
geolocation and classification even where ``location`` is not an input).

Missing modalities: ``drop_prob={'rgb': 0.3}`` removes a modality from a sample with that
probability, drawn once per sample from ``(drop_seed, index)`` (the same tiles lack it in every
epoch: incomplete data, not augmentation; a sample always keeps at least one modality);
``modalities=[...]`` chooses which of the four are produced at all.  A sample without a modality
has no such input; ``allspark.collate`` then writes ``inputs['modality_mask']``.

Format: ``<data_root>/{train,test}/<Class>/<Class>_<id>.tif`` (EuroSAT-MS), plus the same layout
in each of ``extra_roots`` (e.g. ``../shared/data/eurosat_more``; its classes must be among the
main root's).  Splits: the folders' own ``train/`` / ``test/``.
Citation: Helber et al., "EuroSAT", IEEE JSTARS 12(7), 2019.
"""
from __future__ import annotations

import os
from typing import Optional, Sequence

import numpy as np

from allspark.datasets import DataError
from allspark.geo import raster_center_latlon
from allspark.registry import DATASETS, TRANSFORMS
from allspark_plugin_msi.dataset import EuroSATDataset, check_raster_header

COLOCATED_MODALITIES = ('msi', 'rgb', 'location', 'caption')
#: Readable names of the EuroSAT classes for the captions.
CLASS_PHRASES = {
    'AnnualCrop': 'annual crop fields', 'Forest': 'a forest',
    'HerbaceousVegetation': 'herbaceous vegetation', 'Highway': 'a highway',
    'Industrial': 'industrial buildings', 'Pasture': 'a pasture',
    'PermanentCrop': 'permanent crops', 'Residential': 'residential buildings',
    'River': 'a river', 'SeaLake': 'a sea or a lake'}


@DATASETS.register_module()
class EuroSATCoLocatedDataset(EuroSATDataset):
    """Args (besides ``EuroSATDataset``'s):
        modalities: which of ``msi``, ``rgb``, ``location``, ``caption`` to produce.
        extra_roots: more folders in the same layout (their files join each split).
        drop_prob: ``{modality: p}``: per-sample probability that the sample lacks it.
        drop_seed: seed of those draws.
        rgb_bands / rgb_gain: composite bands and the reflectance gain of the composite.
        caption_template: ``str.format`` template with ``{phrase}`` and ``{cls}``.
        cache: keep every tile read in memory (a EuroSAT tile is 213 KB as float32; the 270
            tiles of eurosat/ + eurosat_more/ take 58 MB) so later epochs skip the GeoTIFF reads.
    """

    MODALITIES = COLOCATED_MODALITIES
    optional_modalities = COLOCATED_MODALITIES

    def __init__(self, data_root: str = '', split: str = 'train', pipeline: Sequence = (),
                 modalities: Sequence[str] = COLOCATED_MODALITIES,
                 extra_roots: Sequence[str] = (), drop_prob: Optional[dict] = None,
                 drop_seed: int = 0, rgb_bands: Sequence[str] = ('B04', 'B03', 'B02'),
                 rgb_gain: float = 3.0e-4,
                 caption_template: str = 'A satellite image of {phrase}.', cache: bool = True,
                 **kwargs):
        unknown = [m for m in modalities if m not in COLOCATED_MODALITIES]
        if unknown or not modalities:
            raise ValueError(f'EuroSATCoLocatedDataset: modalities {list(modalities)} must be a '
                             f'non-empty subset of {COLOCATED_MODALITIES}')
        self.drop_prob = {m: float(p) for m, p in (drop_prob or {}).items()}
        bad = [m for m in self.drop_prob if m not in modalities]
        if bad:
            raise ValueError(f'EuroSATCoLocatedDataset: drop_prob names {bad}, not among the '
                             f'produced modalities {list(modalities)}')
        self.extra_roots, self.drop_seed = list(extra_roots), int(drop_seed)
        self.rgb_bands, self.rgb_gain = list(rgb_bands), float(rgb_gain)
        self.caption_template = caption_template
        self.cache, self._tiles = bool(cache), {}
        super().__init__(data_root=data_root, split=split, pipeline=pipeline,
                         modalities=list(modalities), **kwargs)
        self.rgb_index = [self.all_band_names.index(b) for b in self.rgb_bands]

    # ------------------------------------------------------------------ listing
    def load_samples(self) -> list[dict]:
        samples = super().load_samples()
        main = self.data_root
        try:
            for root in self.extra_roots:
                if not os.path.isdir(os.path.join(root, self.split)):
                    raise DataError(f'EuroSATCoLocatedDataset: extra root {root} has no '
                                    f'{self.split}/ folder')
                self.data_root = root
                _, files = self._list_split(self.split, self.classes)
                for path, label in files:
                    if self.check_files:
                        check_raster_header(path, self.num_bands, 'EuroSATCoLocatedDataset')
                    samples.append(dict(img_path=path, gt_label=label))
        finally:
            self.data_root = main
        return samples

    def kept_modalities(self, index: int) -> list[str]:
        """The modalities sample ``index`` has after ``drop_prob`` (deterministic)."""
        kept = list(self.modalities)
        if not self.drop_prob:
            return kept
        rng = np.random.default_rng((self.drop_seed, index))
        draws = rng.random(len(self.modalities))
        kept = [m for m, u in zip(self.modalities, draws) if u >= self.drop_prob.get(m, 0.0)]
        return kept or [self.modalities[int(rng.integers(len(self.modalities)))]]

    # ------------------------------------------------------------------ reading
    def caption(self, label: int) -> str:
        cls = self.classes[label]
        return self.caption_template.format(phrase=CLASS_PHRASES.get(cls, cls), cls=cls)

    def get_sample(self, index: int) -> dict:
        record = dict(self.samples[index])
        path = record['img_path']
        all_bands, meta = self._read_all(path)
        lat, lon = meta['center_lat'], meta['center_lon']
        if not (np.isfinite(lat) and np.isfinite(lon)):
            raise DataError(f'EuroSATCoLocatedDataset: {path} has no CRS, so its centre cannot '
                            f'be located (the location modality needs georeferenced tiles)')
        record.update(meta)
        record['coords'] = np.array([lat, lon], dtype=np.float32)
        record['class_name'] = self.classes[record['gt_label']]
        kept = self.kept_modalities(index)
        if 'msi' in kept:
            record['msi'] = all_bands[self.band_index]
        if 'rgb' in kept:
            record['rgb'] = np.clip(all_bands[self.rgb_index] * self.rgb_gain, 0.0, 1.0
                                    ).astype(np.float32)
        if 'location' in kept:
            record['location'] = record['coords'].copy()
        if 'caption' in kept:
            record['caption'] = self.caption(record['gt_label'])
        return record

    def _read_all(self, path: str) -> tuple[np.ndarray, dict]:
        if path in self._tiles:
            data, meta = self._tiles[path]
            return data.copy(), dict(meta)
        keep, self.band_index = self.band_index, list(range(self.num_bands))
        try:
            data, meta = self._read(path)
        finally:
            self.band_index = keep
        if meta['crs']:
            lat, lon = raster_center_latlon(meta['crs'], meta['transform'], data.shape[2],
                                            data.shape[1])
            meta['center_lat'], meta['center_lon'] = lat, lon
        if self.cache:
            self._tiles[path] = (data, dict(meta))
            data = data.copy()
        return data, meta

    # ------------------------------------------------------------------ statistics
    def stats(self) -> dict:
        """Training-split per-channel mean / std of ``msi`` and ``rgb`` (main + extra roots)."""
        if self._stats is None:
            source = self if self.split == 'train' else EuroSATCoLocatedDataset(
                self.data_root, 'train', modalities=self.modalities,
                extra_roots=self.extra_roots, num_bands=self.num_bands,
                bands=[self.all_band_names[i] for i in self.band_index],
                rgb_bands=self.rgb_bands, rgb_gain=self.rgb_gain)
            sums: dict = {}
            for rec in source.samples:
                bands, _ = source._read_all(rec['img_path'])
                arrays = dict(msi=bands[source.band_index],
                              rgb=np.clip(bands[source.rgb_index] * source.rgb_gain, 0, 1))
                for m, x in arrays.items():
                    x = x.reshape(x.shape[0], -1).astype(np.float64)
                    s = sums.setdefault(m, [0.0, 0.0, 0])
                    s[0] = s[0] + x.sum(1)
                    s[1] = s[1] + (x ** 2).sum(1)
                    s[2] += x.shape[1]
            inputs = {}
            for m, (total, total_sq, count) in sums.items():
                mean = total / count
                std = np.sqrt(np.maximum(total_sq / count - mean ** 2, 0.0))
                inputs[m] = dict(mean=mean.tolist(), std=std.tolist())
            self._stats = dict(inputs=inputs)
        return self._stats


@TRANSFORMS.register_module()
class CoLocatedFlipRotate:
    """The same random h/v flip and 90-degree rotation of every raster modality a sample has
    (``keys`` it lacks are skipped: co-located samples may miss some)."""

    def __init__(self, keys: Sequence[str] = ('msi', 'rgb'), prob: float = 0.5):
        self.keys, self.prob = list(keys), prob

    def __call__(self, sample: dict) -> dict:
        flips = [axis for axis in (-1, -2) if np.random.rand() < self.prob]
        turns = np.random.randint(4)
        for key in self.keys:
            if key in sample:
                x = sample[key]
                for axis in flips:
                    x = np.flip(x, axis=axis)
                sample[key] = np.ascontiguousarray(np.rot90(x, turns, axes=(-2, -1)))
        return sample
