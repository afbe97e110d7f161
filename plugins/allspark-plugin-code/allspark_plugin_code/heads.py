"""``CodeCaptionHead``: documentation generation through a causal language model's own decoder.

The language model reads ``[prompt ; bridged code tokens]`` (the AllSpark sequence) and continues
it with the documentation:

* training: teacher forcing, cross-entropy of the next-token logits of the language model's own
  LM head over the documentation tokens (+ end-of-text), given the prefix;
* prediction: greedy decoding after the prefix (``HFLanguageModel.generate``).

Needs a causal language model (``HFLanguageModel.is_causal``; e.g. GPT-2): the embedded MiniLM is
an encoder without a decoder, and building the head with it is an error.  Use a bridge without
padding holes in the prefix (``PerceiverBridge``): the prefix is then all real tokens.
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F

from allspark.models.heads.base import BaseHead
from allspark.registry import HEADS


@HEADS.register_module()
class CodeCaptionHead(BaseHead):
    """Args:
        target_key: the data-sample field holding the reference text (``'doc'``).
        max_target_tokens: teacher-forcing length (documentation tokens, end-of-text included).
        max_new_tokens: greedy-decoding length at prediction.

    Shapes: features ``embeds (B, T, D)`` + ``mask (B, T)`` -> logits ``(B, L, V)`` over the
    target; predictions add ``pred_text`` (str).
    """

    def __init__(self, in_dim: int, target_key: str = 'doc', max_target_tokens: int = 48,
                 max_new_tokens: int = 32, source: str = 'bridged'):
        super().__init__(in_dim, source)
        self.target_key = target_key
        self.max_target_tokens, self.max_new_tokens = max_target_tokens, max_new_tokens
        self._lm: list = []  # not a submodule: the language model's weights live in AllSpark

    def bind_language_model(self, language_model) -> None:
        if not getattr(language_model, 'is_causal', False):
            raise ValueError(f'CodeCaptionHead needs a causal language model with a decoder '
                             f'(e.g. GPT-2); {language_model.name_or_path} has none. Set '
                             f'model.language_model to a causal model or use RetrievalHead.')
        self._lm = [language_model]

    @property
    def language_model(self):
        if not self._lm:
            raise RuntimeError('CodeCaptionHead is not bound to a language model')
        return self._lm[0]

    def _targets(self, texts: Sequence[str], device) -> tuple[torch.Tensor, torch.Tensor]:
        """Target ids ``(B, L)`` (end-of-text appended) and their mask ``(B, L)``."""
        tok = self.language_model.tokenizer
        eos = tok.eos_token_id if tok.eos_token_id is not None else tok.sep_token_id
        rows = []
        for text in texts:
            ids = tok(text, add_special_tokens=False)['input_ids'][:self.max_target_tokens - 1]
            rows.append(list(ids) + ([eos] if eos is not None else []))
        length = max(len(r) for r in rows)
        ids = torch.full((len(rows), length), tok.pad_token_id or 0, dtype=torch.long)
        mask = torch.zeros((len(rows), length), dtype=torch.bool)
        for i, r in enumerate(rows):
            ids[i, :len(r)] = torch.tensor(r, dtype=torch.long)
            mask[i, :len(r)] = True
        return ids.to(device), mask.to(device)

    def forward(self, features: dict, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor,
                                                                     torch.Tensor]:
        """Teacher-forced logits ``(B, L, V)`` of the targets, their ids and mask ``(B, L)``."""
        if 'embeds' not in features:
            raise KeyError("CodeCaptionHead reads features['embeds'] (the language model's input "
                           "sequence); use AllSpark(fusion='joint')")
        prefix, prefix_mask = features['embeds'], features['mask'].bool()
        ids, mask = self._targets(texts, prefix.device)
        lm = self.language_model
        seq = torch.cat([prefix, lm.embed_ids(ids).to(prefix.dtype)], dim=1)
        att = torch.cat([prefix_mask, mask], dim=1).long()
        logits = lm.model(inputs_embeds=seq, attention_mask=att).logits
        t = prefix.shape[1]
        return logits[:, t - 1:t - 1 + ids.shape[1]], ids, mask

    def loss(self, features: dict, data_samples: list[dict]) -> dict:
        texts = [s[self.target_key] for s in data_samples]
        logits, ids, mask = self(features, texts)
        labels = ids.masked_fill(~mask, -100)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), labels.reshape(-1),
                               ignore_index=-100)
        return dict(loss_caption=loss)

    @torch.no_grad()
    def predict(self, features: dict, data_samples: list[dict]) -> list[dict]:
        texts = self.language_model.generate(features['embeds'], features['mask'].long(),
                                             max_new_tokens=self.max_new_tokens)
        out = []
        for sample, text in zip(data_samples, texts):
            result = dict(sample)
            result['pred_text'] = text.strip()
            out.append(result)
        return out
