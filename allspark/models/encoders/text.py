"""``TextEncoder``: text straight into the language model (its own tokenizer and embeddings).

The paper feeds text to the language model directly; pair this encoder with a
``LinearBridge`` (an identity at the language model's width) to keep every word token, or with a
``PerceiverBridge`` to resample long texts to a few tokens.

Long texts: ``truncation='head'`` keeps the first ``max_length`` tokens; ``'head_tail'`` keeps the
first ``head_ratio`` of the budget and the end of the text (reviews often conclude at the end).
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from allspark.registry import ENCODERS


def _special_tokens_around(tok) -> tuple[list[int], list[int]]:
    """The special token ids the tokenizer puts before and after one text (``[CLS]``/``[SEP]``
    for BERT, none for GPT-2).  Found by encoding a probe with and without specials, since
    ``build_inputs_with_special_tokens`` is gone from recent ``transformers`` tokenizers."""
    probe = 'hello'
    plain = tok(probe, add_special_tokens=False)['input_ids']
    full = tok(probe, add_special_tokens=True)['input_ids']
    for start in range(len(full) - len(plain) + 1):
        if full[start:start + len(plain)] == plain:
            return list(full[:start]), list(full[start + len(plain):])
    return [], []


@ENCODERS.register_module()
class TextEncoder(nn.Module):
    """Texts ``list[str]`` (B) -> word embeddings ``(B, T, D)`` + padding mask ``(B, T)``."""

    uses_language_model = True

    def __init__(self, max_length: int = 256, truncation: str = 'head', head_ratio: float = 0.25):
        super().__init__()
        if truncation not in ('head', 'head_tail'):
            raise ValueError(f"TextEncoder: truncation must be 'head' or 'head_tail', "
                             f"got {truncation!r}")
        self.max_length, self.truncation, self.head_ratio = max_length, truncation, head_ratio
        self._lm: list = []  # not a submodule: the language model's weights live in AllSpark
        self.out_dim = None

    def bind_language_model(self, language_model: nn.Module) -> None:
        self._lm = [language_model]
        self.out_dim = language_model.hidden_size

    @property
    def language_model(self) -> nn.Module:
        if not self._lm:
            raise RuntimeError('TextEncoder is not bound to a language model (AllSpark binds it)')
        return self._lm[0]

    def token_ids(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Tokenise with the configured truncation: ``(ids (B, T), attention mask (B, T))``."""
        tok = self.language_model.tokenizer
        if self.truncation == 'head':
            enc = tok(list(texts), padding=True, truncation=True, max_length=self.max_length,
                      return_tensors='pt')
            return enc['input_ids'], enc['attention_mask']
        prefix, suffix = _special_tokens_around(tok)
        budget = self.max_length - len(prefix) - len(suffix)  # room for [CLS]/[SEP] specials
        n_head = int(budget * self.head_ratio)
        rows = []
        for text in texts:
            ids = tok(text, add_special_tokens=False)['input_ids']
            if len(ids) > budget:
                ids = ids[:n_head] + ids[len(ids) - (budget - n_head):]
            rows.append(prefix + list(ids) + suffix)
        length = max(len(r) for r in rows)
        pad = tok.pad_token_id or 0
        ids = torch.full((len(rows), length), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), length), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = torch.tensor(r)
            mask[i, :len(r)] = 1
        return ids, mask

    def forward(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        if isinstance(texts, str):
            raise TypeError('TextEncoder expects a batch (list) of strings, got one string')
        ids, mask = self.token_ids(texts)
        device = self.language_model.input_embeddings().weight.device
        tokens = self.language_model.embed_ids(ids.to(device))
        return tokens, ~mask.bool().to(device)
