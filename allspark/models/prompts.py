"""``PromptBank``: per-modality text prompts.

Training picks a random prompt per forward (one for the whole batch); evaluation always uses the
first one, so results are deterministic.  Prompts for several modalities present in one sequence
are joined with a space in the order the modalities are configured.

Plugins register their modality's prompts (the paper's Table XVI) with :func:`register_prompts`;
a ``PromptBank`` uses them for every modality its config does not list.  Prompt sets are
registry entries (``PROMPT_SETS``, named by modality) like classes: owned by the plugin that
registered them, listed by ``allspark plugins``, dropped with a broken plugin, and clash-checked
(a second plugin registering prompts for the same modality does not replace the first: each
plugin's configs get their own, see :class:`allspark.registry.AllSparkRegistry`).
"""
from __future__ import annotations

import random
import sys
from collections.abc import Mapping as MappingABC
from typing import Iterator, Mapping, Optional, Sequence

from allspark.registry import PROMPT_SETS, PROMPTS, UnknownTypeError


class PromptSet:
    """A modality's default prompts, as registered (the first is used at evaluation)."""

    def __init__(self, modality: str, prompts: Sequence[str], module: str):
        self.modality, self.prompts = modality, list(prompts)
        self.__module__ = module  # where it was registered, for clash messages
        self.__name__ = modality

    def __repr__(self) -> str:
        return f'PromptSet({self.modality!r}, {self.prompts!r})'


def register_prompts(modality: str, prompts: Sequence[str]) -> None:
    """Declare a modality's default prompts (the first is the one used at evaluation)."""
    if isinstance(prompts, str) or not all(isinstance(p, str) for p in prompts):
        raise TypeError(f'register_prompts({modality!r}): give a list of strings')
    caller = sys._getframe(1).f_globals.get('__name__', '?')
    PROMPT_SETS._register_module(PromptSet(modality, prompts, caller), module_name=modality)


class _DefaultPrompts(MappingABC):
    """Read-only ``{modality: [prompt, ...]}`` view of the registered prompt sets."""

    def __getitem__(self, modality: str) -> list[str]:
        try:
            return list(PROMPT_SETS.get(modality).prompts)
        except UnknownTypeError:
            raise KeyError(modality) from None

    def __iter__(self) -> Iterator[str]:
        from allspark import plugins

        plugins.import_all_plugins()  # every modality's prompts, lazy plugins included
        return iter(sorted(set(PROMPT_SETS._module_dict)))

    def __len__(self) -> int:
        from allspark import plugins

        plugins.import_all_plugins()
        return len(set(PROMPT_SETS._module_dict))


#: ``{modality: [prompt, ...]}`` registered by plugins (and the core for its own modalities).
DEFAULT_PROMPTS: Mapping[str, list[str]] = _DefaultPrompts()


@PROMPTS.register_module()
class PromptBank:
    """Args:
        prompts: ``{modality: [prompt, ...]}``; a modality may have an empty list (no prompt);
            modalities not listed use their registered defaults (``register_prompts``).
        seed: seed of the bank's own random generator (its state is saved with checkpoints).
    """

    def __init__(self, prompts: Optional[Mapping[str, Sequence[str]]] = None, seed: int = 0):
        self.prompts = {m: list(p) for m, p in (prompts or {}).items()}
        for modality, texts in self.prompts.items():
            if not all(isinstance(t, str) for t in texts):
                raise TypeError(f'PromptBank: prompts for {modality!r} must be strings')
        self.rng = random.Random(seed)

    def select(self, modalities: Sequence[str], training: bool) -> str:
        """One prompt string for the modalities present (random in training, first otherwise)."""
        chosen = []
        for modality in modalities:
            texts = self.prompts.get(modality, DEFAULT_PROMPTS.get(modality)) or []
            if texts:
                chosen.append(self.rng.choice(texts) if training else texts[0])
        return ' '.join(chosen)

    def state_dict(self) -> dict:
        state = self.rng.getstate()
        return {'version': state[0], 'state': list(state[1]), 'gauss': state[2]}

    def load_state_dict(self, state: dict) -> None:
        self.rng.setstate((state['version'], tuple(state['state']), state['gauss']))
