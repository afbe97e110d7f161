"""Classic baselines for text classification, run on exactly the same split as AllSpark.

* ``tfidf_logreg``: TF-IDF of word 1-2 grams + logistic regression (scikit-learn).
* ``frozen_lm_logreg``: the frozen language model's mean-pooled token outputs (the
  sentence-transformers embedding of all-MiniLM-L6-v2) + logistic regression.
"""
from __future__ import annotations

import time
from typing import Sequence

import numpy as np
import torch


def tfidf_logreg(train_texts: Sequence[str], train_labels: Sequence[int],
                 test_texts: Sequence[str], seed: int = 0) -> dict:
    """Fit on the training texts; returns predictions, training and inference wall time."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    t0 = time.perf_counter()
    clf = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
                        LogisticRegression(C=10.0, max_iter=2000, random_state=seed))
    clf.fit(list(train_texts), list(train_labels))
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pred = clf.predict(list(test_texts))
    return dict(pred=np.asarray(pred), train_s=train_s, infer_s=time.perf_counter() - t0)


@torch.no_grad()
def mean_pooled_embeddings(language_model, encoder, texts: Sequence[str],
                           batch_size: int = 32) -> np.ndarray:
    """``(N, D)`` mean over the real tokens of the frozen model's outputs, no prompt; texts are
    tokenised by ``encoder`` (a ``TextEncoder`` bound to ``language_model``), so the truncation
    is the same as AllSpark's."""
    language_model.eval()
    out = []
    order = np.argsort([len(t) for t in texts])  # similar lengths together: less padding
    for start in range(0, len(texts), batch_size):
        idx = order[start:start + batch_size]
        ids, mask = encoder.token_ids([texts[i] for i in idx])
        embeds = language_model.embed_ids(ids)
        tokens = language_model(embeds, mask)
        w = mask.unsqueeze(-1).to(tokens.dtype)
        out.append(((tokens * w).sum(1) / w.sum(1).clamp_min(1)).numpy())
    emb = np.empty((len(texts), out[0].shape[1]), dtype=np.float32)
    emb[order] = np.concatenate(out)
    return emb


def frozen_lm_logreg(language_model, encoder, train_texts: Sequence[str],
                     train_labels: Sequence[int], test_texts: Sequence[str],
                     seed: int = 0) -> dict:
    from sklearn.linear_model import LogisticRegression

    t0 = time.perf_counter()
    x_train = mean_pooled_embeddings(language_model, encoder, train_texts)
    clf = LogisticRegression(C=1.0, max_iter=5000, random_state=seed).fit(x_train, train_labels)
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    pred = clf.predict(mean_pooled_embeddings(language_model, encoder, test_texts))
    return dict(pred=np.asarray(pred), train_s=train_s, infer_s=time.perf_counter() - t0)
