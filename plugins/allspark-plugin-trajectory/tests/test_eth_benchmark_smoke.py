"""Smoke test of ``allspark benchmark eth``: two folds on fixtures, two seeds, two iterations
of the K = 20 config with a tiny language model (the K = 1 config trains through the same
code); the JSON is labelled with the folds it ran on."""
import json
import os

from trajectory_fixtures import make_eth_ucy

from allspark_plugin_trajectory.benchmarks import eth


def test_eth_benchmark_runs_every_fold_and_labels_outputs(tmp_path):
    root = make_eth_ucy(str(tmp_path / 'eth_ucy'), folds=('univ', 'zara2'))
    out = tmp_path / 'out'
    assert eth.main(['--data-root', root, '--seeds', '0', '1', '--smoke', '--max-iters', '2',
                     '--skip-k1', '--out', str(out)]) == 0
    report = json.loads((out / 'eth_benchmark.json').read_text())
    assert report['benchmark'] == 'eth' and report['split_kind'] == 'fold'
    assert report['seeds'] == [0, 1] and report['smoke'] is True
    assert report['data_root'] == os.path.abspath(root)
    assert set(report['splits']) == {'univ', 'zara2'}  # every fold present, none hard-coded
    assert report['selection']['test_data_used_for_selection'] is False
    assert 'command' in report and report['machine']['cpu_count'] >= 1
    for fold in ('univ', 'zara2'):
        split = report['splits'][fold]
        assert split['label'] == f'ETH-UCY {fold}'
        assert split['test_scenes'] == [f'{fold}_test']
        assert [r['seed'] for r in split['runs']['allspark_k20']] == [0, 1]
        agg = split['aggregate']['allspark_k20']['ade']
        assert agg['n'] == 2 and agg['ci95'][0] <= agg['mean'] <= agg['ci95'][1]
        # walkers at constant velocity plus noise: the baselines are close, a regression
        # (which averages the noisy steps) closest; two iterations of AllSpark are not
        assert split['aggregate']['constant_velocity']['ade']['mean'] < 0.5
        assert set(split['verdict']) == {'ade', 'fde', 'ade_k1', 'fde_k1'}
        verdict = split['verdict']['ade']
        assert verdict['strongest_baseline'] in ('linear_regression',
                                                 'linear_regression_equivariant')
        assert set(split['runs']) >= {'constant_velocity', 'linear_regression',
                                      'linear_regression_equivariant'}
        assert verdict['allspark_k20_beats_strongest'] is False
        assert 'allspark_k1' not in split['runs']
        assert os.path.getsize(split['plot']) > 1000
    assert report['mean_over_splits']['constant_velocity']['ade']['splits'] == 2


def test_eth_benchmark_selects_on_the_validation_scenes(tmp_path):
    """--select: each candidate trains once and is scored on the fold's val/ scenes; the
    choice (never made on test data) is what the seeds train, and the JSON records all of it."""
    root = make_eth_ucy(str(tmp_path / 'eth_ucy'), folds=('zara2',))
    out = tmp_path / 'out'
    assert eth.main(['--data-root', root, '--seeds', '0', '--smoke', '--max-iters', '2',
                     '--skip-k1', '--no-plot', '--select', 'model.head.hidden_dim=16,32',
                     '--cfg-options', 'val_dataloader.dataset.subsample=1',
                     '--out', str(out)]) == 0
    report = json.loads((out / 'eth_benchmark.json').read_text())
    sel = report['splits']['zara2']['selection']
    assert sel['metric'] == 'ade' and sel['test_data_used'] is False
    assert [c['options'] for c in sel['candidates']] == [{'model.head.hidden_dim': 16},
                                                        {'model.head.hidden_dim': 32}]
    scores = [c['validation']['ade'] for c in sel['candidates']]
    assert sel['chosen'] == sel['candidates'][scores.index(min(scores))]['options']
    assert "val/ scenes" in sel['method'] and 'chosen per fold' in report['selection']['allspark']
    assert len(report['splits']['zara2']['runs']['allspark_k20']) == 1
