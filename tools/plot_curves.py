"""Plot training curves (losses, learning rate, validation metrics) from a work dir as a PNG.

    python tools/plot_curves.py WORK_DIR [--out curves.png] [--keys loss accuracy ...]

Reads mmengine's ``<work_dir>/<timestamp>/vis_data/scalars.json`` (every run in the work dir,
in order, so a resumed run continues its curve).
"""
import argparse
import glob
import json
import os
from collections import defaultdict

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402

SKIP = {'step', 'epoch', 'iter', 'time', 'data_time', 'memory', 'eta'}


def load_scalars(work_dir: str):
    files = sorted(glob.glob(os.path.join(work_dir, '*', 'vis_data', 'scalars.json')))
    if not files:
        raise SystemExit(f'no */vis_data/scalars.json under {work_dir}: is it a work dir?')
    train, val = defaultdict(list), defaultdict(list)
    for path in files:
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                step = rec.get('step')
                is_train = 'lr' in rec or any(k.startswith('loss') for k in rec)
                for key, value in rec.items():
                    if key in SKIP or not isinstance(value, (int, float)):
                        continue
                    (train if is_train else val)[key].append((step, value))
    return train, val


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dir')
    parser.add_argument('--out', help='PNG path (default: WORK_DIR/curves.png)')
    parser.add_argument('--keys', nargs='*', help='only these scalars')
    args = parser.parse_args()
    train, val = load_scalars(args.work_dir)
    series = [('train', k, v) for k, v in train.items()] + [('val', k, v) for k, v in val.items()]
    if args.keys:
        series = [s for s in series if s[1] in args.keys]
    if not series:
        raise SystemExit('nothing to plot')
    cols = min(3, len(series))
    rows = (len(series) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.2 * rows), squeeze=False)
    for ax, (split, key, points) in zip(axes.flat, series):
        xs, ys = zip(*points)
        ax.plot(xs, ys, marker='o' if split == 'val' else None, ms=3, lw=1)
        ax.set_title(f'{split}: {key}', fontsize=9)
        ax.set_xlabel('epoch' if split == 'val' else 'iteration', fontsize=8)
        ax.grid(alpha=0.3)
        if key.startswith('loss') and min(ys) > 0:
            ax.set_yscale('log')
    for ax in list(axes.flat)[len(series):]:
        ax.axis('off')
    fig.suptitle(os.path.basename(os.path.abspath(args.work_dir)))
    fig.tight_layout()
    out = args.out or os.path.join(args.work_dir, 'curves.png')
    fig.savefig(out, dpi=110)
    print(f'wrote {out}: ' + ', '.join(f'{s}:{k}' for s, k, _ in series))


if __name__ == '__main__':
    main()
