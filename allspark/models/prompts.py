"""``PromptBank``: per-modality text prompts.

Training picks a random prompt per forward (one for the whole batch); evaluation always uses the
first one, so results are deterministic.  Prompts for several modalities present in one sequence
are joined with a space in the order the modalities are configured.

Plugins register their modality's prompts (the paper's Table XVI) with :func:`register_prompts`;
a ``PromptBank`` uses them for every modality its config does not list.
"""
from __future__ import annotations

import random
from typing import Mapping, Optional, Sequence

from allspark.registry import PROMPTS

#: ``{modality: [prompt, ...]}`` registered by plugins (and the core for its own modalities).
DEFAULT_PROMPTS: dict[str, list[str]] = {}


def register_prompts(modality: str, prompts: Sequence[str]) -> None:
    """Declare a modality's default prompts (the first is the one used at evaluation)."""
    if isinstance(prompts, str) or not all(isinstance(p, str) for p in prompts):
        raise TypeError(f'register_prompts({modality!r}): give a list of strings')
    DEFAULT_PROMPTS[modality] = list(prompts)


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
