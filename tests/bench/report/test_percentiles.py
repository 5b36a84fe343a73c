"""bench/report/percentiles.py: a tail percentile names the requests it rests on."""

from __future__ import annotations

from bench.report.percentiles import enough_samples, percentile_label, samples_needed


def test_a_p99_needs_a_thousand_requests_and_a_p999_ten_thousand() -> None:
    assert samples_needed(0.99) == 1_000
    assert samples_needed(0.999) == 10_000
    assert enough_samples(1_000, quantile=0.99) and not enough_samples(999, quantile=0.99)
    assert not enough_samples(5_000, quantile=0.999)


def test_the_label_says_what_a_percentile_from_few_requests_is() -> None:
    assert percentile_label(12_345, quantile=0.99) == "n=12,345"
    assert percentile_label(130, quantile=0.99) == "n=130, too few for a p99"
    assert percentile_label(13, quantile=0.99) == "max of 13 requests"
    assert percentile_label(5_000, quantile=0.999, name="p99.9") == "n=5,000, too few for a p99.9"
    assert percentile_label(0, quantile=0.99) == "no requests"
