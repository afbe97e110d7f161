"""Plugin discovery, API-version check and per-plugin isolation.

A plugin is a distribution with an entry point in the group ``allspark.plugins`` that names a
:class:`PluginSpec` (a small object, cheap to import)::

    [options.entry_points]
    allspark.plugins =
        sar = allspark_plugin_sar:plugin

Loading a plugin imports the modules its spec lists (they register their classes).  Whatever one
plugin raises (on import of the spec, an incompatible API version, a failing module, a name
registered twice) is caught and kept in its :class:`PluginRecord`; nothing raises past the loader
and the other plugins and the core keep working.

Environment:
    ``ALLSPARK_DISABLE_PLUGIN_AUTOLOAD=1``  load no plugin automatically
    (``load_plugins(force=True)`` or ``ALLSPARK_PLUGINS=name,...`` still load the named ones).
    ``ALLSPARK_EAGER_PLUGINS=1``  import every plugin's modules at discovery, even those that
    declare ``provides`` (lazy by default).
    ``ALLSPARK_DISABLE_PLUGINS=name,...``   skip these plugins.
"""
from __future__ import annotations

import importlib
import os
import threading
import traceback
from dataclasses import dataclass, field
from importlib import metadata
from typing import Mapping, Optional, Sequence

from allspark.version import API_VERSION

ENTRY_POINT_GROUP = 'allspark.plugins'


@dataclass
class PluginSpec:
    """What a plugin declares; its package's ``__init__`` builds one and exposes it.

    Args:
        name: short plugin name (``'sar'``).
        api_version: the core API version the plugin targets (``'1.0'``).
        modalities: the modality keys it serves (``['sar']``).
        modules: modules to import to register its classes (``['allspark_plugin_sar.encoder']``).
        description: one line for ``allspark plugins``.
        configs: the folder, inside the plugin's package, of the configs it ships (default
            ``'configs'``; shipped as package data); addressed as ``<name>::<file>.py`` on the
            command line and in ``_base_``.
        benchmarks: ``{benchmark name: module}``; each module defines ``main(argv=None) -> int``
            and is run by ``allspark benchmark <name> [args]``.
        provides: ``{registry kind: [names]}`` the modules register (``{'encoder':
            ['SARConvEncoder'], 'dataset': [...]}``; kinds as in
            ``allspark.registry.ALL_REGISTRIES``).  A plugin that declares them is loaded
            lazily: its modules are imported on the first lookup of a name it declares (or of
            its scope, or of its modalities' prompts), so a training start imports only the
            plugins its config uses and ``allspark plugins`` lists them without importing.
            Without it, the modules are imported at discovery.
    """
    name: str
    api_version: str
    modalities: Sequence[str] = ()
    modules: Sequence[str] = ()
    description: str = ''
    configs: Optional[str] = None
    benchmarks: Mapping[str, str] = field(default_factory=dict)
    provides: Optional[Mapping[str, Sequence[str]]] = None


@dataclass
class PluginRecord:
    """The outcome of discovering and loading one plugin."""
    name: str
    distribution: str = '?'
    version: str = '?'
    package: str = ''
    modalities: list = field(default_factory=list)
    description: str = ''
    status: str = 'pending'  # ok | broken | incompatible | disabled | pending
    error: str = ''
    warning: str = ''
    traceback: str = ''
    registered: dict = field(default_factory=dict)
    configs: Optional[str] = None
    benchmarks: dict = field(default_factory=dict)
    clashes: list = field(default_factory=list)
    provides: dict = field(default_factory=dict)
    modules: list = field(default_factory=list)
    imported: bool = False  # its modules have been imported (lazy plugins: on first use)


_lock = threading.RLock()
_records: dict[str, PluginRecord] = {}
_loaded = False


def _parse_version(text: str) -> tuple[int, int]:
    parts = str(text).strip().split('.')
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError as exc:
        raise ValueError(f'api_version must look like "1.0", got {text!r}') from exc


def check_api_version(plugin_version: str, core_version: str = API_VERSION) -> str:
    """Return a warning ('' if none); raise ``ValueError`` if the plugin cannot work."""
    pmaj, pmin = _parse_version(plugin_version)
    cmaj, cmin = _parse_version(core_version)
    if pmaj != cmaj:
        raise ValueError(f'targets AllSpark plugin API {plugin_version}, but this core provides '
                         f'{core_version} (major versions differ); install a matching version '
                         f'of the plugin or of allspark')
    if pmin > cmin:
        return (f'targets plugin API {plugin_version}, newer than the core\'s {core_version}; '
                f'features it relies on may be missing')
    return ''


