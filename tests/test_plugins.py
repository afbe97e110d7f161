"""Plugin discovery: good, broken, incompatible and clashing plugins; the core keeps working."""
import os
import subprocess
import sys

import pytest

from allspark import plugins
from allspark.registry import ENCODERS, AmbiguousTypeError, UnknownTypeError
from tests.plugin_env import PluginSandbox, make_distribution, write_module

GOOD = '''
from allspark.plugins import PluginSpec
plugin = PluginSpec(name='{name}', api_version='{api}', modalities=['{name}'],
                    modules=['{pkg}.encoder'], description='test plugin')
'''
ENCODER = '''
from torch import nn
from allspark.registry import ENCODERS

@ENCODERS.register_module()
class {cls}(nn.Module):
    out_dim = 8
    def forward(self, x):
        return x
'''


def make_plugin(root, name, api='1.0', cls=None, broken_module=False, broken_spec=False):
    pkg = f'allspark_plugin_t_{name}'
    write_module(root, f'{pkg}/__init__.py',
                 'raise ImportError("spec exploded")' if broken_spec else
                 GOOD.format(name=name, api=api, pkg=pkg))
    write_module(root, f'{pkg}/encoder.py',
                 'import not_a_real_dependency_xyz\n' if broken_module else
                 ENCODER.format(cls=cls or f'{name.capitalize()}Encoder'))
    make_distribution(root, f'allspark-plugin-t-{name}', '0.3.1', {name: f'{pkg}:plugin'})
    return pkg


@pytest.fixture
def plugin_root(tmp_path):
    return str(tmp_path / 'site')


def test_good_plugin_registers_and_resolves_with_scope(plugin_root):
    pkg = make_plugin(plugin_root, 'alpha')
    with PluginSandbox(plugin_root):
        rec = plugins.get_record('alpha')
        assert rec.status == 'ok', rec.error
        assert rec.distribution == 'allspark-plugin-t-alpha' and rec.version == '0.3.1'
        assert rec.registered == {'encoder': ['AlphaEncoder']}
        assert ENCODERS.get('AlphaEncoder') is ENCODERS.get(f'{pkg}.AlphaEncoder')
        report = plugins.format_report()
        assert 'alpha' in report and 'AlphaEncoder' in report


def test_broken_and_incompatible_plugins_are_reported_not_raised(plugin_root):
    make_plugin(plugin_root, 'good')
    make_plugin(plugin_root, 'broken', broken_module=True)
    make_plugin(plugin_root, 'badspec', broken_spec=True)
    make_plugin(plugin_root, 'future', api='2.0')
    make_plugin(plugin_root, 'newer', api='1.9')
    with PluginSandbox(plugin_root):
        status = {r.name: r.status for r in plugins.records()}
        assert status['good'] == 'ok'
        assert status['broken'] == 'broken'
        assert status['badspec'] == 'broken'
        assert status['future'] == 'incompatible'
        assert status['newer'] == 'ok'
        assert 'not_a_real_dependency_xyz' in plugins.get_record('broken').error
        assert 'spec exploded' in plugins.get_record('badspec').error
        assert 'major versions differ' in plugins.get_record('future').error
        assert 'newer' in plugins.get_record('newer').warning
        # a broken plugin registers nothing, and naming its type names the plugin and the failure
        with pytest.raises(UnknownTypeError) as err:
            ENCODERS.build(dict(type='allspark_plugin_t_broken.BrokenEncoder'))
        msg = str(err.value)
        assert "'broken'" in msg and 'not_a_real_dependency_xyz' in msg
        report = plugins.format_report()
        assert 'broken' in report and 'incompatible' in report


def test_core_trains_with_a_broken_plugin_installed(plugin_root, tmp_path, repo_root):
    from allspark.testing import run_smoke_training

    make_plugin(plugin_root, 'broken', broken_module=True)
    with PluginSandbox(plugin_root):
        metrics = run_smoke_training(os.path.join(repo_root, 'configs', 'quickstart.py'),
                                     str(tmp_path / 'work'), max_iters=2,
                                     cfg_options={'train_dataloader.dataset.num_samples': 16,
                                                  'val_dataloader.dataset.num_samples': 8})
        assert plugins.get_record('broken').status == 'broken'
    assert 'accuracy' in metrics


def test_two_plugins_registering_one_name_both_work_and_both_are_named(plugin_root):
    make_plugin(plugin_root, 'first', cls='ClashEncoder')
    make_plugin(plugin_root, 'second', cls='ClashEncoder')
    with PluginSandbox(plugin_root):
        recs = {r.name: r for r in plugins.records()}
        assert recs['first'].status == 'ok' and recs['second'].status == 'ok'
        for name in ('first', 'second'):
            note = ' '.join(recs[name].clashes)
            assert 'allspark-plugin-t-first' in note and 'allspark-plugin-t-second' in note
        first = ENCODERS.get('allspark_plugin_t_first.ClashEncoder')
        second = ENCODERS.get('allspark_plugin_t_second.ClashEncoder')
        assert first is not second
        with pytest.raises(AmbiguousTypeError) as err:
            ENCODERS.get('ClashEncoder')
        assert 'allspark_plugin_t_first.ClashEncoder' in str(err.value)
        assert 'allspark_plugin_t_second.ClashEncoder' in str(err.value)
        plugins.unload_plugin('first')
        plugins.unload_plugin('second')


def test_one_plugin_registering_two_classes_under_one_name_is_broken(plugin_root):
    pkg = make_plugin(plugin_root, 'twice', cls='TwiceEncoder')
    with open(os.path.join(plugin_root, pkg, 'encoder.py'), 'a') as f:
        f.write(ENCODER.format(cls='TwiceEncoder').replace('class TwiceEncoder',
                                                           'class TwiceEncoder2'
                                                           ).replace(
            '@ENCODERS.register_module()', "@ENCODERS.register_module(name='TwiceEncoder')"))
    with PluginSandbox(plugin_root):
        rec = plugins.get_record('twice')
        assert rec.status == 'broken' and 'registered twice' in rec.error


def test_disable_one_plugin_and_autoload(plugin_root, monkeypatch):
    make_plugin(plugin_root, 'gamma')
    monkeypatch.setenv('ALLSPARK_DISABLE_PLUGINS', 'gamma')
    with PluginSandbox(plugin_root):
        assert plugins.get_record('gamma').status == 'disabled'
    monkeypatch.delenv('ALLSPARK_DISABLE_PLUGINS')
    monkeypatch.setenv('ALLSPARK_DISABLE_PLUGIN_AUTOLOAD', '1')
    with PluginSandbox(plugin_root):
        assert plugins.get_record('gamma').status == 'disabled'


def test_unknown_type_lists_near_matches():
    with pytest.raises(UnknownTypeError) as err:
        ENCODERS.build(dict(type='PatchEncodr'))
    assert "'PatchEncoder'" in str(err.value)


def test_cli_lists_plugins(plugin_root):
    make_plugin(plugin_root, 'delta')
    make_plugin(plugin_root, 'kaput', broken_module=True)
    env = dict(os.environ, PYTHONPATH=plugin_root + os.pathsep + os.environ.get('PYTHONPATH', ''))
    out = subprocess.run([sys.executable, '-m', 'allspark.cli', 'plugins'], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert 'delta' in out.stdout and 'DeltaEncoder' in out.stdout
    assert 'kaput' in out.stdout and 'broken' in out.stdout
    check = subprocess.run([sys.executable, '-m', 'allspark.cli', 'plugins', '--check'],
                           env=env, capture_output=True, text=True, timeout=120)
    assert check.returncode == 1 and 'kaput' in check.stdout
