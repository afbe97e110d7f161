"""Keep ``peft`` out of processes that do not use LoRA.

mmengine registers ``transformers.Adafactor`` when its optimizer module is imported (every
``mmengine.model`` / ``mmengine.runner`` import does), and ``transformers.optimization`` imports
``transformers.trainer_utils``, which imports ``peft`` at module level whenever it is installed,
only to define ``_is_peft_model``.  That costs ~2.5 s per start (issue 16; chain found with
``python -X importtime``)::

    mmengine.optim.optimizer.builder -> transformers.Adafactor -> transformers.optimization
        -> transformers.trainer_utils -> peft

``defer_peft()`` installs an import hook that runs ``transformers.trainer_utils`` with peft
reported absent, then gives it back the real ``is_peft_available`` and an ``_is_peft_model``
that looks peft up only once something has imported it (no model can be a ``PeftModel`` before
that).  ``HFLanguageModel(lora=...)`` imports peft itself.  ``ALLSPARK_EAGER_PEFT=1`` turns the
hook off.
"""
from __future__ import annotations

import importlib.abc
import importlib.machinery
import os
import sys

_TARGET = 'transformers.trainer_utils'


def _is_peft_model(model) -> bool:
    peft = sys.modules.get('peft')
    if peft is None:
        return False
    classes = tuple(getattr(peft, name) for name in ('PeftModel', 'PeftMixedModel')
                    if hasattr(peft, name))
    return bool(classes) and isinstance(model, classes)


class _PeftHidingLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        import transformers.utils as hf_utils

        real = hf_utils.is_peft_available
        hf_utils.is_peft_available = lambda: False
        try:
            self.loader.exec_module(module)
        finally:
            hf_utils.is_peft_available = real
        module.is_peft_available = real
        module._is_peft_model = _is_peft_model


class _DeferPeftFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path, target=None):
        if fullname != _TARGET:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _PeftHidingLoader(spec.loader)
        return spec


def defer_peft() -> None:
    """Install the hook (idempotent; a no-op once ``transformers.trainer_utils`` is loaded)."""
    if os.environ.get('ALLSPARK_EAGER_PEFT', '').strip() in ('1', 'true', 'yes'):
        return
    if _TARGET in sys.modules or any(isinstance(f, _DeferPeftFinder) for f in sys.meta_path):
        return
    sys.meta_path.insert(0, _DeferPeftFinder())
