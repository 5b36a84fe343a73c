"""bench/run/loadgen/latency.py: the latency histogram, failure kinds, and recorders that add up."""

from __future__ import annotations

import pytest

from bench.run.loadgen.latency import MAX_FAILURE_KINDS, OTHER_FAILURES, LatencyRecorder, failure_kind


class CatchResponseError(Exception):
    """Stands for Locust's exception of the same name (what response.failure() raises)."""


def record(recorder: LatencyRecorder, milliseconds: float, exception: BaseException | None = None) -> None:
    recorder.on_request(request_type="GET", name="/x", response_time=milliseconds, exception=exception)


def test_percentiles_are_not_rounded_like_locusts() -> None:
    recorder = LatencyRecorder()
    for _ in range(100):
        record(recorder, 1.234)
    summary = recorder.latency_summary()
    # Locust would report 1 ms; the histogram keeps three significant digits.
    assert summary["p50"] == pytest.approx(1.234, rel=0.002)
    assert summary["max"] == pytest.approx(1.234, rel=0.002)


def test_percentiles_order_the_recorded_times() -> None:
    recorder = LatencyRecorder()
    for value in range(1, 1001):
        record(recorder, value / 100)  # 0.01 .. 10 ms
    summary = recorder.latency_summary()
    assert summary["p50"] == pytest.approx(5.0, rel=0.01)
    assert summary["p99"] == pytest.approx(9.9, rel=0.01)
    assert summary["p999"] == pytest.approx(9.99, rel=0.01)
    assert summary["max"] == pytest.approx(10.0, rel=0.01)


def test_failures_are_counted_by_kind_and_kept_out_of_the_latencies() -> None:
    recorder = LatencyRecorder()
    record(recorder, 1.0)
    record(recorder, 500.0, CatchResponseError("expected 200, got 500"))
    record(recorder, 500.0, CatchResponseError("expected 200, got 500"))
    assert (recorder.requests, recorder.failures) == (3, 2)
    assert recorder.failures_by_kind == {"GET /x: expected 200, got 500": 2}
    assert recorder.latency_summary()["max"] == pytest.approx(1.0, rel=0.01)
    assert recorder.requests_by_name == {"GET /x": 3}


def test_failure_kinds_are_capped() -> None:
    recorder = LatencyRecorder()
    for number in range(MAX_FAILURE_KINDS + 5):
        record(recorder, 1.0, CatchResponseError(f"kind {number}"))
    assert len(recorder.failures_by_kind) == MAX_FAILURE_KINDS + 1
    assert recorder.failures_by_kind[OTHER_FAILURES] == 5


def test_failure_kind_of_a_connection_error_is_its_type() -> None:
    assert failure_kind(ConnectionRefusedError("[Errno 111] Connection refused")).startswith(
        "ConnectionRefusedError"
    )
    assert failure_kind(CatchResponseError("wrong body")) == "wrong body"


def test_reset_starts_the_window_over() -> None:
    recorder = LatencyRecorder()
    record(recorder, 3.0, CatchResponseError("x"))
    record(recorder, 3.0)
    recorder.reset()
    assert (recorder.requests, recorder.failures, recorder.failures_by_kind) == (0, 0, {})
    assert recorder.latency_summary()["p50"] is None


def test_recorders_of_several_workers_add_up() -> None:
    first, second, total = LatencyRecorder(), LatencyRecorder(), LatencyRecorder()
    for _ in range(10):
        record(first, 1.0)
        record(second, 100.0)
    record(second, 1.0, CatchResponseError("wrong body"))
    total.add_message(first.to_message())
    total.add_message(second.to_message())
    total.add_message(LatencyRecorder().to_message())  # a worker that measured nothing
    assert (total.requests, total.failures) == (21, 1)
    assert total.latency_summary()["max"] == pytest.approx(100.0, rel=0.01)
    assert total.latency_summary()["p50"] == pytest.approx(1.0, rel=0.01)
