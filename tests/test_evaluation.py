"""Metrics against hand-computed values."""
import numpy as np
import pytest
import torch

from allspark.evaluation.classification import (
    ClassificationMetric,
    classification_scores,
    confusion_matrix,
)
from allspark.evaluation.regression import regression_scores
from allspark.evaluation.retrieval import retrieval_scores


def test_classification_scores_by_hand():
    gt = np.array([0, 0, 0, 0, 1, 1])
    pred = np.array([0, 0, 0, 1, 1, 0])
    s = classification_scores(confusion_matrix(gt, pred, 2))
    assert s['accuracy'] == pytest.approx(100 * 4 / 6)
    assert s['mean_class_accuracy'] == pytest.approx(100 * (3 / 4 + 1 / 2) / 2)
    po, pe = 4 / 6, (4 * 4 + 2 * 2) / 36  # row totals (4, 2), column totals (4, 2)
    assert s['kappa'] == pytest.approx((po - pe) / (1 - pe))


def test_classification_metric_writes_confusion_png(tmp_path):
    png = tmp_path / 'cm.png'
    metric = ClassificationMetric(num_classes=3, classes=['a', 'b', 'c'], confusion_png=str(png))
    metric.process(None, [dict(gt_label=i % 3, pred_label=(i + (i == 4)) % 3) for i in range(9)])
    out = metric.compute_metrics(metric.results)
    assert out['accuracy'] == pytest.approx(100 * 8 / 9)
    assert png.stat().st_size > 1000


def test_regression_scores():
    gt = np.array([1.0, 2.0, 3.0, 4.0])
    pred = np.array([1.0, 2.0, 3.0, 6.0])
    s = regression_scores(pred, gt)
    assert s['rmse'] == pytest.approx(1.0)
    assert s['mae'] == pytest.approx(0.5)
    assert s['r2'] == pytest.approx(1 - 4 / 5)
    assert s['mape'] == pytest.approx(100 * 0.5 / 4)


def test_retrieval_mrr():
    key = torch.eye(4)
    query = torch.tensor([[1.0, 0, 0, 0], [0.9, 0.1, 0, 0], [0, 0, 1, 0], [0, 0, 0.2, 0.1]])
    s = retrieval_scores(query, key, num_distractors=0)
    # ranks: 1, 2, 1, 2
    assert s['mrr'] == pytest.approx((1 + 0.5 + 1 + 0.5) / 4)
    assert s['recall@1'] == pytest.approx(0.5)
    s = retrieval_scores(query, key, num_distractors=2, seed=0)
    # queries 0 and 2 rank first against any keys; 1 and 3 rank second exactly when their one
    # stronger key (0, resp. 2) is among their 2 distractors, first otherwise
    assert min(abs(s['mrr_1v2'] - v) for v in (0.75, 0.875, 1.0)) < 1e-6, s


def test_wilson_interval_and_baseline_training():
    from allspark.benchmarking import predict_classifier, train_classifier
    from allspark.evaluation.statistics import wilson_interval

    lo, hi = wilson_interval(26, 40)
    assert lo == pytest.approx(49.51, abs=0.01) and hi == pytest.approx(77.87, abs=0.01)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = torch.nn.Linear(2, 2)
    info = train_classifier(model, (x, y), epochs=20, batch_size=16, lr=0.1, log=None)
    out = predict_classifier(model, (x, y))
    assert info['train_time_s'] > 0 and out['samples_per_s'] > 0
    assert (out['pred'] == y).mean() > 0.9


def test_confusion_png_carries_the_given_title(tmp_path, monkeypatch):
    """Benchmarks title the picture with the model and the data it ran on (issue 17)."""
    import matplotlib.axes
    titles = []
    original = matplotlib.axes.Axes.set_title
    monkeypatch.setattr(matplotlib.axes.Axes, 'set_title',
                        lambda self, label, *a, **k: titles.append(label) or original(
                            self, label, *a, **k))
    title = 'AllSpark, MSTAR 45 deg depression, new scene, seed 2'
    metric = ClassificationMetric(num_classes=2, confusion_png=str(tmp_path / 'cm.png'),
                                  confusion_title=title)
    metric.process(None, [dict(gt_label=0, pred_label=0), dict(gt_label=1, pred_label=0)])
    metric.compute_metrics(metric.results)
    assert titles and titles[-1].replace('\n', ' ') == title
