"""Smoke test of ``allspark benchmark prsa``: both split modes on UCI-format CSV fixtures, two
seeds, two iterations with a tiny language model; outputs are labelled with the split."""
import json

from test_table_plugin import make_prsa

from allspark_plugin_table.benchmarks import prsa


def test_prsa_benchmark_runs_both_splits_and_labels_outputs(tmp_path):
    root = make_prsa(str(tmp_path / 'prsa'))
    out = tmp_path / 'out'
    assert prsa.main(['--data-root', root, '--seeds', '0', '1', '--smoke',
                      '--out', str(out)]) == 0
    report = json.loads((out / 'prsa_benchmark.json').read_text())
    assert report['benchmark'] == 'prsa' and report['split_kind'] == 'split'
    assert set(report['splits']) == {'random', 'chronological'}
    assert report['selection']['test_data_used_for_selection'] is False
    for name, split in report['splits'].items():
        assert split['split_mode'] == name and name in split['label'].lower()
        assert split['train_rows'] > 0 and split['test_rows'] > 0
        assert [r['seed'] for r in split['runs']['allspark']] == [0, 1]
        assert split['aggregate']['allspark']['rmse']['n'] == 2
        assert split['runs']['gradient_boosting'][0]['seed'] is None
        assert split['verdict']['rmse']['strongest_baseline'] == 'gradient_boosting'
