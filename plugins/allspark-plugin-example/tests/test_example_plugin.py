"""The plugin guide's example plugin, discovered through its entry point and trained."""
import os

import numpy as np

from allspark import plugins
from allspark.testing import run_smoke_training
from tests.plugin_env import PluginSandbox, make_distribution

WAVES = {
    'sine': lambda t: np.sin(t),
    'square': lambda t: np.sign(np.sin(t)),
    'sawtooth': lambda t: 2 * ((t / (2 * np.pi)) % 1) - 1,
    'triangle': lambda t: 2 * np.abs(2 * ((t / (2 * np.pi)) % 1) - 1) - 1,
}


def write_waveforms(root: str, per_class: int = 6, length: int = 128, seed: int = 0) -> str:
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


def test_example_plugin_trains(tmp_path, repo_root):
    site = make_distribution(str(tmp_path / 'site'), 'allspark-plugin-example', '0.1.0',
                             {'example': 'allspark_plugin_example:plugin'})
    pkg = os.path.join(repo_root, 'plugins', 'allspark-plugin-example')
    data = write_waveforms(str(tmp_path / 'waves'))
    with PluginSandbox(site, pkg) as recs:
        rec = plugins.get_record('example')
        assert rec is not None and rec.status == 'ok', recs
        assert 'SignalPatchEncoder' in rec.registered['encoder']
        metrics = run_smoke_training(
            'example::waveform.py', str(tmp_path / 'work'),
            max_iters=4, cfg_options={'train_dataloader.dataset.data_root': data,
                                      'val_dataloader.dataset.data_root': data,
                                      'test_dataloader.dataset.data_root': data})
    assert 0.0 <= metrics['accuracy'] <= 100.0
    assert os.path.exists(tmp_path / 'work' / 'iter_4.pth')
