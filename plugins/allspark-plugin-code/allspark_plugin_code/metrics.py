"""``CaptionBLEUMetric``: smoothed sentence BLEU-4 (CodeXGLUE code-to-text's metric), in %."""
from __future__ import annotations

import math
import re
from collections import Counter
from typing import Sequence

from mmengine.evaluator import BaseMetric

from allspark.registry import METRICS

_WORD = re.compile(r"[A-Za-z0-9_]+|[^\sA-Za-z0-9_]")


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def sentence_bleu(reference: str, hypothesis: str, max_n: int = 4) -> float:
    """BLEU-4 of one sentence with add-one smoothing for n > 1 (Lin & Och 2004), in [0, 1]."""
    ref, hyp = _tokens(reference), _tokens(hypothesis)
    if not hyp or not ref:
        return 0.0
    log_p = 0.0
    for n in range(1, max_n + 1):
        h = Counter(tuple(hyp[i:i + n]) for i in range(len(hyp) - n + 1))
        r = Counter(tuple(ref[i:i + n]) for i in range(len(ref) - n + 1))
        match = sum(min(c, r[g]) for g, c in h.items())
        total = max(len(hyp) - n + 1, 0)
        add = 0 if n == 1 else 1
        if match + add == 0 or total + add == 0:
            return 0.0
        log_p += math.log((match + add) / (total + add)) / max_n
    bp = 1.0 if len(hyp) > len(ref) else math.exp(1 - len(ref) / len(hyp))
    return bp * math.exp(log_p)


@METRICS.register_module()
class CaptionBLEUMetric(BaseMetric):
    """Reads ``pred_text`` and the reference ``target_key`` of each prediction."""

    default_prefix = ''

    def __init__(self, target_key: str = 'doc', **kwargs):
        super().__init__(**kwargs)
        self.target_key = target_key

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            self.results.append(sentence_bleu(s[self.target_key], s['pred_text']))

    def compute_metrics(self, results: list) -> dict:
        return dict(bleu4=100.0 * sum(results) / max(len(results), 1))
