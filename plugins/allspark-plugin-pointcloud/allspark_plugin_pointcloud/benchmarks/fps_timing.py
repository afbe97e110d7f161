"""Timing of ``farthest_point_sample`` backends (exact FPS) at 1k, 10k and 100k points.

    OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 python tools/benchmarks/fps_timing.py \
        --out work_dirs/fps_timing.json

For each case the clouds are random points in the unit cube (seeded); every backend's indices
are checked against the torch reference (same start point; compared as ascending index sets, the
form ``farthest_point_sample`` returns).  Prints a Markdown table (median of ``--repeats`` runs
after one warm-up) and writes JSON.  The GPU row runs only where CUDA is available.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), 'plugins', 'allspark-plugin-pointcloud'))
from allspark_plugin_pointcloud.fps import choose_backend, farthest_point_sample  # noqa: E402

# (label, batch, points, centres)
CASES = [('1k', 32, 1024, 64), ('1k (training batch)', 16, 1024, 32),
         ('10k', 8, 10_000, 512), ('100k', 1, 100_000, 4096)]


def timed(fn, repeats: int) -> tuple[float, object]:
    out = fn()  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--out', default='work_dirs/fps_timing.json')
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    rows = []
    for label, batch, n, s in CASES:
        clouds = rng.random((batch, n, 3), dtype=np.float32)
        t_cpu = torch.from_numpy(clouds)
        reps = args.repeats if n < 100_000 else max(1, args.repeats // 2)
        t_o3d, idx_o3d = timed(lambda: farthest_point_sample(clouds, s, backend='open3d'), reps)
        t_torch, idx_torch = timed(lambda: farthest_point_sample(t_cpu, s, backend='torch'), reps)
        row = dict(case=label, batch=batch, points=n, centres=s, open3d_cpu_s=t_o3d,
                   torch_cpu_s=t_torch, same_indices=bool(np.array_equal(idx_o3d,
                                                                         idx_torch.numpy())),
                   auto_backend_cpu=choose_backend('cpu'))
        if torch.cuda.is_available():
            t_gpu = t_cpu.cuda()

            def gpu():
                out = farthest_point_sample(t_gpu, s, backend='torch')
                torch.cuda.synchronize()
                return out
            row['torch_gpu_s'], idx_gpu = timed(gpu, reps)
            row['same_indices_gpu'] = bool(np.array_equal(idx_o3d, idx_gpu.cpu().numpy()))
        rows.append(row)
        print(json.dumps(row), flush=True)
    print('\n| clouds x points -> centres | Open3D (CPU, C++) | torch loop (CPU) | speed-up | '
          'same indices |')
    print('|---|---|---|---|---|')
    for r in rows:
        print(f"| {r['case']}: {r['batch']} x {r['points']:,} -> {r['centres']:,} | "
              f"{1000 * r['open3d_cpu_s']:.1f} ms | {1000 * r['torch_cpu_s']:.1f} ms | "
              f"{r['torch_cpu_s'] / r['open3d_cpu_s']:.1f}x | {'yes' if r['same_indices'] else 'NO'} |")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(dict(rows=rows, machine=f'{os.cpu_count()}-core CPU, load average {os.getloadavg()[0]:.1f} at start', threads=1,
                       platform=platform.platform(), cuda=torch.cuda.is_available(),
                       time=time.strftime('%Y-%m-%d %H:%M:%S')), f, indent=2)


if __name__ == '__main__':
    main()
