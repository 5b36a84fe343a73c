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
