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

#: The plugin whose modules are being imported right now (set by :mod:`allspark.plugins`).
CURRENT_PLUGIN: contextvars.ContextVar[Optional[Any]] = contextvars.ContextVar(
    'allspark_current_plugin', default=None)

CORE_OWNER = 'allspark (core)'


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


class AllSparkRegistry(Registry):
    """mmengine ``Registry`` that knows plugins (ownership, plugin scopes, helpful errors)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.owners: dict[str, Any] = {}

    # ----------------------------------------------------------------- registration
    def _register_module(self, module, module_name=None, force=False) -> None:
        owner = CURRENT_PLUGIN.get()
        names = module_name or module.__name__
        names = [names] if isinstance(names, str) else list(names)
        for name in names:
            if name in self._module_dict and not force and self._module_dict[name] is not module:
                existing = self.owners.get(name)
                raise DuplicateRegistrationError(
                    f'{name!r} is registered twice in the {self.name!r} registry: first by '
                    f'{_owner_label(existing)} ({self._module_dict[name].__module__}), then by '
                    f'{_owner_label(owner)} ({module.__module__}). Rename one of them, or disable '
                    f'one plugin with ALLSPARK_DISABLE_PLUGINS=<name>.')
        for name in names:
            self._module_dict[name] = module
            self.owners[name] = owner
            if owner is not None:
                owner.registered.setdefault(self.name, []).append(name)

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

    def _lookup_plain(self, name: str):
        for reg in [self] + [r for r in self._family() if r is not self]:
            if name in reg._module_dict:
                return reg._module_dict[name]
        return None

    def get(self, key):  # type: ignore[override]
        import allspark
        from allspark import plugins  # local: plugins imports this module

        allspark.register_all_modules()
        plugins.load_plugins()
        if not isinstance(key, str):
            return super().get(key)
        scope, real_key = self.split_scope_key(key)
        if scope is not None and plugins.is_plugin_scope(scope):
            obj = self._lookup_plain(real_key)
            owner = self._owner_of(real_key)
            if obj is not None and owner is not None and owner.package == scope:
                return obj
            raise UnknownTypeError(self._unknown_message(real_key, scope))
        if scope is None:
            obj = self._lookup_plain(key)
            if obj is not None:
                return obj
        try:
            obj = super().get(key)
        except RuntimeError:
            obj = None
        if obj is None:
            raise UnknownTypeError(self._unknown_message(real_key if scope else key, scope))
        return obj

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

ALL_REGISTRIES = dict(model=MODELS, encoder=ENCODERS, bridge=BRIDGES,
                      language_model=LANGUAGE_MODELS, prompt=PROMPTS, head=HEADS,
                      dataset=DATASETS, transform=TRANSFORMS, metric=METRICS, hook=HOOKS,
                      function=FUNCTIONS, loop=LOOPS, optim_wrapper=OPTIM_WRAPPERS)
