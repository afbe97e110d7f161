"""Smoke test of ``allspark benchmark imdb``: an aclImdb-layout fixture, two seeds, two
iterations with a tiny language model, every baseline; outputs labelled with the split."""
import json

from test_language_plugin import write_imdb

from allspark_plugin_language.benchmarks import imdb


def test_imdb_benchmark_labels_outputs(tmp_path):
    root = write_imdb(tmp_path / 'aclImdb', per_class=4)
    out = tmp_path / 'out'
    assert imdb.main(['--data-root', root, '--seeds', '0', '1', '--smoke',
                      '--out', str(out)]) == 0
    report = json.loads((out / 'imdb_benchmark.json').read_text())
    assert report['benchmark'] == 'imdb' and report['seeds'] == [0, 1]
    (split,) = report['splits'].values()
    assert split['label'] == 'IMDB 8 train / 8 test reviews'
    assert set(split['runs']) == {'allspark', 'tfidf_logreg', 'frozen_lm_logreg'}
    assert [r['seed'] for r in split['runs']['allspark']] == [0, 1]
    assert all(r['total'] == 8 for runs in split['runs'].values() for r in runs)
    # the fixture's positive and negative reviews share no words: TF-IDF separates them
    assert split['runs']['tfidf_logreg'][0]['accuracy'] == 100.0
    assert set(split['truncation_study']) == {'tfidf_logreg_truncated_head',
                                              'tfidf_logreg_truncated_head_tail'}
