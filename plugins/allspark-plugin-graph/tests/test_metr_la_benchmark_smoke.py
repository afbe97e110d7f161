"""Smoke test of ``allspark benchmark metr_la``: fixtures in the original formats, two seeds,
two iterations with a tiny language model; the JSON has every horizon and the verdicts."""
import json
import os

from test_graph_plugin import N, make_root

from allspark_plugin_graph.benchmarks import metr_la


def test_metr_la_benchmark_labels_outputs(tmp_path):
    root = make_root(tmp_path / 'metr_la')
    out = tmp_path / 'out'
    assert metr_la.main(['--data-root', root, '--seeds', '0', '1', '--smoke', '--out', str(out),
                         '--cfg-options', f'model.modalities.graph.encoder.num_nodes={N}']) == 0
    report = json.loads((out / 'metr_la_benchmark.json').read_text())
    assert report['benchmark'] == 'metr_la' and report['data_root'] == os.path.abspath(root)
    assert report['selection']['test_data_used_for_selection'] is False
    split = report['splits']['chronological']
    assert 'METR-LA' in split['label'] and os.path.getsize(split['plot']) > 1000
    assert set(split['runs']) == {'last_value', 'time_of_day_average', 'ridge', 'allspark'}
    assert [r['seed'] for r in split['runs']['allspark']] == [0, 1]
    assert {'mae_h3', 'rmse_h6', 'mape_h12'} <= set(split['verdict'])
    # smooth daily sine + noise: ridge on 12 lags is the strongest baseline and nearly exact
    assert split['aggregate']['ridge']['mae']['mean'] < 2.0
