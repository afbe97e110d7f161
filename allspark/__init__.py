"""AllSpark: multimodal spatiotemporal learning with language as the reference frame."""
import importlib
import pkgutil

from allspark._lazy_imports import defer_peft
from allspark.version import API_VERSION, __version__

defer_peft()  # peft only where LoRA is configured (allspark/_lazy_imports.py says why)

_SUBPACKAGES = ('allspark.models', 'allspark.datasets', 'allspark.evaluation', 'allspark.engine')
_registered = False


def register_all_modules() -> None:
    """Import every core module once, so every core class is registered (plugins are loaded
    separately, by ``allspark.plugins.load_plugins``)."""
    global _registered
    if _registered:
        return
    _registered = True
    for name in _SUBPACKAGES:
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(package.__path__, prefix=name + '.'):
            importlib.import_module(info.name)


__all__ = ['API_VERSION', '__version__', 'register_all_modules']
