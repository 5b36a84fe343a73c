"""bench/run/validity.py: when a cell is generator-bound, and when it is an error."""

from __future__ import annotations

import pytest

from bench.run.validity import (
    cell_error,
    cpu_utilization,
    failure_error,
    generator_cores,
    is_generator_bound,
    server_cores,
    server_saturated,
    share_error,
    share_tolerance,
)


def test_cpu_utilization_is_cpu_seconds_per_wall_second_and_core() -> None:
    assert cpu_utilization(cpu_s=4.5, wall_s=5.0, cores=1) == pytest.approx(0.9)
    assert cpu_utilization(cpu_s=4.5, wall_s=5.0, cores=2) == pytest.approx(0.45)
    assert cpu_utilization(cpu_s=1.0, wall_s=0.0, cores=1) == 0.0


def test_a_python_server_uses_one_core_per_worker_process_at_most_its_cpus() -> None:
    assert server_cores(workers=1, server_cpus=2) == 1
    assert server_cores(workers=4, server_cpus=2) == 2
    assert generator_cores(processes=1, load_cpus=3) == 1
    assert generator_cores(processes=4, load_cpus=3) == 3


@pytest.mark.parametrize(
    ("server_util", "cpus_busy", "expected"),
    [
        (0.98, 0.99, True),  # the app used its core
        (0.60, 0.97, True),  # the app and the database together filled the CPU
        (0.92, 0.92, False),  # 8% idle: the server waited for requests
        (0.60, 0.70, False),
        (None, None, None),  # not measured (--target)
    ],
)
def test_server_saturated(server_util: float | None, cpus_busy: float | None, expected: bool | None) -> None:
    assert server_saturated(server_util=server_util, server_cpus_busy=cpus_busy) is expected


@pytest.mark.parametrize(
    ("generator_util", "saturated", "expected"),
    [
        (0.97, False, True),  # Locust at its limit, the server had room: the generator was the limit
        (0.97, True, False),  # both at their limit: the server's figure stands
        (0.50, False, False),  # neither: latency or concurrency bound (io), not the generator
        (0.89, False, False),
        (0.90, False, True),
        (0.97, None, True),  # server unmeasured: a saturated generator is enough to say so
        (None, False, False),
    ],
)
def test_generator_bound(generator_util: float | None, saturated: bool | None, expected: bool) -> None:
    assert is_generator_bound(generator_util=generator_util, server_saturated=saturated) is expected


def test_failures_within_the_bound_are_no_error() -> None:
    assert failure_error(requests=1000, failures=10, failures_by_kind={"expected 200, got 500": 10}) == ""


def test_failures_above_the_bound_name_the_commonest_kinds() -> None:
    error = failure_error(
        requests=1000, failures=30, failures_by_kind={"expected 200, got 500": 25, "wrong body": 5}
    )
    assert "3.0%" in error
    assert error.index("expected 200, got 500 (25)") < error.index("wrong body (5)")


def test_no_request_in_the_window_is_an_error() -> None:
    assert "no request" in failure_error(requests=0, failures=0, failures_by_kind={})


def test_the_most_fundamental_cause_wins() -> None:
    assert cell_error(start_error="port busy", server_exit_code=1).startswith("server failed to start")
    assert "died" in cell_error(server_exit_code=3, loadgen_error="no summary", requests=0)
    assert cell_error(loadgen_error="the load generator did not finish in time") == (
        "the load generator did not finish in time"
    )
    assert "exception" in cell_error(requests=100, user_errors=2, user_error_samples=["ScenarioError: login"])


def test_a_valid_cell_has_no_error() -> None:
    assert cell_error(requests=500, failures=0, failures_by_kind={}, data_check="ok") == ""
    assert cell_error(requests=500, data_check="skipped (not a fresh database)") == ""
    assert cell_error(requests=500, data_check="ok; no Item table found by its columns") == ""


def test_a_failed_data_check_is_an_error() -> None:
    assert cell_error(requests=500, data_check="Item: 2 row(s) nobody reported writing").startswith(
        "data check"
    )


STATED = {"/api/items [422]": 0.20, "/api/items/[id] [404]": 0.15}


def counts(*, invalid: int, missing: tuple[int, int, int], other: int) -> dict[str, int]:
    """Return a window's requests by "METHOD name": the 404 kind sent as GET, PUT and DELETE."""
    get, put, delete = missing
    return {
        "POST /api/items [422]": invalid,
        "GET /api/items/[id] [404]": get,
        "PUT /api/items/[id] [404]": put,
        "DELETE /api/items/[id] [404]": delete,
        "GET /api/items/[id]": other,
    }


def test_shares_at_their_stated_values_pass() -> None:
    # 10,000 requests: 20.0% and 15.0% exactly, then each just within 4 standard errors (1.6 and 1.4 points)
    assert (
        share_error(
            requests_by_name=counts(invalid=2000, missing=(500, 500, 500), other=6500), stated_shares=STATED
        )
        == ""
    )
    assert (
        share_error(
            requests_by_name=counts(invalid=2150, missing=(457, 457, 456), other=6480), stated_shares=STATED
        )
        == ""
    )


def test_a_kind_sent_off_its_share_is_named_with_its_figures() -> None:
    error = share_error(
        requests_by_name=counts(invalid=2500, missing=(500, 500, 500), other=6000), stated_shares=STATED
    )
    assert error.startswith("request mix off its stated shares")
    assert "/api/items [422] 25.0% (2500 of 10000), stated 20.0% ± 1.6%" in error
    assert "[404]" not in error


def test_a_kind_never_sent_fails_the_check() -> None:
    error = share_error(
        requests_by_name={"GET /api/items/[id]": 400, "POST /api/items [422]": 100}, stated_shares=STATED
    )
    assert "/api/items/[id] [404] 0.0% (0 of 500)" in error


def test_the_tolerance_is_four_standard_errors_and_never_below_one_point() -> None:
    assert share_tolerance(share=0.2, requests=100) == pytest.approx(
        4 * (0.2 * 0.8 / 100) ** 0.5
    )  # 16 points
    assert share_tolerance(share=0.2, requests=1_000_000) == pytest.approx(0.01)
    # 100 requests: 30 of the 20% kind is 2.5 standard errors off, within; 40 is 5 off, outside
    small = {"/api/items [422]": 0.20}
    assert (
        share_error(requests_by_name={"POST /api/items [422]": 30, "GET /x": 70}, stated_shares=small) == ""
    )
    assert (
        share_error(requests_by_name={"POST /api/items [422]": 40, "GET /x": 60}, stated_shares=small) != ""
    )


def test_no_stated_shares_or_no_requests_is_no_error() -> None:
    assert share_error(requests_by_name={"GET /x": 10}, stated_shares={}) == ""
    assert share_error(requests_by_name={}, stated_shares=STATED) == ""


def test_a_request_mix_off_its_shares_makes_the_cell_an_error_after_the_failures() -> None:
    assert cell_error(
        requests=500, mix_error="request mix off its stated shares: x", data_check="ok"
    ).startswith("request mix off")
    assert "failed" in cell_error(requests=100, failures=50, failures_by_kind={"x": 50}, mix_error="mix off")
