"""The benchmark harness: intervals, aggregation over seeds, the report's verdict on the mean,
schedule scaling, and the one baseline-training loop (arrays, datasets, time budget)."""
import json
import math

import numpy as np
import pytest
import torch
from mmengine.config import Config

from allspark.benchmarking import (
    BenchmarkReport,
    aggregate,
    grid_candidates,
    mean_ci,
    parse_grid,
    predict_classifier,
    select_on_validation,
    set_run_length,
    train_classifier,
    wilson_ci,
)


def test_intervals():
    lo, hi = wilson_ci(26, 40)
    assert lo == pytest.approx(49.51, abs=0.01) and hi == pytest.approx(77.87, abs=0.01)
    t = mean_ci([1.0, 2.0, 3.0])
    # t(0.975, 2) = 4.303; std = 1; half width = 4.303 / sqrt(3)
    assert t['mean'] == 2.0 and t['std'] == pytest.approx(1.0)
    assert t['ci95'] == pytest.approx([2 - 2.4843, 2 + 2.4843], abs=1e-3)
    b = mean_ci([1.0, 2.0, 3.0, 4.0], method='bootstrap')
    assert 1.0 <= b['ci95'][0] < 2.5 < b['ci95'][1] <= 4.0
    one = mean_ci([5.0])
    assert one['mean'] == 5.0 and math.isnan(one['std']) and math.isnan(one['ci95'][0])
    with pytest.raises(ValueError, match='method'):
        mean_ci([1, 2], method='magic')


def test_aggregate_keeps_numeric_metrics_only():
    agg = aggregate([dict(acc=90.0, n=10, name='a', ok=True), dict(acc=80.0, n=10, name='b',
                                                                    ok=False)])
    assert set(agg) == {'acc', 'n'} and agg['acc']['mean'] == 85.0 and agg['acc']['n'] == 2


def test_report_verdict_holds_on_the_mean_not_the_best_seed(tmp_path):
    report = BenchmarkReport('demo', dataset='demo data', data_root=str(tmp_path),
                             split_kind='fold', seeds=[0, 1, 2], argv=['--seeds', '0', '1', '2'],
                             primary_metric='ade', higher_is_better=False,
                             selection=dict(allspark='fixed', baselines='none'))
    for fold, ours in (('a', [0.40, 0.41, 0.42]), ('b', [0.30, 0.60, 0.60])):
        report.split(fold, f'Demo {fold}')
        report.add(fold, 'baseline', dict(ade=0.45))
        for seed, v in enumerate(ours):
            report.add(fold, 'allspark', dict(ade=v), seed)
    path = report.write(str(tmp_path / 'r.json'))
    data = json.loads(open(path).read())
    assert data['command'] == 'allspark benchmark demo --seeds 0 1 2'
    assert data['splits']['a']['verdict']['ade']['beats_strongest_baseline'] is True
    # fold b: the best seed (0.30) beats the baseline, the mean (0.50) does not
    assert data['splits']['b']['verdict']['ade']['beats_strongest_baseline'] is False
    assert data['beats_strongest_baseline_on_every_split'] is False
    assert data['mean_over_splits']['allspark']['ade']['mean'] == pytest.approx(0.455)
    assert data['machine']['cpu_count'] >= 1 and 'Demo a' in report.table()
    with pytest.raises(ValueError, match='selection'):
        BenchmarkReport('demo', 'd', '.', 'fold', [0], selection={}, primary_metric='x',
                        higher_is_better=True)


def test_set_run_length_sets_loop_and_intervals():
    cfg = Config(dict(
        train_cfg=dict(by_epoch=False, max_iters=600, val_interval=600),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=600))))
    set_run_length(cfg, 60, by_epoch=False)
    assert cfg.train_cfg.max_iters == 60 and cfg.train_cfg.val_interval == 60
    assert cfg.default_hooks.checkpoint.interval == 60


def _separable(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 2)).astype(np.float32)
    return x, (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)


@pytest.mark.parametrize('optimizer', ['adamw', 'adam'])
def test_baseline_loop_learns_on_arrays(optimizer):
    x, y = _separable()
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 2)
    info = train_classifier(model, (x, y), epochs=15, batch_size=16, lr=0.1,
                            optimizer=optimizer, log=None)
    out = predict_classifier(model, (x, y))
    assert info['iters'] == 15 * 6 and info['epochs'] == pytest.approx(15.0)
    assert (out['pred'] == y).mean() > 0.9  # chance is 0.5


