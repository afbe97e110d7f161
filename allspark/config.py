"""Config files: ``<plugin>::<file>`` names, loading with overrides, and the data root.

Configs ship inside the packages that own them, so they work from wheels as well as from a
checkout:

* ``allspark::_base_/default_runtime.py`` is a file under ``allspark/configs/`` (the core's bases);
* ``sar::mstar.py`` is ``mstar.py`` in the configs folder of the plugin named ``sar`` (its
  :class:`~allspark.plugins.PluginSpec` ``name``; the plugin's package name, e.g.
  ``allspark_plugin_sar::mstar.py``, works too);
* anything else is a path on disk.

The same names work in ``_base_`` lists: :func:`install_config_resolver` teaches mmengine's
``Config`` about them (mmengine's own ``pkg::path`` only knows a fixed list of OpenMMLab
packages).

Every config names its data folder once, as the top-level value ``data_root``; datasets use it
as ``data_root=data_root``.  Because mmengine resolves that at parse time, overriding the
top-level key alone would change nothing, so :func:`load_config` rewrites every ``data_root``
that held the old value (``--data-root DIR`` or ``--cfg-options data_root=DIR``).
"""
from __future__ import annotations

import importlib.util
import os
from typing import Any, Optional

from mmengine.config import Config

SEPARATOR = '::'
CORE_PREFIX = 'allspark'


class ConfigNotFoundError(FileNotFoundError):
    """A config name that no file, plugin or core folder provides."""

    def __str__(self) -> str:
        return str(self.args[0])


def core_config_dir() -> str:
    """``allspark/configs``: the core's base configs (``allspark::...``)."""
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), 'configs')


