"""FSDP through mmengine's ``FlexibleRunner`` + ``FSDPStrategy`` (issue 16): language models that
do not fit one GPU.

Select it with ``strategy = dict(type='FSDPStrategy', ...)`` in a config or ``allspark train
CONFIG --launcher pytorch --strategy fsdp``; ``build_runner`` then builds a ``FlexibleRunner``
instead of a ``Runner`` (``docs/distributed.md``).  All the distribution is mmengine's and
torch's: ``MMFullyShardedDataParallel`` wraps the model, FSDP shards it.  What AllSpark adds,
in the ``allspark`` scope under the same name (as ``SafeCheckpointHook`` is registered as
``CheckpointHook``), is :class:`AllSparkFSDPStrategy`, mmengine's strategy with defaults that
fit AllSpark models:

* ``use_orig_params=True``: one FSDP unit may hold frozen and trainable parameters (the frozen
  LM's embeddings sit in the root unit with the trainable bridges and head; LoRA adapters sit
  inside frozen layers), which FSDP refuses otherwise;
* ``auto_wrap_policy`` = :func:`layer_wrap_policy`: every transformer layer of the language model
  (``transformers``' ``GradientCheckpointingLayer``), every timm ViT / EVA block and every block
  AllSpark checkpoints is its own FSDP unit, so only one layer is gathered at a time (without a
  policy the whole model is one unit and is gathered whole: no memory is saved); the language
  model's ``PreTrainedModel`` is a unit too (its embeddings and final norm), which the slim
  checkpoints need (the root unit's state-dict hook requires every one of its parameters), and
  so are its input embeddings (read outside the LM's forward, for the prompt), unless tied to a
  causal LM head;
* ``state_dict_cfg='full'``: rank 0 writes one ordinary checkpoint file (gathered on the CPU),
  the same format as a single-process or DDP run: slim (no frozen LM weights, the LM's identity
  in ``language_model._extra_state``), found by ``--resume``, readable by ``allspark test``
  without FSDP.  mmengine's default, ``'local'``, writes a folder of per-rank shards instead;
  AllSpark's resume finder and checkpoint checks do not read those (``docs/distributed.md``);
* the language model's identity (SHA-256 of its frozen weights) is taken *before* the weights
  are sharded (each rank then holds only a slice);
* without a GPU: ``device_id=cpu`` (mmengine passes the local rank, a CUDA device index), so
  FSDP runs on CPUs with gloo (tests, small runs);
* gradient clipping by norm (``optim_wrapper.clip_grad=dict(max_norm=...)``) takes the norm over
  all ranks' shards (``FSDP.clip_grad_norm_``), as DDP does, instead of each rank's own;
* resume works: mmengine 0.10.7 passes ``FSDP.optim_state_dict_to_load`` its arguments in the
  order of torch < 2.1 (fixed here).

Any of these can be overridden in the config (``model_wrapper=dict(...)``,
``state_dict_cfg='local'``); ``type='mmengine.FSDPStrategy'`` gets mmengine's class unchanged.
"""
from __future__ import annotations

import sys
from typing import Optional, Union

import torch
from mmengine._strategy import FSDPStrategy
from torch import nn

from allspark.registry import _QUIET_CHILDREN

STRATEGIES = _QUIET_CHILDREN['STRATEGIES']
#: ``--strategy`` values of ``allspark train``
STRATEGY_CHOICES = {'fsdp': 'FSDPStrategy', 'ddp': 'DDPStrategy'}


def is_fsdp_unit(module: nn.Module) -> bool:
    """Whether :func:`layer_wrap_policy` makes ``module`` an FSDP unit of its own."""
    from allspark.models.checkpointing import is_checkpointed

    if getattr(module, 'allspark_fsdp_unit', False) or is_checkpointed(module):
        return True
    modeling = sys.modules.get('transformers.modeling_utils')
    if modeling is not None and isinstance(module, modeling.PreTrainedModel):
        # the whole language model is a unit too: its frozen weights then live in units inside
        # HFLanguageModel, whose slim state dict may leave them out (the root unit's own
        # state-dict hook insists on finding every parameter of the root unit)
        return True
    layers = sys.modules.get('transformers.modeling_layers')
    if layers is not None and isinstance(module, layers.GradientCheckpointingLayer):
        return True
    for name, cls in (('timm.models.vision_transformer', 'Block'),
                      ('timm.models.eva', 'EvaBlock')):
        mod = sys.modules.get(name)
        if mod is not None and isinstance(module, getattr(mod, cls, ())):
            return True
    return False


def layer_wrap_policy(module: nn.Module, recurse: bool, nonwrapped_numel: int) -> bool:
    """FSDP auto-wrap policy: one unit per language-model layer / encoder block (see
    :func:`is_fsdp_unit`; a module with ``allspark_fsdp_unit = True`` is one too)."""
    return True if recurse else is_fsdp_unit(module)


