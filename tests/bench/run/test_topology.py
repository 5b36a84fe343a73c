"""bench/run/topology.py: the CPU topology from /sys text (fixtures here, not this machine's)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.run.topology import (
    UNKNOWN,
    cpu_topology,
    host_topology,
    parse_cpu_list,
    physical_cores,
    read_topology_files,
    smt_state,
)

# A 2-core, 4-thread machine as Linux numbers it: CPUs 0 and 2 are threads of core 0, 1 and 3 of core 1.
SMT_FILES = {
    cpu: {
        "core_id": str(cpu % 2),
        "physical_package_id": "0",
        "thread_siblings_list": f"{cpu % 2},{cpu % 2 + 2}",
    }
    for cpu in range(4)
}


@pytest.mark.parametrize(
    ("text", "cpus"), [("0", [0]), ("0-3", [0, 1, 2, 3]), ("0,4", [0, 4]), ("0-1,8-9\n", [0, 1, 8, 9])]
)
def test_parse_cpu_list(text: str, cpus: list[int]) -> None:
    assert parse_cpu_list(text) == cpus


def test_topology_of_hyper_threads() -> None:
    topology = cpu_topology(SMT_FILES)
    assert topology[2] == {"core_id": 0, "package_id": 0, "thread_siblings": [0, 2]}
    assert smt_state(topology) == "yes"
    assert physical_cores(topology, range(4)) == [[0, 2], [1, 3]]


def test_what_the_guest_does_not_show_is_unknown() -> None:
    topology = cpu_topology(
        {0: {"core_id": None, "physical_package_id": "0", "thread_siblings_list": "x"}, 1: {}}
    )
    assert topology[0] == {"core_id": UNKNOWN, "package_id": 0, "thread_siblings": UNKNOWN}
    assert topology[1] == {"core_id": UNKNOWN, "package_id": UNKNOWN, "thread_siblings": UNKNOWN}
    assert smt_state(topology) == UNKNOWN
    # Nothing says they share a core: each is a core of its own.
    assert physical_cores(topology, [0, 1]) == [[0], [1]]


def test_separate_cores_without_siblings() -> None:
    files = {
        cpu: {"core_id": str(cpu), "physical_package_id": "0", "thread_siblings_list": str(cpu)}
        for cpu in (0, 1)
    }
    assert smt_state(cpu_topology(files)) == "no"


def test_read_from_a_sys_tree(tmp_path: Path) -> None:
    for cpu, texts in SMT_FILES.items():
        directory = tmp_path / f"cpu{cpu}" / "topology"
        directory.mkdir(parents=True)
        for name, text in texts.items():
            (directory / name).write_text(text + "\n")
    (tmp_path / "cpufreq").mkdir()  # not a CPU
    (tmp_path / "cpu9").mkdir()  # a CPU without a topology directory
    files = read_topology_files(tmp_path)
    assert sorted(files) == [0, 1, 2, 3, 9]
    assert files[3]["thread_siblings_list"] == "1,3" and files[9]["core_id"] is None
    topology = host_topology(model="Fixture CPU", root=tmp_path)
    assert (topology["cpus"], topology["model"], topology["smt"]) == (5, "Fixture CPU", UNKNOWN)
    assert topology["per_cpu"]["9"]["core_id"] == UNKNOWN
