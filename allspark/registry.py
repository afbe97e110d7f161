"""AllSpark's registries: children of mmengine's root registries, scope ``allspark``.

Every buildable kind (encoders, bridges, language models, prompts, heads, models, datasets,
transforms, metrics, hooks, functions) has a registry here; a class registers itself where it is
defined (``@ENCODERS.register_module()``).  Plugins register into these same registries; the
registry records which plugin registered what, so that

* a type can be named plainly (``'SARConvEncoder'``) or with its plugin's package as scope
  (``'allspark_plugin_sar.SARConvEncoder'``);
* two plugins registering one name fail with an error naming both;
* an unknown type fails with near matches and the plugin that provides (or failed to provide) it.

mmengine keeps one child per scope under each root registry, so the kinds that have no root of
their own in mmengine (encoders, bridges, language models, prompts, heads) are children of our
``MODELS`` registry with scopes ``allspark.<kind>``; a plain name resolves in all of them.
"""
from __future__ import annotations

import contextvars
import difflib
from typing import Any, Optional

from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import Registry
from mmengine.registry import root as mm_root

#: The plugin whose modules are being imported right now (set by :mod:`allspark.plugins`).
CURRENT_PLUGIN: contextvars.ContextVar[Optional[Any]] = contextvars.ContextVar(
    'allspark_current_plugin', default=None)

CORE_OWNER = 'allspark (core)'
CORE_SCOPE = 'allspark'


class UnknownTypeError(KeyError):
    """A config names a type that no registry (nor any loaded plugin) provides."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


class DuplicateRegistrationError(KeyError):
    """Two owners (core or plugins) register the same name in one registry."""

    def __str__(self) -> str:
        return str(self.args[0])


def _owner_label(record: Any) -> str:
    if record is None:
        return CORE_OWNER
    return f'plugin {record.name!r} ({record.distribution} {record.version})'


class AmbiguousTypeError(KeyError):
    """A plain type name that two owners (core or plugins) register, used where neither the
    config's own plugin nor the core owns it."""

    def __str__(self) -> str:
        return str(self.args[0])


#: Package of the plugin that ships the config being built (``'allspark'`` for the core's);
#: a plain name that two owners register resolves to this owner's class (set by build_runner).
_preferred_owner: Optional[str] = None


def set_preferred_owner(package: Optional[str]) -> None:
    """Resolve ambiguous plain names in favour of ``package`` (then the core) from now on."""
    global _preferred_owner
    _preferred_owner = package


def _top_package(obj: Any) -> str:
    return str(getattr(obj, '__module__', '')).split('.')[0]


def _record_of_package(package: str) -> Any:
    """The discovered plugin whose package is ``package`` (None if none is known yet)."""
    from allspark import plugins

    for rec in plugins.records():
        if rec.package == package:
            return rec
    return None


def owner_package(record: Any) -> str:
    """The scope a type can be named with: the plugin's package, or ``'allspark'``."""
    return CORE_SCOPE if record is None else record.package


