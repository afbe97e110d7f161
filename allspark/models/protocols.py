"""The contracts between ``AllSpark`` and its components: encoder, bridge, task head.

``AllSpark`` builds each component from the registries and checks it against these protocols
right away (:func:`check_component`), so a component that lacks a member fails at build time
with a message naming its type and what is missing, not with an ``AttributeError`` deep inside
the first training step.  The protocols are ``runtime_checkable``: ``isinstance`` only checks
that the members exist, the shapes below are the documented contract (tested by the model at
run time where it is cheap, e.g. the encoder's token width).

Data flow for one modality (``B`` samples)::

    encoder(x)                     (B, n, d)            [or ((B, n, d), pad (B, n) bool)]
    bridge(tokens, pad)            ((B, N, D), pad (B, N) bool | None)
    language model                 features dict (see ``allspark.models.heads.base``)
    head.loss(features, samples)   {'loss_...': scalar tensor, ...}
    head.predict(features, samples) list of per-sample dicts

``d`` is the encoder's ``out_dim`` and ``D`` the language model's width; the bridge's
``in_dim``/``out_dim`` and the head's ``in_dim`` are filled in from them by the model.

Optional capabilities are separate protocols, checked with ``isinstance`` where the model uses
them: :class:`BindsLanguageModel` (encoders and heads that tokenise or decode with the frozen
language model), :class:`PoolingEncoder` (``fusion='direct'``), :class:`TakesTargetStats`
(regression heads that standardise their targets).
"""
from __future__ import annotations

from typing import Any, Optional, Protocol, Union, runtime_checkable

import torch

__all__ = ['Encoder', 'PoolingEncoder', 'Bridge', 'Head', 'BindsLanguageModel',
           'TakesTargetStats', 'missing_members', 'check_component']


@runtime_checkable
class Encoder(Protocol):
    """A modality encoder (``ENCODERS``).

    ``out_dim``: the width ``d`` of its tokens (an ``int`` attribute, set in ``__init__``).
    ``forward(x)``: a batch of ``B`` inputs (a tensor ``(B, ...)``, a list of ``B`` strings, or a
    dict of such) -> tokens ``(B, n, d)``, or ``(tokens (B, n, d), pad (B, n) bool)`` with
    ``True`` marking padding tokens when samples have different numbers of tokens.
    """

    out_dim: int

    def forward(self, x: Any) -> Union[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]: ...


@runtime_checkable
class PoolingEncoder(Encoder, Protocol):
    """An encoder with its own pooling, used by ``fusion='direct'`` (else a masked mean).

    ``pool(tokens (B, n, d)) -> (B, d)``.
    """

    def pool(self, tokens: torch.Tensor) -> torch.Tensor: ...


@runtime_checkable
class Bridge(Protocol):
    """A modal bridge (``BRIDGES``): encoder tokens -> the language model's width.

    Built with ``in_dim=d`` (the encoder's ``out_dim``) and ``out_dim=D`` (the language model's
    width).  ``forward(tokens (B, n, d), pad (B, n) bool | None) -> (bridged (B, N, D),
    pad (B, N) bool | None)``; ``N`` may differ from ``n`` (e.g. ``N`` learned queries).
    """

    def forward(self, tokens: torch.Tensor, pad: Optional[torch.Tensor] = None
                ) -> tuple[torch.Tensor, Optional[torch.Tensor]]: ...


@runtime_checkable
class Head(Protocol):
    """A task head (``HEADS``), built with ``in_dim=D``.

    ``loss(features, data_samples) -> {'loss_<name>': scalar tensor, ...}`` (other entries are
    logged); ``predict(features, data_samples) -> list`` of ``B`` per-sample dicts for the
    evaluator.  ``features`` is the dict described in ``allspark.models.heads.base`` (``tokens
    (B, T, D)``, ``mask (B, T)``, ``segments``, ``embeds``), one per modality with
    ``fusion='separate'``, ``{m: dict(pooled=(B, d_m), present=(B,))}`` with ``'direct'``.
    ``supports_mixup``: whether ``loss`` handles the ``mix_gt_label`` / ``mix_lam`` fields a
    ``Mixup`` batch augment adds (the model refuses Mixup with a head that does not).
    """

    supports_mixup: bool

    def loss(self, features: dict, data_samples: list) -> dict: ...

    def predict(self, features: dict, data_samples: list) -> list: ...


@runtime_checkable
class BindsLanguageModel(Protocol):
    """An encoder or head that uses the frozen language model (its tokenizer, embeddings or
    decoder); the model calls ``bind_language_model(lm)`` once, right after building it."""

    def bind_language_model(self, language_model: Any) -> None: ...


@runtime_checkable
class TakesTargetStats(Protocol):
    """A head that standardises regression targets with training-split statistics
    (``mean``/``std`` of shape ``(out_dim,)``), copied in by ``apply_dataset_stats``."""

    def set_target_stats(self, mean: Any, std: Any) -> None: ...


def missing_members(obj: Any, protocol: type) -> list[str]:
    """The members of ``protocol`` (attributes and methods) that ``obj`` lacks."""
    names = [n for n in getattr(protocol, '__protocol_attrs__', None) or
             _protocol_attrs(protocol)]
    return sorted(n for n in names if not hasattr(obj, n))


def _protocol_attrs(protocol: type) -> set[str]:
    """Python 3.11's ``typing`` has no public ``__protocol_attrs__``; collect the annotated and
    defined members of the protocol and its protocol bases."""
    names: set[str] = set()
    for base in protocol.__mro__:
        if base is object or not getattr(base, '_is_protocol', False) or base is Protocol:
            continue
        names.update(getattr(base, '__annotations__', {}))
        names.update(n for n, v in vars(base).items()
                     if not n.startswith('_') and callable(v))
    return names


def check_component(obj: Any, protocol: type, role: str) -> None:
    """Raise ``TypeError`` naming ``role``, the type of ``obj`` and the members it lacks when it
    does not implement ``protocol``."""
    missing = missing_members(obj, protocol)
    if missing:
        raise TypeError(f'{role}: {type(obj).__name__} does not implement the {protocol.__name__} '
                        f'protocol: missing {missing} (the contract, with shapes: '
                        f'allspark.models.protocols.{protocol.__name__})')
