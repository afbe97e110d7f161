"""Retrieval baselines scored with the core's ``retrieval_scores`` (same protocol as AllSpark).

* ``tfidf_retrieval``: TF-IDF vectors of code and documentation (one vocabulary, word tokens
  with identifiers split on ``_`` and camelCase), cosine similarity.
* ``frozen_lm_embeddings``: the frozen language model's mean-pooled outputs (the
  sentence-transformers embedding of all-MiniLM-L6-v2), no prompt.
"""
from __future__ import annotations

import re
from typing import Sequence

import numpy as np
import torch

_CAMEL = re.compile(r'(?<=[a-z0-9])(?=[A-Z])')


def _words(text: str) -> str:
    return ' '.join(_CAMEL.sub(' ', text).replace('_', ' ').split())


def tfidf_retrieval(codes: Sequence[str], docs: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """L2-normalised TF-IDF ``(doc queries (N, V), code keys (N, V))`` (fitted on the pool)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(lowercase=True, token_pattern=r'[A-Za-z][A-Za-z0-9]+',
                          sublinear_tf=True)
    vec.fit([_words(t) for t in list(codes) + list(docs)])
    q = vec.transform([_words(t) for t in docs])
    k = vec.transform([_words(t) for t in codes])
    return torch.from_numpy(q.toarray()).float(), torch.from_numpy(k.toarray()).float()


@torch.no_grad()
def frozen_lm_embeddings(language_model, encoder, texts: Sequence[str],
                         batch_size: int = 32) -> torch.Tensor:
    """``(N, D)`` L2-normalised mean over real tokens; ``encoder`` is a bound ``TextEncoder``."""
    language_model.eval()
    order = np.argsort([len(t) for t in texts])
    out = torch.empty(len(texts), language_model.hidden_size)
    for start in range(0, len(texts), batch_size):
        idx = order[start:start + batch_size]
        ids, mask = encoder.token_ids([texts[i] for i in idx])
        tokens = language_model(language_model.embed_ids(ids), mask)
        w = mask.unsqueeze(-1).to(tokens.dtype)
        out[torch.as_tensor(idx)] = (tokens * w).sum(1) / w.sum(1).clamp_min(1)
    return torch.nn.functional.normalize(out, dim=-1)
