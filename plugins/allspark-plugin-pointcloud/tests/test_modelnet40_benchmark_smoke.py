"""Smoke test of ``allspark benchmark modelnet40``: .npy fixtures in the ModelNet40 layout,
two seeds, one epoch of each model (PointNet on AllSpark's wall-clock budget) with a tiny
language model; the JSON is labelled with the split and seeds."""
import json
import os

from pointcloud_fixtures import CLASSES, write_modelnet_npy

from allspark_plugin_pointcloud.benchmarks import modelnet40


def test_modelnet40_benchmark_labels_outputs(tmp_path):
    root = write_modelnet_npy(str(tmp_path / 'mn'), per_class=2, n=200)
    out = tmp_path / 'out'
    k = len(CLASSES)
    assert modelnet40.main([
        '--data-root', root, '--seeds', '0', '1', '--smoke', '--baseline-batch-size', '3',
        '--out', str(out), '--cfg-options', f'model.head.num_classes={k}',
        f'test_evaluator.num_classes={k}']) == 0
    report = json.loads((out / 'modelnet40_benchmark.json').read_text())
    assert report['benchmark'] == 'modelnet40' and report['seeds'] == [0, 1]
    assert report['selection']['test_data_used_for_selection'] is False
    split = report['splits']['official']
    assert split['test_objects'] == 2 * k and 'ModelNet40' in split['label']
    for model in ('allspark', 'pointnet'):
        runs = split['runs'][model]
        assert [r['seed'] for r in runs] == [0, 1]
        assert os.path.getsize(runs[0]['confusion_png']) > 1000
    allspark, pointnet = split['runs']['allspark'], split['runs']['pointnet']
    assert all(p['time_budget_s'] == a['train_time_s'] for a, p in zip(allspark, pointnet))
    assert split['verdict']['accuracy']['strongest_baseline'] == 'pointnet'
