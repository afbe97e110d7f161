"""The plugin guide's example plugin: discovered through its entry point, its shipped config
trained end to end (it must learn), and its benchmark run on a tiny budget."""
import json
import os

import numpy as np
import pytest

from allspark import plugins
from allspark.testing import run_smoke_training
from tests.plugin_env import PluginSandbox, make_distribution

PLUGIN = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WAVES = {
    'sine': lambda t: np.sin(t),
    'square': lambda t: np.sign(np.sin(t)),
    'sawtooth': lambda t: 2 * ((t / (2 * np.pi)) % 1) - 1,
    'triangle': lambda t: 2 * np.abs(2 * ((t / (2 * np.pi)) % 1) - 1) - 1,
}


def write_waveforms(root: str, per_class: int = 6, length: int = 128, seed: int = 0) -> str:
    """``<root>/{train,test}/<class>/<i>.csv``, one value per line (the dataset's format)."""
    rng = np.random.default_rng(seed)
    for split in ('train', 'test'):
        for name, fn in WAVES.items():
            folder = os.path.join(root, split, name)
            os.makedirs(folder, exist_ok=True)
            for i in range(per_class):
                t = np.linspace(0, rng.uniform(4, 8) * np.pi, length) + rng.uniform(0, 6)
                x = fn(t) + 0.1 * rng.standard_normal(length)
                np.savetxt(os.path.join(folder, f'{i}.csv'), x, fmt='%.5f')
    return root


@pytest.fixture
def example_plugin(tmp_path):
    site = make_distribution(str(tmp_path / 'site'), 'allspark-plugin-example', '0.2.0',
                             {'example': 'allspark_plugin_example:plugin'})
    with PluginSandbox(site, PLUGIN) as recs:
        rec = plugins.get_record('example')
        assert rec is not None and rec.status == 'ok', recs
        yield rec
    plugins.unload_plugin('example')


def test_example_plugin_registers_its_parts(example_plugin):
    from allspark.registry import ENCODERS

    # a lazy plugin: listed from its spec, its modules imported on the first lookup
    assert example_plugin.provides['encoder'] == ['SignalPatchEncoder']
    assert ENCODERS.get('SignalPatchEncoder').__module__ == 'allspark_plugin_example.encoder'
    assert example_plugin.registered['encoder'] == ['SignalPatchEncoder']
    assert 'WaveformCSVDataset' in example_plugin.registered['dataset']
    assert example_plugin.benchmarks == {
        'waveform': 'allspark_plugin_example.benchmarks.waveform'}


def test_example_config_learns(example_plugin, tmp_path):
    data = write_waveforms(str(tmp_path / 'waves'), per_class=8)
    metrics = run_smoke_training(
        'example::waveform.py', str(tmp_path / 'work'), max_iters=40, batch_size=8,
        cfg_options={'data_root': data, 'optim_wrapper.optimizer.lr': 3e-3})
    # 4 balanced classes: chance is 25 %; the waveforms are easy to tell apart
    assert metrics['accuracy'] >= 60.0, metrics
    assert os.path.exists(tmp_path / 'work' / 'iter_40.pth')


def test_example_benchmark_smoke(example_plugin, tmp_path):
    from allspark.commands import benchmark

    data = write_waveforms(str(tmp_path / 'waves'), per_class=3)
    out = str(tmp_path / 'out')
    rc = benchmark.main(['waveform', '--data-root', data, '--seeds', '0', '--smoke',
                         '--out', out])
    assert rc == 0
    with open(os.path.join(out, 'waveform.json')) as f:
        report = json.load(f)
    assert report['benchmark'] == 'waveform' and report['data_root'] == os.path.abspath(data)
    assert report['selection']['test_data_used_for_selection'] is False
    runs = report['splits']['test']['runs']
    assert set(runs) == {'allspark', 'nearest_centroid'}
    # the baseline really separates the classes (sorted values and differences)
    assert runs['nearest_centroid'][0]['accuracy'] > 75.0  # chance: 25 %