def package_dir(package: str) -> Optional[str]:
    """Folder of an importable package, found without importing it (``None`` if absent)."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def plugin_config_dirs() -> dict[str, str]:
    """``{plugin name: its configs folder}`` for every discovered plugin that ships configs."""
    from allspark import plugins

    found = {}
    for rec in plugins.load_plugins():
        if not rec.package:
            continue
        root = package_dir(rec.package)
        if root is None:
            continue
        folder = os.path.join(root, rec.configs or 'configs')
        if os.path.isdir(folder):
            found[rec.name] = folder
    return found


def _prefix_dir(prefix: str) -> Optional[str]:
    if prefix == CORE_PREFIX:
        return core_config_dir()
    dirs = plugin_config_dirs()
    if prefix in dirs:
        return dirs[prefix]
    from allspark import plugins

    for rec in plugins.records():  # the package name works as well as the plugin name
        if rec.package == prefix and rec.name in dirs:
            return dirs[rec.name]
    return None


def is_config_name(text: str) -> bool:
    """True for ``<prefix>::<file>`` names (not paths on disk)."""
    return SEPARATOR in str(text) and not os.path.exists(str(text))


def resolve_config_path(name: str) -> str:
    """Absolute path of a config given as a path or as ``<plugin>::<file>``.

    Raises:
        ConfigNotFoundError: listing the configs the named plugin ships (or the plugins that
            ship configs) when the name does not resolve.
    """
    name = str(name)
    if not is_config_name(name):
        if not os.path.isfile(name):
            raise ConfigNotFoundError(f'config file not found: {name}')
        return os.path.abspath(name)
    prefix, _, relpath = name.partition(SEPARATOR)
    folder = _prefix_dir(prefix)
    if folder is None:
        known = ', '.join(sorted([CORE_PREFIX] + list(plugin_config_dirs()))) or '-'
        raise ConfigNotFoundError(
            f'config {name!r}: no installed plugin named {prefix!r} ships configs '
            f'(prefixes available: {known}); run `allspark configs` to list them')
    path = os.path.join(folder, relpath)
    if not os.path.isfile(path):
        shipped = ', '.join(list_config_files(folder)) or '(none)'
        raise ConfigNotFoundError(
            f'config {name!r}: {relpath!r} is not among the configs {prefix!r} ships in '
            f'{folder}: {shipped}')
    return os.path.abspath(path)


def list_config_files(folder: str) -> list[str]:
    """Config files under ``folder`` (relative paths, ``_base_`` files included, sorted)."""
    out = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != '__pycache__')
        for f in sorted(files):
            if f.endswith('.py') and f != '__init__.py':
                out.append(os.path.relpath(os.path.join(root, f), folder))
    return sorted(out)


def list_configs() -> dict[str, list[str]]:
    """``{prefix: [file, ...]}`` for the core's bases and every installed plugin's configs."""
    found = {CORE_PREFIX: list_config_files(core_config_dir())}
    for name, folder in sorted(plugin_config_dirs().items()):
        found[name] = list_config_files(folder)
    return found


def config_owner(path: str) -> Optional[str]:
    """The package of the plugin whose configs folder holds ``path`` (``'allspark'`` for the
    core's, ``None`` for a user's own file)."""
    from allspark import plugins

    path = os.path.abspath(path)
    checkout_configs = os.path.join(os.path.dirname(os.path.dirname(core_config_dir())),
                                    'configs')  # a checkout's quickstart and cross-modal configs
    if any(path.startswith(d + os.sep) for d in (core_config_dir(), checkout_configs)):
        return CORE_PREFIX
    dirs = plugin_config_dirs()
    for rec in plugins.records():
        folder = dirs.get(rec.name)
        if folder and path.startswith(os.path.abspath(folder) + os.sep):
            return rec.package
    return None


_installed = False


def install_config_resolver() -> None:
    """Make ``_base_ = ['allspark::...', '<plugin>::...']`` work in mmengine configs."""
    global _installed
    if _installed:
        return
    _installed = True
    original = Config._get_cfg_path

    def _get_cfg_path(cfg_path: str, filename: str):
        if SEPARATOR in cfg_path:
            prefix = cfg_path.partition(SEPARATOR)[0]
            if prefix == CORE_PREFIX or _prefix_dir(prefix) is not None:
                try:
                    return resolve_config_path(cfg_path), None
                except ConfigNotFoundError as exc:
                    raise ConfigNotFoundError(f'{filename}: _base_ {exc}') from None
        return original(cfg_path, filename)

    Config._get_cfg_path = staticmethod(_get_cfg_path)


def _replace_data_root(node: Any, old: Optional[str], new: str) -> int:
    """Rewrite every ``data_root`` equal to ``old`` (every one, if ``old`` is None)."""
    count = 0
    if isinstance(node, dict):
        for key in list(node.keys()):
            value = node[key]
            if key == 'data_root' and isinstance(value, str) and (old is None or value == old):
                node[key] = new
                count += 1
            else:
                count += _replace_data_root(value, old, new)
    elif isinstance(node, (list, tuple)):
        for item in node:
            count += _replace_data_root(item, old, new)
    return count


def set_data_root(cfg: Config, data_root: str) -> int:
    """Point a loaded config at another data folder: the top-level ``data_root`` and every
    dataset's ``data_root`` that held the same value.  Returns how many were changed.

    Raises:
        KeyError: the config has no ``data_root`` anywhere (nothing would change).
    """
    old = cfg.get('data_root')
    count = _replace_data_root(cfg._cfg_dict, old, data_root)
    if count == 0:
        raise KeyError(f'{cfg.filename}: no data_root in this config (top level or in a '
                       f'dataset), so --data-root / data_root= would change nothing')
    cfg.data_root = data_root
    return count


def load_config(path: str, cfg_options: Optional[dict] = None,
                data_root: Optional[str] = None) -> Config:
    """``Config.fromfile`` for a path or a ``<plugin>::<file>`` name, plugins discovered first,
    ``--cfg-options`` merged in; ``data_root`` (or ``cfg_options['data_root']``) is applied
    everywhere (:func:`set_data_root`)."""
    from allspark.engine.runner import setup

    setup()
    install_config_resolver()
    resolved = resolve_config_path(path)
    cfg = Config.fromfile(resolved)
    options = dict(cfg_options or {})
    if 'data_root' in options:
        root = options.pop('data_root')
        data_root = data_root if data_root is not None else root
    if options:
        cfg.merge_from_dict(options)
    if data_root is not None:
        set_data_root(cfg, str(data_root))
    cfg.allspark_config_owner = config_owner(resolved)
    if is_config_name(path):  # work_dirs/sar_mstar for sar::mstar.py
        prefix, _, relpath = str(path).partition(SEPARATOR)
        cfg.allspark_run_name = f'{prefix}_{os.path.splitext(relpath)[0]}'.replace(os.sep, '_')
    return cfg
