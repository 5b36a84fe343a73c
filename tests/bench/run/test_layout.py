"""bench/run/layout.py: which CPUs the server, the database and Locust get, and how many Locust processes."""

from __future__ import annotations

import pytest

from bench.run.layout import Layout, cpu_text, override_layout, plan_layout


def cores(count: int) -> list[list[int]]:
    """count cores of one CPU each (no hyper-threads)."""
    return [[cpu] for cpu in range(count)]


@pytest.mark.parametrize(
    ("count", "server", "db", "load", "processes"),
    [
        (1, {0}, {0}, {0}, 1),
        (2, {0}, {0}, {1}, 1),  # the 2-core machine: server and PostgreSQL share CPU 0
        (3, {0}, {1}, {2}, 1),
        (4, {0}, {1}, {2, 3}, 2),
        (8, {0}, {1}, {2, 3, 4, 5, 6, 7}, 6),
    ],
)
def test_default_layout_by_cores(
    count: int, server: set[int], db: set[int], load: set[int], processes: int
) -> None:
    layout = plan_layout(cores(count))
    assert (layout.server_cpus, layout.db_cpus, layout.load_cpus, layout.load_processes) == (
        server,
        db,
        load,
        processes,
    )
    assert layout.locust_workers == (processes if processes > 1 else 0)


def test_hyper_threads_of_one_core_serve_one_role() -> None:
    # 4 cores of 2 threads, numbered as Linux does (siblings n and n+4)
    layout = plan_layout([[0, 4], [1, 5], [2, 6], [3, 7]])
    assert layout.server_cpus == {0, 4} and layout.db_cpus == {1, 5}
    assert layout.load_cpus == {2, 3, 6, 7} and layout.load_processes == 4


def test_a_layout_needs_a_cpu() -> None:
    with pytest.raises(ValueError, match="at least one CPU"):
        plan_layout([])


def test_sharing_is_named() -> None:
    assert plan_layout(cores(2)).shared() == ["server and database share CPU 0"]
    assert plan_layout(cores(4)).shared() == []


def test_the_database_on_locusts_cpu_for_a_sensitivity_run() -> None:
    layout = override_layout(plan_layout(cores(2)), db_cpus={1})
    assert (layout.server_cpus, layout.db_cpus, layout.load_cpus) == ({0}, {1}, {1})
    assert layout.shared() == ["database and Locust share CPU 1"]
    assert layout.shared(with_load_only=True) == ["database and Locust share CPU 1"]
    assert plan_layout(cores(2)).shared(with_load_only=True) == []


def test_the_database_follows_a_moved_server_where_they_shared() -> None:
    layout = override_layout(plan_layout(cores(2)), server_cpus={1}, load_cpus={0})
    assert (layout.server_cpus, layout.db_cpus, layout.load_cpus) == ({1}, {1}, {0})


def test_locust_keeps_its_cpus_minus_those_taken_and_one_process_each() -> None:
    layout = override_layout(plan_layout(cores(4)), server_cpus={0, 2})
    assert layout.load_cpus == {3} and layout.load_processes == 1 and layout.db_cpus == {1}
    assert override_layout(plan_layout(cores(4)), load_processes=3).load_processes == 3


def test_cpu_text() -> None:
    assert [cpu_text(set(cpus)) for cpus in ([0], [2, 3], [2, 3, 4, 5], [1, 3, 4])] == [
        "0",
        "2,3",
        "2-5",
        "1,3,4",
    ]


def test_metadata_of_a_layout() -> None:
    layout = Layout(server_cpus=frozenset({0}), db_cpus=frozenset({0}), load_cpus=frozenset({1}))
    assert layout.as_metadata() == {"server_cpus": [0], "db_cpus": [0], "load_cpus": [1], "load_processes": 1}
