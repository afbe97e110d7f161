"""Smoke test of ``allspark benchmark ucmerced``: class folders of TIFF fixtures (two of them
named like UC Merced novel classes), two seeds, one epoch of each model with a tiny language
model; the split files and the novel/base breakdown are written."""
import json
import os

from test_rgb_plugin import make_folders

from allspark_plugin_rgb.benchmarks import ucmerced


def test_ucmerced_benchmark_labels_outputs(tmp_path):
    root = make_folders(tmp_path / 'ucm', '.tif', classes=('beach', 'forest', 'river'))
    out = tmp_path / 'out'
    assert ucmerced.main(['--data-root', root, '--seeds', '0', '1', '--smoke', '--img-size',
                          '32', '--out', str(out), '--cfg-options', 'model.head.num_classes=3',
                          'test_evaluator.num_classes=3']) == 0
    report = json.loads((out / 'ucmerced_benchmark.json').read_text())
    assert report['benchmark'] == 'ucmerced' and report['seeds'] == [0, 1]
    (split,) = report['splits'].values()
    assert 'split seed 0' in split['label'] and split['classes'] == ['beach', 'forest', 'river']
    assert split['train_images'] == 6 and split['test_images'] == 6
    assert all(os.path.getsize(p) > 0 for p in split['split_files'])
    for runs in split['runs'].values():
        assert [r['seed'] for r in runs] == [0, 1]
        assert all('novel_6_classes_accuracy' in r and 'base_classes_accuracy' in r
                   for r in runs)
    assert split['verdict']['accuracy']['strongest_baseline'] == 'resnet18_scratch'
