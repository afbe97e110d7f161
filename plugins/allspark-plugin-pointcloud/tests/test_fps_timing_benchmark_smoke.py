"""Smoke test of ``allspark benchmark fps_timing``: one small case; every backend returns the
torch reference's indices, and the JSON records the machine and the command."""
import json

from allspark_plugin_pointcloud.benchmarks import fps_timing


def test_fps_timing_benchmark_smoke(tmp_path):
    assert fps_timing.main(['--smoke', '--out', str(tmp_path)]) == 0
    report = json.loads((tmp_path / 'fps_timing.json').read_text())
    assert report['benchmark'] == 'fps_timing' and report['smoke'] is True
    assert report['command'].startswith('allspark benchmark fps_timing --smoke')
    (row,) = report['rows']
    assert row['same_indices'] is True and row['points'] == 256
    assert row['open3d_cpu_s'] > 0 and row['torch_cpu_s'] > 0
    assert report['machine']['cpu_count'] >= 1
