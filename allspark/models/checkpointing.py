"""Gradient (activation) checkpointing for modality encoders: ``encoder=dict(...,
grad_checkpointing=True)`` in a config.

``AllSpark`` takes the key out of the encoder's config (so every encoder, a plugin's included,
accepts it) and calls :func:`enable_encoder_grad_checkpointing` on the built encoder:

1. an encoder with its own ``set_grad_checkpointing(enable)`` (timm's convention; the RGB
   plugin's ``TimmTokenEncoder`` passes it to its timm backbone) is asked to do it;
2. else a child ``backbone`` / ``model`` / ``encoder`` with ``set_grad_checkpointing`` (a timm
   model kept as an attribute);
3. else the generic fallback: the encoder's repeated blocks (the first ``nn.ModuleList`` /
   ``nn.Sequential`` named ``blocks`` or ``layers``, searched breadth-first) each run through
   ``torch.utils.checkpoint`` (``use_reentrant=False``) while training with gradients on.  The
   module tree and state-dict keys do not change (the block's own ``forward`` is wrapped on the
   instance), so checkpoints load either way;
4. else ``ValueError`` naming the encoder: nothing to checkpoint.

A frozen encoder that runs without gradients (``TimmTokenEncoder(frozen=True)``) stores no
activations in the first place: checkpointing it changes nothing.
"""
from __future__ import annotations

import types
from typing import Optional

import torch
import torch.utils.checkpoint
from torch import nn

BLOCK_LIST_NAMES = ('blocks', 'layers')
CHILD_NAMES = ('backbone', 'model', 'encoder')


def _checkpointed_forward(self: nn.Module, *args, **kwargs):
    forward = type(self).forward
    if self.training and torch.is_grad_enabled():
        return torch.utils.checkpoint.checkpoint(forward, self, *args, use_reentrant=False,
                                                 **kwargs)
    return forward(self, *args, **kwargs)


def checkpoint_module(module: nn.Module) -> None:
    """Recompute ``module``'s activations in the backward pass (training, gradients on)."""
    module.forward = types.MethodType(_checkpointed_forward, module)
    module._allspark_grad_checkpointing = True


def is_checkpointed(module: nn.Module) -> bool:
    return bool(getattr(module, '_allspark_grad_checkpointing', False))


def find_blocks(encoder: nn.Module) -> Optional[nn.Module]:
    """The first ``ModuleList`` / ``Sequential`` named ``blocks`` or ``layers`` (breadth-first)."""
    queue = [encoder]
    while queue:
        module = queue.pop(0)
        for name, child in module.named_children():
            if name in BLOCK_LIST_NAMES and isinstance(child, (nn.ModuleList, nn.Sequential)) \
                    and len(child) > 0:
                return child
        queue.extend(module.children())
    return None


def enable_encoder_grad_checkpointing(encoder: nn.Module, where: str = 'encoder') -> str:
    """Turn gradient checkpointing on for ``encoder``; returns how (for the log and tests)."""
    if callable(getattr(encoder, 'set_grad_checkpointing', None)):
        encoder.set_grad_checkpointing(True)
        return f'{type(encoder).__name__}.set_grad_checkpointing'
    for name in CHILD_NAMES:
        child = getattr(encoder, name, None)
        if isinstance(child, nn.Module) and callable(getattr(child, 'set_grad_checkpointing',
                                                             None)):
            child.set_grad_checkpointing(True)
            return f'{name}.set_grad_checkpointing'
    blocks = find_blocks(encoder)
    if blocks is None:
        raise ValueError(
            f'{where}: grad_checkpointing=True, but {type(encoder).__name__} has no '
            f'set_grad_checkpointing() and no blocks / layers list to checkpoint; remove the key '
            f'or give the encoder a set_grad_checkpointing(enable) method')
    for block in blocks:
        checkpoint_module(block)
    return f'{len(blocks)} blocks through torch.utils.checkpoint'