def _last_line(exc: BaseException) -> str:
    text = ''.join(traceback.format_exception_only(type(exc), exc)).strip().splitlines()
    return text[-1] if text else type(exc).__name__


def _env_list(name: str) -> set[str]:
    return {s.strip() for s in os.environ.get(name, '').split(',') if s.strip()}


def _load_one(ep: metadata.EntryPoint) -> PluginRecord:
    dist = getattr(ep, 'dist', None)
    rec = PluginRecord(name=ep.name, distribution=dist.name if dist else '?',
                       version=dist.version if dist else '?',
                       package=ep.value.split(':')[0].split('.')[0])
    try:
        spec = ep.load()
    except Exception as exc:  # a plugin must never take the core down
        rec.status, rec.error, rec.traceback = 'broken', _last_line(exc), traceback.format_exc()
        return rec
    if not isinstance(spec, PluginSpec):
        rec.status = 'broken'
        rec.error = (f'entry point {ep.value!r} must name an allspark.plugins.PluginSpec, '
                     f'got {type(spec).__name__}')
        return rec
    rec.modalities, rec.description = list(spec.modalities), spec.description
    rec.configs = spec.configs or 'configs'
    rec.benchmarks = dict(spec.benchmarks)
    try:
        rec.warning = check_api_version(spec.api_version)
    except ValueError as exc:
        rec.status, rec.error = 'incompatible', str(exc)
        return rec
    rec.modules = list(spec.modules)
    rec.status = 'ok'
    if spec.provides and not _eager():
        rec.provides = {kind: list(names) for kind, names in spec.provides.items()}
        return rec  # imported on first use (import_plugin_modules)
    import_plugin_modules(rec)
    return rec


def _eager() -> bool:
    return os.environ.get('ALLSPARK_EAGER_PLUGINS', '') not in ('', '0')


def import_plugin_modules(rec: PluginRecord) -> PluginRecord:
    """Import a plugin's modules (once), which registers its classes; a failure marks it
    broken and drops whatever it registered."""
    import allspark
    from allspark.registry import CURRENT_PLUGIN

    with _lock:
        if rec.imported or rec.status != 'ok':
            return rec
        # Core classes first, so they are never a plugin's; only here, not when a lazy plugin
        # is merely listed (the core's modules pull in mmengine.model, transformers and
        # torch.distributed: ~4 s of a bare `allspark plugins`).
        allspark.register_all_modules()
        rec.imported = True
        token = CURRENT_PLUGIN.set(rec)
        try:
            for module in rec.modules:
                importlib.import_module(module)
            _adopt_earlier_registrations(rec)
        except Exception as exc:
            rec.status, rec.error, rec.traceback = ('broken', _last_line(exc),
                                                    traceback.format_exc())
            _unregister(rec)
        finally:
            CURRENT_PLUGIN.reset(token)
        if rec.status == 'ok' and rec.provides:
            missing = sorted(f'{kind} {name}' for kind, names in rec.provides.items()
                             for name in names if name not in rec.registered.get(kind, []))
            if missing:
                note = f'declares but does not register: {", ".join(missing)}'
                rec.warning = f'{rec.warning}; {note}' if rec.warning else note
    return rec


def import_all_plugins() -> list[PluginRecord]:
    """Import the modules of every discovered plugin not imported yet (lazy ones)."""
    for rec in load_plugins():
        if not rec.imported and rec.status == 'ok':
            import_plugin_modules(rec)
    return records()


def import_providers(name: str, kind: Optional[str] = None,
                     scope: Optional[str] = None) -> bool:
    """Import the lazy plugins that may provide ``name``: the plugin of ``scope``, those that
    declare ``name`` (of ``kind``, or of any kind), and for prompt sets those serving that
    modality.  Returns whether anything was imported."""
    pending = [r for r in _records.values() if not r.imported and r.status == 'ok']
    todo = []
    for rec in pending:
        if scope is not None:
            if rec.package == scope:
                todo.append(rec)
            continue
        kinds = [kind] if kind in rec.provides else list(rec.provides)
        if any(name in rec.provides.get(k, ()) for k in kinds) or (
                kind == 'prompt_set' and name in rec.modalities):
            todo.append(rec)
    for rec in todo:
        import_plugin_modules(rec)
    return bool(todo)


def _adopt_earlier_registrations(rec: PluginRecord) -> None:
    """Rediscovery in the same process (modules already imported): take over what this plugin's
    package registered before, so the new record lists it and owns it."""
    from allspark.registry import ALL_REGISTRIES

    for reg in ALL_REGISTRIES.values():
        reg.adopt(rec)


