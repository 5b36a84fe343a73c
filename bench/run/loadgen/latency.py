"""What the load generator measures of each request: a latency histogram, counts and kinds of failures.

Nothing here imports Locust (importing it monkey-patches the interpreter with gevent): the load generator
feeds LatencyRecorder from Locust's request event; the runner merges the recorders' messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hdrh.histogram import HdrHistogram

# Latencies are recorded in microseconds, from 1 µs to 10 minutes, with 3 significant digits: a real histogram
# where Locust's own statistics round to two significant digits.
LOWEST_US = 1
HIGHEST_US = 600_000_000
SIGNIFICANT_DIGITS = 3
PERCENTILES = {"p50": 50.0, "p90": 90.0, "p99": 99.0, "p999": 99.9}
# At most this many distinct failure kinds are kept; the rest are counted under OTHER_FAILURES.
MAX_FAILURE_KINDS = 20
OTHER_FAILURES = "other"
FAILURE_KIND_CHARS = 120


def new_histogram() -> HdrHistogram:
    """Return an empty latency histogram (microseconds)."""
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


def request_label(*, request_type: str, name: str) -> str:
    """Return the key a request is counted under: its method and its Locust name ("GET /api/items/[id]")."""
    return f"{request_type} {name}"


def name_of_label(label: str) -> str:
    """Return the Locust name of a request_label (names may hold spaces, methods do not)."""
    return label.partition(" ")[2]


def failure_kind(exception: BaseException) -> str:
    """Return a short, stable label for a failed request: the message a scenario gave, or the error's type."""
    if type(exception).__name__ == "CatchResponseError":  # response.failure("...") in a scenario
        return str(exception)[:FAILURE_KIND_CHARS]
    text = str(exception)
    # HTTP errors carry the status in their text ("HTTP 500 ..."): keep it short and without URLs.
    return f"{type(exception).__name__}: {text.split(' for url')[0]}"[:FAILURE_KIND_CHARS]


@dataclass
class LatencyRecorder:
    """Counts requests and failures and records successful response times, for one measured window.

    `on_request` has the signature of Locust's request event; `reset` starts the window over.
    """

    histogram: HdrHistogram = field(default_factory=new_histogram)
    requests: int = 0
    failures: int = 0
    failures_by_kind: dict[str, int] = field(default_factory=dict)
    requests_by_name: dict[str, int] = field(default_factory=dict)

    def on_request(
        self,
        *,
        request_type: str,
        name: str,
        response_time: float | None,
        exception: BaseException | None = None,
        **_: Any,
    ) -> None:
        self.requests += 1
        label = request_label(request_type=request_type, name=name)
        self.requests_by_name[label] = self.requests_by_name.get(label, 0) + 1
        if exception is not None:
            self.failures += 1
            kind = f"{label}: {failure_kind(exception)}"
            if kind not in self.failures_by_kind and len(self.failures_by_kind) >= MAX_FAILURE_KINDS:
                kind = OTHER_FAILURES
            self.failures_by_kind[kind] = self.failures_by_kind.get(kind, 0) + 1
            return
        if response_time is not None:
            # Response times arrive as float milliseconds, unrounded; record whole microseconds.
            self.histogram.record_value(min(HIGHEST_US, max(LOWEST_US, round(response_time * 1000))))

    def reset(self) -> None:
        self.histogram.reset()
        self.requests = 0
        self.failures = 0
        self.failures_by_kind = {}
        self.requests_by_name = {}

    def to_message(self) -> dict[str, Any]:
        """Return the recorder's state as plain data (what a Locust worker sends to its master)."""
        return {
            "histogram": self.histogram.encode().decode("ascii") if self.histogram.get_total_count() else "",
            "requests": self.requests,
            "failures": self.failures,
            "failures_by_kind": dict(self.failures_by_kind),
            "requests_by_name": dict(self.requests_by_name),
        }

    def add_message(self, message: dict[str, Any]) -> None:
        """Add the state of another recorder, as returned by its to_message()."""
        if message["histogram"]:
            self.histogram.decode_and_add(message["histogram"])
        self.requests += int(message["requests"])
        self.failures += int(message["failures"])
        for target, source in (
            (self.failures_by_kind, message["failures_by_kind"]),
            (self.requests_by_name, message["requests_by_name"]),
        ):
            for key, count in source.items():
                target[key] = target.get(key, 0) + int(count)

    def latency_summary(self) -> dict[str, float | None]:
        """Return the latency percentiles, mean and maximum in milliseconds (None when nothing succeeded)."""
        return latency_summary(self.histogram)


def latency_summary(histogram: HdrHistogram) -> dict[str, float | None]:
    """Return {p50, p90, p99, p999, mean, max} in milliseconds of a histogram in microseconds."""
    if histogram.get_total_count() == 0:
        return {key: None for key in (*PERCENTILES, "mean", "max")}
    summary: dict[str, float | None] = {
        key: histogram.get_value_at_percentile(percentile) / 1000 for key, percentile in PERCENTILES.items()
    }
    summary["mean"] = histogram.get_mean_value() / 1000
    summary["max"] = histogram.get_max_value() / 1000
    return summary