def test_baseline_loop_on_a_dataset_and_time_budget():
    x, y = _separable()

    class Samples(torch.utils.data.Dataset):
        def __len__(self):
            return len(x)

        def __getitem__(self, i):
            return dict(inputs=dict(v=torch.from_numpy(x[i])), data_samples=dict(gt_label=y[i]))

    torch.manual_seed(0)
    model = torch.nn.Linear(2, 2)
    info = train_classifier(model, Samples(), epochs=10, batch_size=16, lr=0.1, log=None)
    out = predict_classifier(model, Samples())
    assert (out['pred'] == y).mean() > 0.9 and out['gt'].tolist() == y.tolist()
    slow = torch.nn.Sequential(torch.nn.Linear(2, 2))
    info = train_classifier(slow, (x, y), epochs=10_000, batch_size=16, time_budget_s=0.3,
                            log=None)
    assert info['iters'] < 10_000 * 6 and info['time_budget_s'] == 0.3
    with pytest.raises(ValueError, match='optimizer'):
        train_classifier(slow, (x, y), epochs=1, optimizer='sgd', log=None)


def test_selection_grid_and_choice_on_validation_only():
    grid = parse_grid(['model.head.norm=layer,none', 'train_cfg.max_iters=100,200'])
    assert grid == {'model.head.norm': ['layer', 'none'], 'train_cfg.max_iters': [100, 200]}
    cands = grid_candidates(grid)
    assert len(cands) == 4 and {'model.head.norm': 'none', 'train_cfg.max_iters': 200} in cands
    assert grid_candidates({}) == [{}]
    seen = []

    def evaluate(options):  # a stand-in validation score: lower is better
        seen.append(options)
        return dict(ade=(0.3 if options['model.head.norm'] == 'layer' else 0.5)
                    - options['train_cfg.max_iters'] / 10_000)

    chosen, record = select_on_validation(cands, evaluate, 'ade', higher_is_better=False)
    assert chosen == {'model.head.norm': 'layer', 'train_cfg.max_iters': 200}
    assert len(seen) == 4 and record['test_data_used'] is False
    assert [c['options'] for c in record['candidates']] == cands
    with pytest.raises(ValueError, match='KEY=V1,V2'):
        parse_grid(['no_equals'])
    with pytest.raises(KeyError, match='fde'):
        select_on_validation(cands[:1], evaluate, 'fde', higher_is_better=False)


def test_selection_refuses_a_validation_split_that_is_the_test_split(tmp_path):
    from allspark.benchmarking import prepare_allspark_config

    cfg = tmp_path / 'val_is_test.py'
    cfg.write_text(
        "data_root = 'd'\n"
        "model = dict(type='AllSpark')\n"
        "train_cfg = dict(by_epoch=True, max_epochs=2)\n"
        "train_dataloader = dict(dataset=dict(type='X', data_root=data_root, split='train'))\n"
        "val_dataloader = dict(dataset=dict(type='X', data_root=data_root, split='test'))\n"
        "test_dataloader = val_dataloader\n")
    with pytest.raises(ValueError, match='validation split is its test split'):
        prepare_allspark_config(str(cfg), keep_validation=True)


def test_report_autosaves_partial_results(tmp_path):
    report = BenchmarkReport('demo', dataset='d', data_root=str(tmp_path), split_kind='fold',
                             seeds=[0, 1], argv=[], primary_metric='ade', higher_is_better=False,
                             selection=dict(allspark='fixed', baselines='none'), out=str(tmp_path))
    report.split('a', 'Demo a')
    report.add('a', 'allspark', dict(ade=0.5), 0)
    partial = json.loads((tmp_path / 'demo_benchmark.json').read_text())
    assert partial['complete'] is False and partial['finished'] is None
    assert partial['splits']['a']['runs']['allspark'][0]['ade'] == 0.5
    report.add('a', 'allspark', dict(ade=0.7), 1)
    final = json.loads(open(report.write()).read())
    assert final['complete'] is True and final['splits']['a']['aggregate']['allspark']['ade'][
        'mean'] == pytest.approx(0.6)