def _unregister(rec: PluginRecord) -> None:
    """Drop what a plugin registered before it failed: a broken plugin provides nothing."""
    from allspark.registry import ALL_REGISTRIES

    for reg in ALL_REGISTRIES.values():
        reg.drop_owner(rec)
    rec.registered = {}


def unload_plugin(name: str) -> None:
    """Drop everything plugin ``name`` registered (classes, prompts) and forget its modules, so
    no lookup can reach it any more (e.g. a test's temporary plugin)."""
    import sys

    rec = _records.pop(name, None)
    if rec is None:
        return
    _unregister(rec)
    for module in [m for m in sys.modules if m == rec.package or
                   m.startswith(rec.package + '.')]:
        del sys.modules[module]


def entry_points() -> list[metadata.EntryPoint]:
    """Entry points of group ``allspark.plugins``, one per plugin name (first wins)."""
    seen, eps = set(), []
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in seen:
            seen.add(ep.name)
            eps.append(ep)
    return eps


def load_plugins(force: bool = False) -> list[PluginRecord]:
    """Discover and load plugins once per process; returns every record (also broken ones)."""
    global _loaded
    with _lock:
        if _loaded and not force:
            return list(_records.values())
        _loaded = True  # set first: registry lookups made while loading must not recurse
        autoload = os.environ.get('ALLSPARK_DISABLE_PLUGIN_AUTOLOAD', '') in ('', '0')
        wanted, disabled = _env_list('ALLSPARK_PLUGINS'), _env_list('ALLSPARK_DISABLE_PLUGINS')
        for ep in entry_points():
            if ep.name in _records and _records[ep.name].status in ('ok', 'broken', 'incompatible'):
                continue
            dist = getattr(ep, 'dist', None)
            if ep.name in disabled or not (autoload or force or ep.name in wanted):
                why = ('disabled by ALLSPARK_DISABLE_PLUGINS' if ep.name in disabled else
                       'autoload disabled by ALLSPARK_DISABLE_PLUGIN_AUTOLOAD')
                _records[ep.name] = PluginRecord(
                    name=ep.name, distribution=dist.name if dist else '?',
                    version=dist.version if dist else '?',
                    package=ep.value.split(':')[0].split('.')[0], status='disabled', error=why)
                continue
            _records[ep.name] = _load_one(ep)
        return list(_records.values())


def records() -> list[PluginRecord]:
    """Records of the plugins seen so far (call :func:`load_plugins` first)."""
    return list(_records.values())


def get_record(name: str) -> Optional[PluginRecord]:
    return _records.get(name)


def is_plugin_scope(scope: str) -> bool:
    """True if ``scope`` is the package of a discovered plugin or looks like one."""
    return scope.startswith('allspark_plugin_') or any(
        r.package == scope for r in _records.values())


def reset_for_tests() -> None:
    """Forget discovery results so a test can rediscover (registered classes stay)."""
    global _loaded
    with _lock:
        _records.clear()
        _loaded = False


def format_report(recs: Optional[list[PluginRecord]] = None, verbose: bool = False) -> str:
    """Human-readable table for ``allspark plugins``."""
    recs = load_plugins() if recs is None else recs
    if not recs:
        return f'No AllSpark plugins installed (entry-point group {ENTRY_POINT_GROUP!r}).'
    lines = []
    for rec in sorted(recs, key=lambda r: r.name):
        head = (f'{rec.name:<12} {rec.status:<12} {rec.distribution} {rec.version}'
                f'  modalities: {", ".join(rec.modalities) or "-"}')
        lines.append(head)
        if rec.description:
            lines.append(f'    {rec.description}')
        listed = rec.registered if rec.imported or not rec.provides else rec.provides
        for kind, names in sorted(listed.items()):
            lines.append(f'    {kind}: {", ".join(sorted(set(names)))}')
        if rec.provides and not rec.imported and rec.status == 'ok':
            lines.append('    (declared; modules imported on first use)')
        if rec.benchmarks:
            lines.append(f'    benchmarks: {", ".join(sorted(rec.benchmarks))}')
        if rec.warning:
            lines.append(f'    warning: {rec.warning}')
        for note in rec.clashes:
            lines.append(f'    clash: {note}')
        if rec.error:
            lines.append(f'    error: {rec.error}')
        if verbose and rec.traceback:
            lines.extend('    ' + line for line in rec.traceback.rstrip().splitlines())
    broken = [r.name for r in recs if r.status in ('broken', 'incompatible')]
    if broken:
        lines.append(f'{len(broken)} plugin(s) not usable: {", ".join(broken)} '
                     f'(the core and the other plugins work; see the errors above).')
    return '\n'.join(lines)
