"""Eager attention against PyTorch's SDPA at one attention call's shapes, both dtypes.

    OMP_NUM_THREADS=1 python tools/attention_kernels.py [--heads 12 --head-dim 32]

The measurement behind ``allspark.engine.precision.attention_implementation`` (and its
``EAGER_MAX_SCORES``): for each (tokens, batch) it times forward+backward and forward only,
SDPA and eager (``softmax(q k^T / sqrt(d) + mask) v``) in bfloat16, and SDPA in float32, two
warm-up calls then the median of ``--reps``.  Prints one line per shape.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F


def eager(q, k, v, mask):
    scores = (q @ k.transpose(-1, -2)) * q.shape[-1] ** -0.5 + mask
    return scores.softmax(-1) @ v


def sdpa(q, k, v, mask):
    return F.scaled_dot_product_attention(q, k, v, attn_mask=mask)


def time_ms(fn, tokens: int, batch: int, heads: int, head_dim: int, backward: bool,
            dtype: torch.dtype, reps: int) -> float:
    q, k, v = (torch.randn(batch, heads, tokens, head_dim, dtype=dtype,
                           requires_grad=backward) for _ in range(3))
    mask = torch.zeros(batch, 1, 1, tokens, dtype=dtype)

    def run():
        if backward:
            fn(q, k, v, mask).float().sum().backward()
        else:
            with torch.no_grad():
                fn(q, k, v, mask)
    for _ in range(2):
        run()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--heads', type=int, default=12)
    p.add_argument('--head-dim', type=int, default=32)
    p.add_argument('--reps', type=int, default=7)
    p.add_argument('--shapes', default='21x32,64x32,128x16,192x8,256x16,320x8,384x8,448x8,512x16',
                   help='tokens x batch, comma separated')
    args = p.parse_args()
    for shape in args.shapes.split(','):
        tokens, batch = (int(v) for v in shape.split('x'))
        for backward in (True, False):
            t = {name: time_ms(fn, tokens, batch, args.heads, args.head_dim, backward, dtype,
                               args.reps)
                 for name, fn, dtype in (('bf16 sdpa', sdpa, torch.bfloat16),
                                         ('bf16 eager', eager, torch.bfloat16),
                                         ('fp32 sdpa', sdpa, torch.float32))}
            print(f"tokens {tokens:4d} batch {batch:3d} {'fwd+bwd' if backward else 'forward'}: "
                  + '  '.join(f'{k} {v:8.2f} ms' for k, v in t.items())
                  + f"  eager/sdpa (bf16) {t['bf16 eager'] / t['bf16 sdpa']:.2f}", flush=True)


if __name__ == '__main__':
    main()
