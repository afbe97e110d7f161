"""``ClassificationMetric``: overall accuracy (OA), mean-class accuracy (AA), Cohen's kappa.

Also keeps the confusion matrix and, with ``confusion_png``, draws it."""
from __future__ import annotations

import os
import textwrap
from typing import Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from allspark.registry import METRICS


def confusion_matrix(gt: np.ndarray, pred: np.ndarray, num_classes: int) -> np.ndarray:
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (gt, pred), 1)
    return cm


def classification_scores(cm: np.ndarray) -> dict:
    """OA, AA (mean of per-class recall over classes present) and kappa from a confusion matrix."""
    total = cm.sum()
    oa = np.trace(cm) / max(total, 1)
    support = cm.sum(1)
    present = support > 0
    per_class = np.diag(cm)[present] / support[present]
    expected = (cm.sum(0) * cm.sum(1)).sum() / max(total, 1) ** 2
    kappa = (oa - expected) / (1 - expected) if expected < 1 else 0.0
    return dict(accuracy=100 * float(oa), mean_class_accuracy=100 * float(per_class.mean()),
                kappa=float(kappa))


def save_confusion_png(cm: np.ndarray, classes: Sequence[str], path: str, title: str = '') -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    n = len(cm)
    fig, ax = plt.subplots(figsize=(max(4, 0.45 * n + 2), max(4, 0.45 * n + 2)))
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    ax.imshow(norm, cmap='Blues', vmin=0, vmax=1)
    ax.set_xticks(range(n), classes, rotation=90, fontsize=7)
    ax.set_yticks(range(n), classes, fontsize=7)
    ax.set_xlabel('predicted')
    ax.set_ylabel('true')
    if n <= 20:
        for i in range(n):
            for j in range(n):
                if cm[i, j]:
                    ax.text(j, i, cm[i, j], ha='center', va='center', fontsize=6,
                            color='white' if norm[i, j] > 0.5 else 'black')
    # long titles (model, dataset, condition, seed) wrap to the figure instead of being cut off
    ax.set_title(textwrap.fill(title or 'confusion matrix (row-normalised colour, counts)',
                               width=int(9 * fig.get_figwidth())), fontsize=9)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


@METRICS.register_module()
class ClassificationMetric(BaseMetric):
    """Args:
        num_classes: number of classes (the confusion matrix's size).
        classes: class names for the picture (default: indices).
        confusion_png: where to draw the confusion matrix (optional).
        confusion_title: its title, e.g. the model and the data it ran on (default: a generic
            one).
    """

    default_prefix = ''

    def __init__(self, num_classes: int, classes: Optional[Sequence[str]] = None,
                 confusion_png: Optional[str] = None, confusion_title: str = '', **kwargs):
        super().__init__(**kwargs)
        self.num_classes, self.classes, self.confusion_png = num_classes, classes, confusion_png
        self.confusion_title = confusion_title

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            self.results.append((np.asarray(s['gt_label']).reshape(-1),
                                 np.asarray(s['pred_label']).reshape(-1)))

    def compute_metrics(self, results: list) -> dict:
        gt = np.concatenate([r[0] for r in results]).astype(np.int64)
        pred = np.concatenate([r[1] for r in results]).astype(np.int64)
        keep = gt >= 0
        cm = confusion_matrix(gt[keep], pred[keep], self.num_classes)
        if self.confusion_png:
            save_confusion_png(cm, self.classes or [str(i) for i in range(self.num_classes)],
                               self.confusion_png, title=self.confusion_title)
        return classification_scores(cm)
