"""How many requests a tail percentile rests on, and how to say so. Pure functions.

A trial's p99 is read from its requests' latencies. With n requests, about n x 1% lie above the p99: below
ten of them the "p99" is one of the last few requests, and below one it is simply the slowest request. So
every tail percentile the report shows names the requests it rests on, and one from fewer than
MIN_TAIL_SAMPLES requests above it (1,000 requests for p99, 10,000 for p99.9) is marked as such, never shown
as a plain p99.
"""

from __future__ import annotations

import math

MIN_TAIL_SAMPLES = 10  # requests above a percentile for it to be shown as that percentile


def samples_needed(quantile: float) -> int:
    """Return the fewest requests a percentile (0.99 for p99) needs: 1,000 for p99, 10,000 for p99.9."""
    return math.ceil(MIN_TAIL_SAMPLES / (1 - quantile) - 1e-9)


def enough_samples(samples: int, *, quantile: float) -> bool:
    """Return whether samples requests are enough to show their percentile at quantile as such."""
    return samples >= samples_needed(quantile)


def percentile_label(samples: int, *, quantile: float, name: str = "p99") -> str:
    """Return what to write beside a percentile: "n=12,345", or why it is not one ("max of 12 requests",
    "n=130, too few for a p99")."""
    if samples <= 0:
        return "no requests"
    if enough_samples(samples, quantile=quantile):
        return f"n={samples:,}"
    if samples * (1 - quantile) < 1:
        return f"max of {samples:,} requests"
    return f"n={samples:,}, too few for a {name}"
