"""``HSIMapMetric``: OA / AA / kappa (the core ``ClassificationMetric``) plus the predicted
classification map drawn next to the ground truth.

The picture (``map_png``) has three panels: the ground truth (all labelled pixels), the
prediction on the evaluated pixels (training pixels shown in their true class, dimmed) and the
errors.  It needs the dataset's ``image_shape`` / ``gt_map`` / ``train_mask`` metainfo and the
samples' ``pixel`` field (``HSIPixelDataset`` provides both).
"""
from __future__ import annotations

import os
from typing import Optional, Sequence

import numpy as np

from allspark.evaluation.classification import ClassificationMetric
from allspark.registry import METRICS


def save_classification_map(gt_map: np.ndarray, pred_map: np.ndarray, train_mask: np.ndarray,
                            classes: Sequence[str], path: str, title: str = '') -> None:
    """Ground truth | prediction | errors; maps hold class ids, -1 = no label / no prediction."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    k = len(classes)
    base = plt.get_cmap('tab10' if k <= 10 else 'tab20')
    colours = np.array([base(i % base.N) for i in range(k)])
    cmap = ListedColormap(colours)

    def rgb(m: np.ndarray, dim: Optional[np.ndarray] = None) -> np.ndarray:
        img = np.ones(m.shape + (3,))
        ok = m >= 0
        img[ok] = colours[m[ok], :3]
        if dim is not None:
            img[dim & ok] = 0.55 * img[dim & ok] + 0.45
        return img

    shown = np.where(pred_map >= 0, pred_map, np.where(train_mask, gt_map, -1))
    errors = np.ones(gt_map.shape + (3,))
    evaluated = pred_map >= 0
    errors[evaluated] = (0.85, 0.85, 0.85)
    errors[evaluated & (pred_map != gt_map)] = (0.85, 0.1, 0.1)
    n_err = int((evaluated & (pred_map != gt_map)).sum())
    fig, axes = plt.subplots(1, 3, figsize=(11, 4.2))
    for ax, img, name in zip(axes, [rgb(gt_map), rgb(shown, train_mask & ~evaluated), errors],
                             ['ground truth', 'prediction (train pixels dimmed)',
                              f'errors: {n_err} of {int(evaluated.sum())}']):
        ax.imshow(img, interpolation='nearest')
        ax.set_title(name, fontsize=9)
        ax.axis('off')
    handles = [plt.Rectangle((0, 0), 1, 1, color=cmap(i)) for i in range(k)]
    fig.legend(handles, classes, loc='lower center', ncol=min(k, 4), fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0, 0.1, 1, 0.95))
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


@METRICS.register_module()
class HSIMapMetric(ClassificationMetric):
    """Args:
        num_classes / classes / confusion_png: as ``ClassificationMetric``.
        map_png: where to write the classification map (optional).
        map_title: title of the picture.
    """

    def __init__(self, num_classes: int, map_png: Optional[str] = None, map_title: str = '',
                 **kwargs):
        super().__init__(num_classes, **kwargs)
        self.map_png, self.map_title = map_png, map_title
        self._pixels: list = []

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        super().process(data_batch, data_samples)
        if self.map_png:
            for s in data_samples:
                self._pixels.append((np.asarray(s['pixel']).reshape(2),
                                     int(np.asarray(s['pred_label']).reshape(-1)[0])))

    def compute_metrics(self, results: list) -> dict:
        metrics = super().compute_metrics(results)
        meta = self.dataset_meta or {}
        if self.map_png and 'gt_map' in meta and self._pixels:
            gt_map = np.asarray(meta['gt_map'])
            pred_map = np.full(gt_map.shape, -1, dtype=np.int64)
            for (r, c), p in self._pixels:
                pred_map[r, c] = p
            classes = self.classes or meta.get('classes') or [str(i) for i in
                                                              range(self.num_classes)]
            title = self.map_title or (f'OA {metrics["accuracy"]:.2f}%  AA '
                                       f'{metrics["mean_class_accuracy"]:.2f}%  kappa '
                                       f'{metrics["kappa"]:.4f}')
            save_classification_map(gt_map, pred_map, np.asarray(meta['train_mask']), classes,
                                    self.map_png, title)
        self._pixels = []
        return metrics
