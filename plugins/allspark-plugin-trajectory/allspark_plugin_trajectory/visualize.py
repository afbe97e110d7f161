"""Plot observed, true and predicted tracks in world coordinates (metres)."""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np


def to_world(local: np.ndarray, rot: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """``world = local @ inv(rot) + origin`` for ``(..., 2)`` arrays (``inv(rot) = rot.T`` for
    rotations and flips)."""
    return local @ np.linalg.inv(np.asarray(rot, dtype=np.float64)) + np.asarray(origin)


def plot_tracks(path: str, items: Sequence[dict], title: str = '',
                baseline_name: Optional[str] = None) -> str:
    """``items``: dicts with ``obs (T,2)``, ``gt (H,2)``, ``pred (K,H,2)``, ``rot``, ``origin``
    and optionally ``k1 (H,2)`` (a K = 1 model) and ``baseline (H,2)``, all in the local frame;
    the hypothesis closest to the truth is drawn bold, the others thin."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    n = len(items)
    cols = min(3, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 4 * rows), squeeze=False)
    for ax, it in zip(axes.flat, items):
        w = lambda a: to_world(np.asarray(a), it['rot'], it['origin'])  # noqa: E731
        obs, gt, pred = w(it['obs']), w(it['gt']), w(it['pred'])
        best = int(np.linalg.norm(pred - gt[None], axis=-1).mean(-1).argmin())
        for k in range(len(pred)):
            if k != best:
                ax.plot(pred[k, :, 0], pred[k, :, 1], color='tab:orange', lw=0.6, alpha=0.5)
        ax.plot(pred[best, :, 0], pred[best, :, 1], color='tab:red', lw=2, marker='.',
                label=f'best of {len(pred)} (others thin)' if len(pred) > 1 else 'predicted')
        if it.get('k1') is not None:
            k1 = w(it['k1'])
            ax.plot(k1[:, 0], k1[:, 1], color='tab:purple', lw=1.5, marker='.', label='K = 1')
        if it.get('baseline') is not None:
            bl = w(it['baseline'])
            ax.plot(bl[:, 0], bl[:, 1], color='tab:gray', ls='--', lw=1,
                    label=baseline_name or 'baseline')
        ax.plot(obs[:, 0], obs[:, 1], color='tab:blue', lw=2, marker='o', ms=3, label='observed')
        ax.plot(np.r_[obs[-1:, 0], gt[:, 0]], np.r_[obs[-1:, 1], gt[:, 1]], color='tab:green',
                lw=2, marker='o', ms=3, label='true future')
        ax.set_title(it.get('title', ''), fontsize=9)
        ax.set_aspect('equal', 'datalim')
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.axis('off')
    axes.flat[0].legend(fontsize=7, loc='best')
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
