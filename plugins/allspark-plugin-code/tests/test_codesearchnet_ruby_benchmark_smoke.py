"""Smoke test of ``allspark benchmark codesearchnet_ruby``: a CodeSearchNet-format .jsonl
fixture, two seeds, two iterations with a tiny language model, every baseline."""
import json

from test_code_plugin import write_jsonl

from allspark_plugin_code.benchmarks import codesearchnet_ruby


def test_codesearchnet_ruby_benchmark_labels_outputs(tmp_path):
    data = tmp_path / 'ruby'
    data.mkdir()
    write_jsonl(data / 'test.jsonl', n=16)
    out = tmp_path / 'out'
    assert codesearchnet_ruby.main([
        '--data-root', str(data), '--seeds', '0', '1', '--smoke', '--out', str(out),
        '--cfg-options', 'train_dataloader.dataset.holdout.num_train=8',
        'test_dataloader.dataset.holdout.num_train=8']) == 0
    report = json.loads((out / 'codesearchnet_ruby_benchmark.json').read_text())
    assert report['benchmark'] == 'codesearchnet_ruby' and report['seeds'] == [0, 1]
    (split,) = report['splits'].values()
    assert split['train_pairs'] == 8 and split['test_pairs'] == 8
    assert split['shared_repos'] == 0  # disjoint by repository
    assert set(split['runs']) == {'allspark_zero_shot', 'allspark_zero_shot_with_prompts',
                                  'allspark', 'tfidf_cosine', 'frozen_minilm'}
    assert [r['seed'] for r in split['runs']['allspark']] == [0, 1]
    assert all(0 < r['mrr'] <= 1 for runs in split['runs'].values() for r in runs)
    assert split['verdict']['mrr']['strongest_baseline'] in ('tfidf_cosine', 'frozen_minilm')