class AllSparkRegistry(Registry):
    """mmengine ``Registry`` that knows plugins (ownership, plugin scopes, clashes, helpful
    errors).

    Clash policy: when a second owner registers a name that another owner already has, both
    classes are kept (``clashes[name] = {package: (record, class)}``), both plugins get a
    warning naming the other, and neither becomes broken.  The scoped names
    (``'allspark_plugin_sar.SARConvEncoder'``, ``'allspark.LinearClsHead'``) always resolve to
    their owner.  A plain name resolves to the owner of the config being built (see
    :func:`set_preferred_owner`), else to the core's class, else it is an
    :class:`AmbiguousTypeError` listing the scoped alternatives.  One owner registering two
    different classes under one name is still a :class:`DuplicateRegistrationError`.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.owners: dict[str, Any] = {}
        self.clashes: dict[str, dict[str, tuple[Any, Any]]] = {}

    # ----------------------------------------------------------------- registration
    def _register_module(self, module, module_name=None, force=False) -> None:
        owner = CURRENT_PLUGIN.get()
        top = str(getattr(module, '__module__', '')).split('.')[0]
        if top == CORE_SCOPE:
            owner = None  # core modules imported while a plugin loads are still the core's
        elif owner is None:
            owner = _record_of_package(top)  # a plugin module imported directly, not by us
        names = module_name or module.__name__
        names = [names] if isinstance(names, str) else list(names)
        for name in names:
            if name in self._module_dict and not force and self._module_dict[name] is not module:
                existing = self.owners.get(name)
                if owner_package(existing) == owner_package(owner):
                    raise DuplicateRegistrationError(
                        f'{name!r} is registered twice in the {self.name!r} registry by '
                        f'{_owner_label(owner)}: {self._module_dict[name].__module__} and '
                        f'{module.__module__}. Rename one of them.')
        for name in names:
            if (name in self._module_dict and not force
                    and self._module_dict[name] is not module):
                self._add_clash(name, module, owner)
                continue
            self._module_dict[name] = module
            self.owners[name] = owner
            if owner is not None:
                owner.registered.setdefault(self.name, []).append(name)

    def _add_clash(self, name: str, module, owner) -> None:
        first = self.owners.get(name)
        entries = self.clashes.setdefault(
            name, {owner_package(first): (first, self._module_dict[name])})
        entries[owner_package(owner)] = (owner, module)
        if owner is not None:
            owner.registered.setdefault(self.name, []).append(name)
        self._tell_owners(name)

    def _tell_owners(self, name: str) -> None:
        """Put a note naming every owner of a clashing ``name`` on each owner's record."""
        entries = self.clashes[name]
        labels = [f'{pkg}.{name} ({_owner_label(rec)})' for pkg, (rec, _) in entries.items()]
        note = (f'{name!r} in the {self.name!r} registry is registered by '
                f'{len(entries)} owners: {", ".join(labels)}; configs of each resolve their '
                f'own, elsewhere name one of the scoped alternatives')
        for rec, _ in entries.values():
            if rec is None or not hasattr(rec, 'clashes'):
                continue
            rec.clashes[:] = [n for n in rec.clashes if not n.startswith(f'{name!r} in the '
                                                                          f'{self.name!r} ')]
            rec.clashes.append(note)

    def drop_owner(self, record: Any) -> None:
        """Forget what ``record`` registered here (a plugin that failed provides nothing)."""
        for name in list(self.clashes):
            entries = self.clashes[name]
            if any(rec is record for rec, _ in entries.values()):
                entries.pop(owner_package(record), None)
            if self.owners.get(name) is record and entries:
                rec, module = next(iter(entries.values()))
                self._module_dict[name], self.owners[name] = module, rec
            if len(entries) <= 1:
                del self.clashes[name]
                for rec, _ in entries.values():
                    if rec is not None and hasattr(rec, 'clashes'):
                        rec.clashes[:] = [n for n in rec.clashes
                                          if not n.startswith(f'{name!r} in the {self.name!r} ')]
        for name, owner in list(self.owners.items()):
            if owner is record:
                self._module_dict.pop(name, None)
                self.owners.pop(name, None)

    def adopt(self, record: Any) -> None:
        """Rediscovery in one process: entries of ``record``'s package now belong to it."""
        for name, owner in self.owners.items():
            if owner is None and _top_package(self._module_dict.get(name)) == record.package:
                owner = self.owners[name] = record  # imported before its plugin was discovered
                record.registered.setdefault(self.name, []).append(name)
            if owner is not None and owner is not record and owner.package == record.package:
                self.owners[name] = record
                if name not in record.registered.get(self.name, []):
                    record.registered.setdefault(self.name, []).append(name)
        for name, entries in self.clashes.items():
            if record.package in entries:
                _, module = entries[record.package]
                entries[record.package] = (record, module)
                if name not in record.registered.get(self.name, []):
                    record.registered.setdefault(self.name, []).append(name)
                self._tell_owners(name)

    # ----------------------------------------------------------------- lookup
    def _family(self) -> list['AllSparkRegistry']:
        """This registry, its AllSpark ancestors and (for MODELS) its AllSpark children."""
        root = self
        while isinstance(root.parent, AllSparkRegistry):
            root = root.parent
        found, todo = [], [root]
        while todo:
            reg = todo.pop()
            found.append(reg)
            todo.extend(c for c in reg.children.values() if isinstance(c, AllSparkRegistry))
        return found

    def _search_order(self) -> list['AllSparkRegistry']:
        return [self] + [r for r in self._family() if r is not self]

    def _lookup_plain(self, name: str):
        for reg in self._search_order():
            if name in reg.clashes:
                return reg._resolve_clash(name)
            if name in reg._module_dict:
                return reg._module_dict[name]
        return None

    def _resolve_clash(self, name: str):
        entries = self.clashes[name]
        for package in (_preferred_owner, CORE_SCOPE):
            if package is not None and package in entries:
                return entries[package][1]
        alternatives = ', '.join(f"'{pkg}.{name}' ({_owner_label(rec)})"
                                 for pkg, (rec, _) in entries.items())
        raise AmbiguousTypeError(
            f'{name!r} is ambiguous in the {self.name!r} registry: {len(entries)} owners '
            f'register it. Name one of the scoped alternatives in the config: {alternatives}.')

    def _lookup_scoped(self, scope: str, name: str):
        for reg in self._search_order():
            if name in reg.clashes and scope in reg.clashes[name]:
                return reg.clashes[name][scope][1]
            if name in reg._module_dict and owner_package(reg.owners.get(name)) == scope:
                return reg._module_dict[name]
        return None

    def get(self, key):  # type: ignore[override]
        import allspark
        from allspark import plugins  # local: plugins imports this module

        allspark.register_all_modules()
        plugins.load_plugins()
        if not isinstance(key, str):
            return super().get(key)
        obj = self._get(key, plugins)
        if obj is None and self.name != 'prompt_set' and any(
                not r.imported and r.status == 'ok' for r in plugins.records()):
            # a name no plugin declares: it may still come from a lazy plugin's modules
            plugins.import_all_plugins()
            obj = self._get(key, plugins)
        if obj is None:
            scope, real_key = self.split_scope_key(key)
            raise UnknownTypeError(self._unknown_message(real_key if scope else key, scope))
        return obj

    def _get(self, key: str, plugins):
        """``get`` without the final error: the class, or ``None``."""
        scope, real_key = self.split_scope_key(key)
        if scope is not None and (scope == CORE_SCOPE or plugins.is_plugin_scope(scope)):
            if scope != CORE_SCOPE:
                plugins.import_providers(real_key, scope=scope)
            obj = self._lookup_scoped(scope, real_key)
            if obj is not None:
                return obj
            if scope != CORE_SCOPE:
                return None
        if scope is None:
            plugins.import_providers(key, kind=self.name)
            obj = self._lookup_plain(key)
            if obj is not None:
                return obj
        try:
            return super().get(key)
        except RuntimeError:
            return None

    def _owner_of(self, name: str):
        for reg in self._family():
            if name in reg.owners:
                return reg.owners[name]
        return None

    def _known_names(self) -> list[str]:
        names = []
        for reg in self._family():
            names.extend(reg._module_dict)
        reg = self.parent
        while reg is not None:
            names.extend(reg._module_dict)
            reg = reg.parent
        return sorted(set(names))

    def _unknown_message(self, name: str, scope: Optional[str] = None) -> str:
        from allspark import plugins

        msg = [f'Unknown type {name!r} in the {self.name!r} registry (scope {self.scope!r}).']
        close = difflib.get_close_matches(name, self._known_names(), n=5, cutoff=0.6)
        if close:
            msg.append('Near matches: ' + ', '.join(
                f'{c!r} ({_owner_label(self._owner_of(c))})' for c in close) + '.')
        for rec in plugins.records():
            if scope is not None and rec.package != scope:
                continue
            if rec.status != 'ok':
                msg.append(f'Plugin {rec.name!r} ({rec.distribution} {rec.version}) is '
                           f'{rec.status}: {rec.error}; it may provide {name!r}.')
            elif scope is not None:
                msg.append(f'Plugin {rec.name!r} is loaded but registered no {name!r} here.')
        if scope is not None and not any(r.package == scope for r in plugins.records()):
            msg.append(f'No installed plugin has the package {scope!r}: install it '
                       f'(e.g. `pip install {scope.replace("_", "-")}`).')
        elif not close:
            msg.append('Run `allspark plugins` to list what each installed plugin provides.')
        return ' '.join(msg)


