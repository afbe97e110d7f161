"""Small statistics for reporting results honestly on small test sets."""
from __future__ import annotations

import math


def wilson_interval(correct: int, total: int, z: float = 1.959964) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion ``correct / total``, in percent."""
    if total == 0:
        return float('nan'), float('nan')
    p = correct / total
    denom = 1 + z ** 2 / total
    centre = (p + z ** 2 / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z ** 2 / (4 * total ** 2)) / denom
    return 100 * max(0.0, centre - half), 100 * min(1.0, centre + half)
