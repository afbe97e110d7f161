"""Lazy plugins: a spec that declares what it provides is listed without importing its modules,
which are imported on the first lookup of a name it declares (or of its scope)."""
import json
import os
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


def test_first_party_plugins_declare_exactly_what_they_register(repo_root):
    """The shipped plugins are lazy: what their specs declare must match what they register."""
    import importlib

    for rec in plugins.import_all_plugins():
        if not rec.package.startswith('allspark_plugin_') or rec.status != 'ok':
            continue
        spec = importlib.import_module(rec.package).plugin
        if not os.path.abspath(importlib.import_module(rec.package).__file__).startswith(
                os.path.join(repo_root, 'plugins')):
            continue  # a third-party plugin installed beside ours
        declared = {k: sorted(v) for k, v in (spec.provides or {}).items()}
        registered = {k: sorted(set(v)) for k, v in rec.registered.items()}
        assert declared == registered, (
            f'{rec.name}: PluginSpec(provides=...) must list what it registers: '
            f'{json.dumps(registered)}')
