"""Lazy plugins: a spec that declares what it provides is listed without importing its modules,
which are imported on the first lookup of a name it declares (or of its scope)."""
import json
import sys

import pytest

from allspark import plugins
from allspark.registry import ENCODERS, UnknownTypeError
from tests.plugin_env import PluginSandbox, make_distribution, write_module

SPEC = '''
from allspark.plugins import PluginSpec
plugin = PluginSpec(name='{name}', api_version='1.0', modalities=['{name}'],
                    modules=['{pkg}.encoder'], provides={provides!r})
'''
ENCODER = '''
from torch import nn
from allspark.registry import ENCODERS
{extra}

@ENCODERS.register_module()
class {cls}(nn.Module):
    out_dim = 8
'''


def make_lazy(root, name, cls, provides, extra=''):
    pkg = f'allspark_plugin_lz_{name}'
    write_module(root, f'{pkg}/__init__.py', SPEC.format(name=name, pkg=pkg, provides=provides))
    write_module(root, f'{pkg}/encoder.py', ENCODER.format(cls=cls, extra=extra))
    make_distribution(root, f'allspark-plugin-lz-{name}', '0.1.0', {name: f'{pkg}:plugin'})
    return pkg


def test_declared_plugin_is_listed_without_import_and_imported_on_lookup(tmp_path):
    root = str(tmp_path / 'site')
    pkg = make_lazy(root, 'one', 'LazyOneEncoder', {'encoder': ['LazyOneEncoder']})
    try:
        with PluginSandbox(root):
            rec = plugins.get_record('one')
            assert rec.status == 'ok' and not rec.imported
            assert f'{pkg}.encoder' not in sys.modules
            report = plugins.format_report()
            assert 'LazyOneEncoder' in report and 'imported on first use' in report
            assert f'{pkg}.encoder' not in sys.modules
            cls = ENCODERS.get('LazyOneEncoder')  # the first lookup imports it
            assert f'{pkg}.encoder' in sys.modules and rec.imported
            assert cls.__module__ == f'{pkg}.encoder'
            assert rec.registered == {'encoder': ['LazyOneEncoder']}
    finally:
        plugins.unload_plugin('one')


def test_lazy_plugin_failures_surface_on_use_and_on_check(tmp_path):
    root = str(tmp_path / 'site')
    make_lazy(root, 'bad', 'LazyBadEncoder', {'encoder': ['LazyBadEncoder']},
              extra='import not_a_real_dependency_lazy')
    try:
        with PluginSandbox(root):
            assert plugins.get_record('bad').status == 'ok'  # not imported yet
            with pytest.raises(UnknownTypeError) as err:
                ENCODERS.get('LazyBadEncoder')
            assert 'not_a_real_dependency_lazy' in str(err.value)
            assert plugins.get_record('bad').status == 'broken'
    finally:
        plugins.unload_plugin('bad')


def test_undeclared_names_and_declaration_drift(tmp_path):
    root = str(tmp_path / 'site')
    # declares a name it does not register, and registers one it does not declare
    make_lazy(root, 'drift', 'ActualEncoder', {'encoder': ['DeclaredEncoder']})
    try:
        with PluginSandbox(root):
            cls = ENCODERS.get('ActualEncoder')  # still found: every lazy plugin is imported
            assert cls.__name__ == 'ActualEncoder'
            assert 'DeclaredEncoder' in plugins.get_record('drift').warning
    finally:
        plugins.unload_plugin('drift')


CHECK_DECLARATIONS = r"""
import importlib, json, os, sys
from allspark import plugins
repo = sys.argv[1]
bad = {}
for rec in plugins.import_all_plugins():
    if not rec.package.startswith('allspark_plugin_') or rec.status != 'ok':
        continue
    module = importlib.import_module(rec.package)
    if not os.path.abspath(module.__file__).startswith(os.path.join(repo, 'plugins')):
        continue  # a third-party plugin installed beside ours
    declared = {k: sorted(v) for k, v in (module.plugin.provides or {}).items()}
    registered = {k: sorted(set(v)) for k, v in rec.registered.items()}
    if declared != registered:
        bad[rec.name] = registered
print(json.dumps(bad))
"""


def test_first_party_plugins_declare_exactly_what_they_register(repo_root):
    """The shipped plugins are lazy: what their specs declare must match what they register
    (checked in a fresh interpreter: other tests drop and re-register classes in this one)."""
    import subprocess

    out = subprocess.run([sys.executable, '-c', CHECK_DECLARATIONS, repo_root],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    bad = json.loads(out.stdout.strip().splitlines()[-1])
    assert not bad, f'PluginSpec(provides=...) must list what each plugin registers: {bad}'
