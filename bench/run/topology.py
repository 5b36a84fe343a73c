"""The host's CPU topology as the (guest) kernel shows it: each CPU's core, package and thread siblings.

Read from /sys/devices/system/cpu/cpu*/topology/ for metadata.json and for the layout (which keeps the
server, the database and Locust on different cores where it can). A virtual machine shows what its hypervisor
tells it: two vCPUs reported as separate cores may still be hyper-threads of one physical core of the host.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

CPU_ROOT = Path("/sys/devices/system/cpu")
UNKNOWN = "unknown"  # what the kernel does not show (no topology directory, an unreadable file)
# The files of a CPU's topology/ directory that metadata records.
CORE_ID, PACKAGE_ID, THREAD_SIBLINGS = "core_id", "physical_package_id", "thread_siblings_list"
TOPOLOGY_FILES = (CORE_ID, PACKAGE_ID, THREAD_SIBLINGS)


def parse_cpu_list(text: str) -> list[int]:
    """Return the CPUs of a kernel CPU list such as '0-3,8' (ValueError when it is not one)."""
    cpus: list[int] = []
    for part in text.strip().split(","):
        low, _, high = part.partition("-")
        cpus.extend(range(int(low), int(high or low) + 1))
    return sorted(set(cpus))


def cpu_topology(files: Mapping[int, Mapping[str, str | None]]) -> dict[int, dict[str, Any]]:
    """Return per CPU its core id, package id and thread siblings, from the text of its topology files.

    files maps a CPU to {file name: its text, or None when it could not be read}; a missing or malformed
    value is UNKNOWN.
    """
    topology: dict[int, dict[str, Any]] = {}
    for cpu, texts in sorted(files.items()):
        entry: dict[str, Any] = {}
        for key, name in ((CORE_ID, "core_id"), (PACKAGE_ID, "package_id")):
            text = texts.get(key)
            entry[name] = int(text) if text is not None and text.strip().lstrip("-").isdigit() else UNKNOWN
        siblings = texts.get(THREAD_SIBLINGS)
        try:
            entry["thread_siblings"] = parse_cpu_list(siblings) if siblings is not None else UNKNOWN
        except ValueError:
            entry["thread_siblings"] = UNKNOWN
        topology[cpu] = entry
    return topology


def physical_cores(topology: Mapping[int, Mapping[str, Any]], cpus: Iterable[int]) -> list[list[int]]:
    """Return cpus grouped by the core they share (hyper-threads together), in order of their first CPU.

    A CPU whose core is unknown is a core of its own: nothing says it shares one.
    """
    groups: dict[object, list[int]] = {}
    for cpu in sorted(set(cpus)):
        entry = topology.get(cpu, {})
        core, package = entry.get("core_id", UNKNOWN), entry.get("package_id", UNKNOWN)
        key: object = ("cpu", cpu) if UNKNOWN in (core, package) else (package, core)
        groups.setdefault(key, []).append(cpu)
    return list(groups.values())


def smt_state(topology: Mapping[int, Mapping[str, Any]]) -> str:
    """Return 'yes' when some CPU has a thread sibling, 'no' when none has, UNKNOWN when not shown."""
    siblings = [entry.get("thread_siblings", UNKNOWN) for entry in topology.values()]
    if not siblings or any(value == UNKNOWN for value in siblings):
        return UNKNOWN
    return "yes" if any(len(value) > 1 for value in siblings) else "no"


def read_topology_files(root: Path = CPU_ROOT) -> dict[int, dict[str, str | None]]:
    """Return the text of each CPU's topology files under root (None for a file that cannot be read)."""
    files: dict[int, dict[str, str | None]] = {}
    for directory in root.glob("cpu[0-9]*"):
        match = re.fullmatch(r"cpu(\d+)", directory.name)
        if match is None:
            continue
        texts: dict[str, str | None] = {}
        for name in TOPOLOGY_FILES:
            try:
                texts[name] = (directory / "topology" / name).read_text().strip()
            except OSError:
                texts[name] = None
        files[int(match.group(1))] = texts
    return files


def host_topology(*, model: str, root: Path = CPU_ROOT) -> dict[str, Any]:
    """Return metadata.json's topology: CPU count and model, SMT, and per CPU its core, package, siblings."""
    per_cpu = cpu_topology(read_topology_files(root))
    return {
        "cpus": len(per_cpu) or UNKNOWN,
        "model": model,
        "smt": smt_state(per_cpu),
        "per_cpu": {str(cpu): entry for cpu, entry in per_cpu.items()},
        "caveat": "a virtual machine shows the topology its hypervisor reports, not necessarily the host's",
    }


def cores_of(cpus: Sequence[int], root: Path = CPU_ROOT) -> list[list[int]]:
    """Return the given CPUs grouped by the core they share, as this machine's kernel shows it."""
    return physical_cores(cpu_topology(read_topology_files(root)), cpus)
