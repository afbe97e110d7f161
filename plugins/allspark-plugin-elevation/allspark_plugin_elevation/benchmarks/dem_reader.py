r"""DEM reader report: every GeoTIFF under a folder read as co-located (elevation, location) chips.

For each file: CRS, size, internal block shape, pixel size in metres (at the file's centre
latitude for a geographic CRS), chips and their grid step, valid (non-nodata) fraction, height
range, slope statistics (degrees, computed from the pixel size in metres), the range of the chip
centres (lat, lon) against the file's bounds, and the read time per chip (windowed reads through
the dataset's per-process handle, terrain channels included)::

    allspark benchmark dem_reader --data-root ../shared/data/dem --chip-size 64 \\
        --output work_dirs/dem_reader.json
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Optional, Sequence

import numpy as np

from allspark.benchmarking import write_json


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog='allspark benchmark dem_reader',
                                     description=__doc__.splitlines()[0])
    parser.add_argument('--data-root', default='../shared/data/dem')
    parser.add_argument('--chip-size', type=int, default=64)
    parser.add_argument('--output', default='work_dirs/dem_reader/report.json')
    args = parser.parse_args(argv)

    import rasterio
    from rasterio.warp import transform_bounds

    from allspark.geo import pixel_size_metres
    from allspark_plugin_elevation.dataset import DEMChipDataset

    channels = ['elevation', 'mask', 'slope', 'aspect_sin', 'aspect_cos', 'hillshade']
    report = dict(command='allspark benchmark dem_reader ' + ' '.join(
        argv if argv is not None else sys.argv[1:]), chip_size=args.chip_size, files={})
    probe = DEMChipDataset(data_root=args.data_root, split='all', chip_size=args.chip_size,
                           channels=channels)
    for path in sorted(probe.file_info):
        ds = DEMChipDataset(data_root=path, split='all', chip_size=args.chip_size,
                            channels=channels)
        info = ds.file_info[path]
        with rasterio.open(path) as src:
            west, south, east, north = transform_bounds(src.crs, 'EPSG:4326', *src.bounds)
            centre_lat = (south + north) / 2
            dx, dy = pixel_size_metres(src.crs, src.transform, centre_lat)
        t0 = time.perf_counter()
        samples = [ds[i] for i in range(len(ds))]
        per_chip = (time.perf_counter() - t0) / len(ds)
        x = np.stack([s['inputs']['elevation'] for s in samples])
        loc = np.stack([s['inputs']['location'] for s in samples])
        valid = x[:, 1] > 0.5
        slope = x[:, 2][valid]
        inside = bool(np.all((loc[:, 0] > south) & (loc[:, 0] < north) & (loc[:, 1] > west)
                             & (loc[:, 1] < east)))
        name = os.path.relpath(path, args.data_root)
        report['files'][name] = dict(
            crs=info['crs'], size=[info['height'], info['width']],
            block_shape=list(info['block_shape']), grid_step=list(info['steps']),
            pixel_size_m=[round(dx, 2), round(dy, 2)], chips=len(ds),
            valid_fraction=float(valid.mean()), nodata=info['nodata'],
            elevation_m=[float(x[:, 0][valid].min()), float(x[:, 0][valid].max())],
            slope_deg_mean=float(slope.mean()), slope_deg_p95=float(np.percentile(slope, 95)),
            centre_lat=[float(loc[:, 0].min()), float(loc[:, 0].max())],
            centre_lon=[float(loc[:, 1].min()), float(loc[:, 1].max())],
            bounds_wgs84=[west, south, east, north], centres_inside_bounds=inside,
            read_ms_per_chip=round(per_chip * 1000, 2))
        r = report['files'][name]
        print(f'{name}: {r["crs"]} {r["size"]} px {r["pixel_size_m"]} m, block '
              f'{r["block_shape"]}, {r["chips"]} chips, valid {r["valid_fraction"]:.3f}, '
              f'heights {r["elevation_m"]} m, slope mean {r["slope_deg_mean"]:.1f} deg '
              f'(p95 {r["slope_deg_p95"]:.1f}), centres inside bounds: {inside}, '
              f'{r["read_ms_per_chip"]} ms/chip')
    print(f'wrote {write_json(args.output, report)}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
