"""Smoke test of ``allspark benchmark eurosat``: 13-band GeoTIFF fixtures in the train/test
folder layout, two seeds, one epoch of each model with a tiny language model."""
import json

from test_msi_plugin import make_eurosat

from allspark_plugin_msi.benchmarks import eurosat


def test_eurosat_benchmark_labels_outputs(tmp_path):
    root = make_eurosat(tmp_path / 'eurosat', n_train=4, n_test=2)
    out = tmp_path / 'out'
    assert eurosat.main(['--data-root', root, '--seeds', '0', '1', '--smoke',
                         '--out', str(out)]) == 0
    report = json.loads((out / 'eurosat_benchmark.json').read_text())
    assert report['benchmark'] == 'eurosat' and report['seeds'] == [0, 1]
    assert report['selection']['test_data_used_for_selection'] is False
    (split,) = report['splits'].values()
    assert split['train_tiles'] == 8 and split['test_tiles'] == 4
    assert '8 train / 4 test tiles, 2 classes' in split['label']
    assert set(split['runs']) == {'random_forest_band_stats', 'resnet18_scratch', 'allspark'}
    for runs in split['runs'].values():
        assert [r['seed'] for r in runs] == [0, 1]
        assert all(r['total'] == 4 and len(r['accuracy_ci95_wilson']) == 2 for r in runs)
    # the two classes differ by 1,500 counts in every band: the forest separates them
    assert split['aggregate']['random_forest_band_stats']['accuracy']['mean'] == 100.0