def unwrap_fsdp(model: nn.Module) -> Optional[nn.Module]:
    """The FSDP root of ``model`` if it is FSDP-wrapped, else None."""
    from torch.distributed.fsdp import FullyShardedDataParallel

    return model if isinstance(model, FullyShardedDataParallel) else None


def _fsdp_clip_grad_norm(root: nn.Module):
    """An ``OptimWrapper.clip_func`` for an FSDP ``root``: the norm over every rank's shards."""
    def clip(params, max_norm: float, norm_type: float = 2.0, **ignored):
        return root.clip_grad_norm_(max_norm, norm_type)
    return clip


def mark_input_embeddings(lm: nn.Module) -> bool:
    """Make the language model's input embeddings an FSDP unit of their own: the prompt (and
    ``TextEncoder``) read them outside the language model's forward, where a unit's weights are
    sharded.  Not when they are tied to the output embeddings (a causal LM head): a parameter
    cannot be in two units; returns whether they were marked."""
    embeddings = lm.input_embeddings()
    hf = lm._transformers_model()
    output = hf.get_output_embeddings() if hasattr(hf, 'get_output_embeddings') else None
    if output is not None and getattr(output, 'weight', None) is embeddings.weight:
        return False
    embeddings.allspark_fsdp_unit = True
    return True


@STRATEGIES.register_module(name='FSDPStrategy')
class AllSparkFSDPStrategy(FSDPStrategy):
    """mmengine's ``FSDPStrategy`` with AllSpark's defaults (module docstring).

    Args:
        model_wrapper: ``MMFullyShardedDataParallel`` arguments; given keys replace the defaults
            ``use_orig_params=True``, ``auto_wrap_policy=layer_wrap_policy`` (and, without a GPU,
            ``device_id=cpu``).
        state_dict_cfg: ``'full'`` (default here: one ordinary checkpoint file from rank 0) or
            ``'local'`` / a dict, as in mmengine.
        **kwargs: the rest of mmengine's ``FSDPStrategy`` (``skip_init_weights``,
            ``activation_checkpointing``, ...).
    """

    def __init__(self, *, model_wrapper: Optional[dict] = None,
                 state_dict_cfg: Union[str, dict] = 'full', **kwargs):
        wrapper = dict(type='MMFullyShardedDataParallel', use_orig_params=True)
        wrapper.update(model_wrapper or {})
        super().__init__(model_wrapper=wrapper, state_dict_cfg=state_dict_cfg, **kwargs)

    def build_optim_wrapper(self, optim_wrapper, model=None):
        """As mmengine's, and gradient clipping by norm uses ``FSDP.clip_grad_norm_``: mmengine's
        ``OptimWrapper`` calls ``torch.nn.utils.clip_grad_norm_`` on each rank's own gradient
        shards, i.e. with a different, too small norm on every rank (measured on the quickstart:
        3.68 where DDP's is 4.95), which clips each shard by another factor."""
        wrapper = super().build_optim_wrapper(optim_wrapper, model)
        root = model if model is not None else getattr(self, 'model', None)
        for one in (wrapper.values() if hasattr(wrapper, 'values') else [wrapper]):
            if getattr(one, 'clip_func', None) is torch.nn.utils.clip_grad_norm_ \
                    and hasattr(root, 'clip_grad_norm_'):
                one.clip_func = _fsdp_clip_grad_norm(root)
        return wrapper

    def load_optim_state_dict(self, state_dict: dict) -> None:
        """As mmengine's, with torch's argument order: mmengine 0.10.7 calls
        ``FSDP.optim_state_dict_to_load(state_dict, model, optim)``, the order of torch < 2.1,
        which fails on resume (``TypeError: unhashable type: 'dict'``) under torch 2.x."""
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

        optim_state_dict = FSDP.optim_state_dict_to_load(
            model=self.model, optim=self.optim_wrapper.optimizer, optim_state_dict=state_dict)
        self.optim_wrapper.load_state_dict(optim_state_dict)

    def _wrap_model(self, model: nn.Module) -> nn.Module:
        from allspark.models.language_model import HFLanguageModel

        for module in model.modules():  # before sharding: each rank will hold a slice only
            if isinstance(module, HFLanguageModel):
                module.record_identity()
                mark_input_embeddings(module)
        self.model_wrapper = dict(self.model_wrapper)
        self.model_wrapper.setdefault('auto_wrap_policy', layer_wrap_policy)
        if not torch.cuda.is_available():
            self.model_wrapper.setdefault('device_id', torch.device('cpu'))
        wrapped = super()._wrap_model(model)
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

        self.logger.info(
            f'FSDP: {type(wrapped).__name__} with {len(FSDP.fsdp_modules(wrapped))} units, '
            f'use_orig_params={self.model_wrapper.get("use_orig_params")}, state dict '
            f'{self.state_dict_type.name}, device {self.model_wrapper.get("device_id", "cuda")}')
        return wrapped