def _child(name: str, parent: Registry, scope: str = 'allspark') -> AllSparkRegistry:
    return AllSparkRegistry(name, parent=parent, scope=scope)


MODELS = _child('model', MMENGINE_MODELS)
ENCODERS = _child('encoder', MODELS, 'allspark.encoder')
BRIDGES = _child('bridge', MODELS, 'allspark.bridge')
LANGUAGE_MODELS = _child('language_model', MODELS, 'allspark.language_model')
PROMPTS = _child('prompt', MODELS, 'allspark.prompt')
HEADS = _child('head', MODELS, 'allspark.head')
DATASETS = _child('dataset', MMENGINE_DATASETS)
TRANSFORMS = _child('transform', MMENGINE_TRANSFORMS)
METRICS = _child('metric', MMENGINE_METRICS)
HOOKS = _child('hook', MMENGINE_HOOKS)
FUNCTIONS = _child('function', MMENGINE_FUNCTIONS)
LOOPS = _child('loop', MMENGINE_LOOPS)
OPTIM_WRAPPERS = _child('optim_wrapper', MMENGINE_OPTIM_WRAPPERS)
DATA_SAMPLERS = _child('data_sampler', mm_root.DATA_SAMPLERS)
#: Each modality's default prompts (``allspark.models.prompts.register_prompts``): entries
#: named by modality, owned and clash-checked like classes.  Not a child of mmengine's MODELS
#: (nothing builds a prompt set from a config).
PROMPT_SETS = AllSparkRegistry('prompt_set', scope='allspark.prompt_set')

