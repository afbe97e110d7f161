"""``allspark benchmark eurosat_geo``: the commands it runs, resuming, and what it aggregates.

The training commands are replaced by a stand-in that writes what the real ones write
(checkpoint, ``retrieval.json``, ``allspark test --out`` metrics), so this checks the benchmark's
own logic; the configs themselves are trained end to end in ``test_colocated.py``.
"""
import json
import os

import pytest

from allspark_plugin_msi.benchmarks import eurosat_geo


def _fake_allspark(calls):
    real = eurosat_geo._allspark

    def run(*argv, log_file):
        calls.append(argv)
        if argv[0] == 'test':      # the real runner opens its log before `allspark test` runs
            real('--version', log_file=log_file)
        cmd = argv[0]
        if cmd == 'train':
            work_dir = argv[argv.index('--work-dir') + 1]
            seed = int(argv[-1].split('=')[1])
            os.makedirs(work_dir, exist_ok=True)
            open(os.path.join(work_dir, 'epoch_20.pth'), 'w').write(str(seed))
        elif cmd == 'retrieval':
            out = argv[argv.index('--out-dir') + 1]
            seed = int(open(argv[2]).read())
            pivot = 'pivot' in argv[1]
            os.makedirs(out, exist_ok=True)
            r5 = (0.5 if pivot else 0.7) + 0.01 * seed
            geo = {f'within_{t}km': v for t, v in zip(eurosat_geo.THRESHOLDS,
                                                       (0.0, 0.1, 0.3, 0.5, 1.0))}
            json.dump(dict(summary={'mean_excl_location/recall@5': r5, 'mean/recall@5': r5},
                           pairs={'msi->rgb': {'recall@5': r5}},
                           geolocation={'train': {'msi': dict(geo, median_km=700.0)}},
                           centroid_baseline=dict(geo, within_750km=0.6, median_km=584.0)),
                      open(os.path.join(out, 'retrieval.json'), 'w'))
        elif cmd == 'test':
            path = argv[argv.index('--out') + 1]
            os.makedirs(os.path.dirname(path), exist_ok=True)
            acc = 50.0 if 'joint_msi.py' in argv[1] else 60.0
            if '--cfg-options' in argv:      # location dropped
                acc -= 5.0
            json.dump({'accuracy': acc, 'mean_class_accuracy': acc, 'kappa': 0.5}, open(path, 'w'))
    return run


def test_runs_every_part_and_seed_and_aggregates(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(eurosat_geo, '_allspark', _fake_allspark(calls))
    out = str(tmp_path / 'bench')
    assert eurosat_geo.main(['--seeds', '0', '1', '--out', out, '--data-root', 'DATA']) == 0
    r = json.load(open(os.path.join(out, 'eurosat_geo_benchmark.json')))
    trained = [c[1] for c in calls if c[0] == 'train']
    # 3 alignment + 3 joint configs x 2 seeds, each with its seed and the data root
    assert len(trained) == 12 and trained.count('msi::eurosat_align_pivot.py') == 2
    assert all('DATA' in c for c in calls)
    align = r['splits']['alignment']['aggregate']
    assert align['all_to_all']['score']['mean'] == pytest.approx(70.5)
    assert align['pivot_location']['score']['n'] == 2
    assert r['splits']['alignment']['verdict']['score']['strongest_baseline'] == 'pivot_location'
    geo = r['splits']['geolocation']
    assert geo['verdict']['within_750km']['strongest_baseline'] == 'training_centroid'
    assert geo['verdict']['within_750km']['beats_strongest_baseline'] is False
    joint = r['splits']['joint']['aggregate']
    assert joint['msi_location']['score']['mean'] == 60.0
    assert joint['msi_location (location dropped at test)']['score']['mean'] == 55.0
    assert r['splits']['joint']['verdict']['score']['strongest_baseline'] == 'msi'
    assert r['selection']['test_data_used_for_selection'] is False

    # --reuse: nothing is trained or evaluated again
    calls.clear()
    assert eurosat_geo.main(['--seeds', '0', '1', '--out', out, '--reuse']) == 0
    assert calls == []


def test_a_failed_command_names_its_log(tmp_path, monkeypatch):
    def failing(*argv, log_file):
        raise RuntimeError(f'`allspark {argv[0]}` failed (exit 1); see {log_file}')
    monkeypatch.setattr(eurosat_geo, '_allspark', failing)
    with pytest.raises(RuntimeError, match='see .*align_all_s0.log'):
        eurosat_geo.main(['--seeds', '0', '--parts', 'align', '--out', str(tmp_path)])
