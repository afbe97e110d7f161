"""The wheel-only path: built wheels of the core, one shipped plugin and a third-party plugin,
installed with ``--no-index --find-links`` into an empty virtual environment (torch and the other
dependencies come from this environment), train from ``<plugin>::<file>`` configs outside the
checkout, and ``allspark plugins --check`` passes.

Slow-ish (three wheel builds, two short trainings): about a minute on 2 CPU cores.
"""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

THIRD_PARTY = {
    'setup.cfg': '''
        [metadata]
        name = allspark-plugin-stripes
        version = 0.0.1

        [options]
        packages = find:
        install_requires =
            allspark-core>=0.2,<0.3

        [options.packages.find]
        include = allspark_plugin_stripes*

        [options.package_data]
        allspark_plugin_stripes = configs/*.py

        [options.entry_points]
        allspark.plugins =
            stripes = allspark_plugin_stripes:plugin
        ''',
    'pyproject.toml': '''
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"
        ''',
    'allspark_plugin_stripes/__init__.py': '''
        from allspark.plugins import PluginSpec

        plugin = PluginSpec(name='stripes', api_version='1.0', modalities=['image'],
                            modules=['allspark_plugin_stripes.encoder'])
        ''',
    'allspark_plugin_stripes/encoder.py': '''
        import torch
        from torch import nn

        from allspark.registry import ENCODERS


        @ENCODERS.register_module()
        class RowEncoder(nn.Module):
            """Each image row is a token: (B, 1, H, W) -> (B, H, out_dim)."""

            def __init__(self, width: int = 32, out_dim: int = 32):
                super().__init__()
                self.out_dim = out_dim
                self.proj = nn.Linear(width, out_dim)

            def forward(self, x: torch.Tensor) -> torch.Tensor:
                return self.proj(x[:, 0])
        ''',
    'allspark_plugin_stripes/configs/gratings.py': '''
        _base_ = ['allspark::_base_/default_runtime.py', 'allspark::_base_/language_model.py']
        model = dict(
            type='AllSpark',
            modalities=dict(image=dict(
                encoder=dict(type='RowEncoder', width=32, out_dim=32),
                bridge=dict(type='PerceiverBridge', num_queries=4, depth=1, num_heads=4))),
            language_model={{_base_.language_model}},
            prompts=dict(image=['Stripe orientation?']),
            head=dict(type='LinearClsHead', num_classes=4))
        data = dict(type='SyntheticGratingDataset', num_classes=4, num_samples=32)
        train_dataloader = dict(batch_size=8, num_workers=0,
                                sampler=dict(type='DefaultSampler', shuffle=True),
                                collate_fn=dict(type='allspark.collate'),
                                dataset=dict(**data, split='train'))
        val_dataloader = dict(batch_size=8, num_workers=0,
                              sampler=dict(type='DefaultSampler', shuffle=False),
                              collate_fn=dict(type='allspark.collate'),
                              dataset=dict(**data, split='val'))
        val_evaluator = dict(type='ClassificationMetric', num_classes=4)
        train_cfg = dict(by_epoch=False, max_iters=2, val_interval=2)
        val_cfg = dict()
        optim_wrapper = dict(optimizer=dict(type='AdamW', lr=1e-3))
        default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False))
        log_processor = dict(by_epoch=False)
        ''',
}


def _write_tree(root, files):
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            f.write(textwrap.dedent(text).lstrip())


def _eth_fold(root):
    """A tiny ETH-UCY fold in the original layout: ``{train,val,test}/<scene>.txt``."""
    rng = np.random.default_rng(0)
    for split in ('train', 'val', 'test'):
        os.makedirs(os.path.join(root, split))
        with open(os.path.join(root, split, f'scene_{split}.txt'), 'w') as f:
            for ped in range(1, 4):
                start, vel = rng.uniform(-5, 5, 2), rng.uniform(-0.5, 0.5, 2)
                for t in range(24):
                    x, y = start + vel * t
                    f.write(f'{10.0 * t:.1f}\t{ped:.1f}\t{x:.3f}\t{y:.3f}\n')
    return root


def _run(cmd, cwd, env, timeout=600):
    out = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f'{cmd} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}'
    return out.stdout + out.stderr


@pytest.mark.skipif(sys.platform == 'win32', reason='venv layout differs')
def test_wheels_install_into_an_empty_venv_and_train(tmp_path):
    from allspark.testing import tiny_language_model_dir

    wheels, src = tmp_path / 'wheels', tmp_path / 'stripes'
    _write_tree(str(src), THIRD_PARTY)
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH',)}
    for source in (REPO, os.path.join(REPO, 'plugins', 'allspark-plugin-trajectory'), str(src)):
        _run([sys.executable, '-m', 'pip', 'wheel', '--quiet', '--no-deps',
              '--no-build-isolation', '-w', str(wheels), source], cwd=str(tmp_path), env=env)
    names = sorted(os.listdir(wheels))
    assert any(n.startswith('allspark_core-0.2') for n in names), names
    venv = tmp_path / 'venv'
    # an empty venv that sees this environment's torch & co. (system site), not our sources
    _run([sys.executable, '-m', 'venv', '--system-site-packages', str(venv)], str(tmp_path), env)
    py = str(venv / 'bin' / 'python')
    _run([py, '-m', 'pip', 'install', '--quiet', '--no-index', '--no-deps', '--ignore-installed',
          '--find-links',
          str(wheels), 'allspark-core', 'allspark-plugin-trajectory', 'allspark-plugin-stripes'],
         str(tmp_path), env)
    work = tmp_path / 'run'  # outside the checkout: nothing can be imported from it by cwd
    work.mkdir()
    where = _run([py, '-c', 'import allspark, allspark_plugin_trajectory, '
                  'allspark_plugin_stripes, allspark.config as c; '
                  'print(allspark.__file__); print(allspark_plugin_trajectory.__file__); '
                  'print(c.resolve_config_path("trajectory::eth.py"))'], str(work), env)
    for line in where.strip().splitlines()[-3:]:
        assert line.startswith(str(venv)), f'imported from outside the venv: {line}'
    allspark_cli = str(venv / 'bin' / 'allspark')
    listing = _run([allspark_cli, 'plugins', '--check'], str(work), env)
    assert 'stripes' in listing and 'RowEncoder' in listing
    configs = _run([allspark_cli, 'configs', 'stripes', 'trajectory'], str(work), env)
    assert 'stripes::gratings.py' in configs and 'trajectory::eth.py' in configs
    lm = tiny_language_model_dir()
    out = _run([allspark_cli, 'train', 'stripes::gratings.py', '--work-dir', str(work / 'a'),
                '--cfg-options', f'model.language_model.name_or_path={lm}'], str(work), env)
    assert os.path.exists(work / 'a' / 'iter_2.pth'), out[-2000:]
    assert 'Failed to search registry' not in out
    data = _eth_fold(str(tmp_path / 'eth'))
    _run([allspark_cli, 'train', 'trajectory::eth.py', '--data-root', data,
          '--work-dir', str(work / 'b'), '--cfg-options',
          f'model.language_model.name_or_path={lm}', 'train_cfg.max_iters=2',
          'train_cfg.val_interval=2', 'default_hooks.checkpoint.interval=2',
          'train_dataloader.batch_size=4'], str(work), env)
    assert any(f.endswith('.pth') for f in os.listdir(work / 'b'))
