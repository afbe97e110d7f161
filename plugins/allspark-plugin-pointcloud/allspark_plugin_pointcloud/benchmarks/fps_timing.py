"""Timing of the farthest_point_sample backends (exact FPS) at 1k, 10k and 100k points.

    allspark benchmark fps_timing [--repeats 5] [--out work_dirs/benchmarks/fps_timing]

For each case the clouds are random points in the unit cube (seeded); every backend's indices
are checked against the torch reference (same start point; compared as ascending index sets,
the form ``farthest_point_sample`` returns).  Prints a Markdown table (median of ``--repeats``
runs after one warm-up) and writes ``fps_timing.json`` (with the machine and the command).  The
GPU row runs only where CUDA is available.  ``--smoke``: small clouds only.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Callable, Optional, Sequence

import numpy as np

from allspark.benchmarking import machine_info, set_threads, write_json

# (label, batch, points, centres)
CASES = [('1k', 32, 1024, 64), ('1k (training batch)', 16, 1024, 32),
         ('10k', 8, 10_000, 512), ('100k', 1, 100_000, 4096)]
SMOKE_CASES = [('256', 2, 256, 16)]


def timed(fn: Callable, repeats: int) -> tuple[float, object]:
    """Median wall time of ``repeats`` calls after one warm-up, and the last output."""
    out = fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='allspark benchmark fps_timing',
                                     description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--out', default='work_dirs/benchmarks/fps_timing')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--smoke', action='store_true', help='one small case, one repeat')
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    set_threads(args.threads)
    import torch

    from allspark_plugin_pointcloud.fps import choose_backend, farthest_point_sample

    rng = np.random.default_rng(0)
    repeats = 1 if args.smoke else args.repeats
    rows = []
    for label, batch, n, s in SMOKE_CASES if args.smoke else CASES:
        clouds = rng.random((batch, n, 3), dtype=np.float32)
        t_cpu = torch.from_numpy(clouds)
        reps = repeats if n < 100_000 else max(1, repeats // 2)
        t_o3d, idx_o3d = timed(lambda: farthest_point_sample(clouds, s, backend='open3d'), reps)
        t_torch, idx_torch = timed(lambda: farthest_point_sample(t_cpu, s, backend='torch'), reps)
        row = dict(case=label, batch=batch, points=n, centres=s, open3d_cpu_s=t_o3d,
                   torch_cpu_s=t_torch,
                   same_indices=bool(np.array_equal(idx_o3d, idx_torch.numpy())),
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
        print(row, flush=True)
    print('\n| clouds x points -> centres | Open3D (CPU, C++) | torch loop (CPU) | speed-up | '
          'same indices |')
    print('|---|---|---|---|---|')
    for r in rows:
        print(f"| {r['case']}: {r['batch']} x {r['points']:,} -> {r['centres']:,} | "
              f"{1000 * r['open3d_cpu_s']:.1f} ms | {1000 * r['torch_cpu_s']:.1f} ms | "
              f"{r['torch_cpu_s'] / r['open3d_cpu_s']:.1f}x | "
              f"{'yes' if r['same_indices'] else 'NO'} |")
    path = write_json(os.path.join(args.out, 'fps_timing.json'), dict(
        benchmark='fps_timing', rows=rows, repeats=repeats, smoke=args.smoke,
        machine=machine_info(args.threads), time=time.strftime('%Y-%m-%d %H:%M:%S %Z'),
        command='allspark benchmark fps_timing ' + ' '.join(
            sys.argv[1:] if argv is None else argv)))
    print(f'written {path}')
    return 0 if all(r['same_indices'] for r in rows) else 1


if __name__ == '__main__':
    raise SystemExit(main())
