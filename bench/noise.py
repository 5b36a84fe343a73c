"""The measure of noise that the report and the gate share (the coefficient of variation of a sample), and the
report's practical margin of a verdict."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

# The report calls one app ahead of another only when the whole interval of their ratio lies beyond 1 + this:
# runs on different days differ by more than a run's own noise (docs/methodology.md, "Repeatability").
TIE_MARGIN = 0.05


def coefficient_of_variation(values: Sequence[float]) -> float:
    """Return the sample standard deviation over the mean (NaN below two values)."""
    if len(values) < 2:
        return math.nan
    mean = float(np.mean(values))
    return float(np.std(values, ddof=1)) / mean if mean > 0 else math.nan