# mmengine looks up every other kind in a child registry of scope ``default_scope``
# ('allspark') and warns "Failed to search registry with scope allspark in the ... registry"
# when there is none: define the children, so a normal start prints no such warning.
_QUIET_CHILDREN = {
    name: _child(name.lower(), getattr(mm_root, name))
    for name in ('RUNNERS', 'RUNNER_CONSTRUCTORS', 'STRATEGIES', 'MODEL_WRAPPERS',
                 'WEIGHT_INITIALIZERS', 'OPTIMIZERS', 'OPTIM_WRAPPER_CONSTRUCTORS',
                 'PARAM_SCHEDULERS', 'EVALUATOR', 'TASK_UTILS', 'VISUALIZERS', 'VISBACKENDS',
                 'LOG_PROCESSORS', 'INFERENCERS')}

ALL_REGISTRIES = dict(model=MODELS, encoder=ENCODERS, bridge=BRIDGES,
                      language_model=LANGUAGE_MODELS, prompt=PROMPTS, head=HEADS,
                      dataset=DATASETS, transform=TRANSFORMS, metric=METRICS, hook=HOOKS,
                      function=FUNCTIONS, loop=LOOPS, optim_wrapper=OPTIM_WRAPPERS,
                      data_sampler=DATA_SAMPLERS, prompt_set=PROMPT_SETS)
