"""Classic baseline for the PRSA task: scikit-learn's ``HistGradientBoostingRegressor``.

Features (``BASELINE_FEATURES``): year, month, day, hour, station, SO2, NO2, CO, O3, TEMP, PRES,
DEWP, RAIN, wd, WSPM: the same inputs as the AllSpark model; station and wind direction are
categorical (ordinal codes from the training split), missing inputs stay NaN (the trees' native
missing-value handling).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from allspark_plugin_table.dataset import BASELINE_FEATURES, TARGET

CATEGORICAL = ('station', 'wd')


def baseline_matrix(frame: pd.DataFrame, vocab: dict) -> np.ndarray:
    """``(N, F)`` float matrix; categorical columns as codes of ``vocab`` (unknown -> NaN)."""
    cols = []
    for name in BASELINE_FEATURES:
        if name in CATEGORICAL:
            lookup = {v: i for i, v in enumerate(vocab[name])}
            cols.append(frame[name].map(lookup).to_numpy(dtype=np.float64))
        else:
            cols.append(frame[name].to_numpy(dtype=np.float64))
    return np.stack(cols, 1)


def fit_gradient_boosting(train: pd.DataFrame, max_iter: int = 500, seed: int = 0):
    """Fit the baseline on a training frame; returns ``(model, vocab)``."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    vocab = {c: sorted(train[c].dropna().unique().tolist()) for c in CATEGORICAL}
    x = baseline_matrix(train, vocab)
    mask = [name in CATEGORICAL for name in BASELINE_FEATURES]
    model = HistGradientBoostingRegressor(max_iter=max_iter, early_stopping=False,
                                          categorical_features=mask, random_state=seed)
    model.fit(x, train[TARGET].to_numpy(dtype=np.float64))
    return model, vocab
