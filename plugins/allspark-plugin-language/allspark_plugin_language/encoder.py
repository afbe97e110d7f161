"""The text modality has no encoder of its own: as in the AllSpark paper, text goes straight into
the language model through its own tokenizer and word embeddings, i.e. the core ``TextEncoder``
(``allspark/models/encoders/text.py``) with a ``LinearBridge`` (an identity at the language
model's width), so every word token reaches the language model.

Long texts (IMDB reviews: mean 232 words, max 1,364) are cut to ``max_length`` tokens by the
``TextEncoder``: ``truncation='head'`` keeps the beginning, ``'head_tail'`` keeps the first
``head_ratio`` of the budget and the end of the review (where the verdict usually is).  This
module adds :func:`truncation_report`, which measures how much of a corpus each choice cuts.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from allspark.models.encoders.text import TextEncoder

__all__ = ['TextEncoder', 'truncation_report', 'truncate_text']


def truncate_text(tokenizer, text: str, max_length: int, truncation: str = 'head_tail',
                  head_ratio: float = 0.25) -> str:
    """The text the ``TextEncoder`` keeps, decoded back to a string (for baselines that must
    see exactly the same words, e.g. TF-IDF on the truncated review)."""
    ids = tokenizer(text, add_special_tokens=False)['input_ids']
    budget = max_length - 2
    if len(ids) > budget:
        if truncation == 'head':
            ids = ids[:budget]
        else:
            n_head = int(budget * head_ratio)
            ids = ids[:n_head] + ids[len(ids) - (budget - n_head):]
    return tokenizer.decode(ids)


def truncation_report(tokenizer, texts: Sequence[str], max_length: int) -> dict:
    """Token-length statistics of ``texts`` and the share cut at ``max_length``."""
    lengths = np.array([len(tokenizer(t, add_special_tokens=False)['input_ids']) for t in texts])
    return dict(mean_tokens=float(lengths.mean()), median_tokens=float(np.median(lengths)),
                max_tokens=int(lengths.max()),
                share_truncated=float((lengths > max_length - 2).mean()),
                share_tokens_dropped=float(np.clip(lengths - (max_length - 2), 0, None).sum()
                                           / lengths.sum()))
