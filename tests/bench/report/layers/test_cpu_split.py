"""bench/report/layers/cpu_split.py: a profiled trial's CPU per request split into measured parts."""

from __future__ import annotations

import pytest

from bench.report.layers.cpu_split import CpuSplit, split_cpu


def test_the_parts_per_request() -> None:
    # 600 busy samples at 200 Hz = 3.0 s over 2,000 requests: 1.5 ms each; user 4.0 s, system 2.0 s.
    split = split_cpu(busy_samples=600, rate_hz=200, requests=2000, user_s=4.0, system_s=2.0)
    assert split is not None
    assert (split.sampled_ms, split.user_ms, split.system_ms) == pytest.approx((1.5, 2.0, 1.0))
    assert split.measured_ms == pytest.approx(3.0)
    assert split.unsampled_ms == pytest.approx(0.5)
    assert split.total_ms == pytest.approx(3.0), "the parts add up to the measured CPU"
    assert split.coverage == pytest.approx(2.5 / 3.0)
    assert split.sampled_over_user == pytest.approx(0.75)


def test_samples_beyond_the_user_time_leave_no_negative_part() -> None:
    split = CpuSplit(sampled_ms=1.2, user_ms=1.0, system_ms=0.5)
    assert split.unsampled_ms == 0.0
    assert split.total_ms == pytest.approx(1.7), "longer than the measured 1.5 ms"
    assert split.coverage == pytest.approx(1.7 / 1.5), "the excess shows as coverage above 100%"


@pytest.mark.parametrize(
    ("requests", "rate_hz", "user_s", "system_s"),
    [(0, 200, 1.0, 1.0), (100, 0, 1.0, 1.0), (100, 200, 0.0, 0.0)],
)
def test_no_split_without_requests_a_rate_or_the_times(
    requests: int, rate_hz: int, user_s: float, system_s: float
) -> None:
    split = split_cpu(busy_samples=10, rate_hz=rate_hz, requests=requests, user_s=user_s, system_s=system_s)
    assert split is None


def test_no_coverage_without_measured_cpu() -> None:
    assert CpuSplit(sampled_ms=0.1, user_ms=0.0, system_ms=0.0).coverage is None
    assert CpuSplit(sampled_ms=0.1, user_ms=0.0, system_ms=0.0).sampled_over_user is None


def test_failed_reads_count_in_the_profiled_time_and_the_coverage() -> None:
    # Flask /json here: 355 stacks read and 363 failed reads at 200 Hz over 4 s, user 3.46 s, system 0.53 s.
    split = split_cpu(
        busy_samples=355, rate_hz=200, requests=4000, user_s=3.46, system_s=0.53, failed_samples=363
    )
    assert split is not None
    assert split.sampled_ms == pytest.approx(355 / 200 / 4)
    assert split.failed_ms == pytest.approx(363 / 200 / 4)
    assert split.profiled_ms == pytest.approx(718 / 200 / 4)
    assert split.failed_share == pytest.approx(363 / 718)
    assert split.unsampled_ms == 0.0, "the profiler saw all of the user time"
    assert split.coverage == pytest.approx((718 / 200 + 0.53) / 3.99)
    without = split_cpu(busy_samples=355, rate_hz=200, requests=4000, user_s=3.46, system_s=0.53)
    assert without is not None and without.coverage is not None and split.coverage is not None
    assert without.coverage < 0.6 < 0.9 < split.coverage, "the failed reads were the missing half"
