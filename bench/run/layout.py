"""Where a run's processes go: which CPUs the app server, the database and Locust get, and how many Locust
processes drive the load.

On 2 cores the server and PostgreSQL share CPU 0 and Locust has CPU 1. From 3 cores on, each gets cores of
its own (the server one, PostgreSQL one, Locust the rest), and Locust runs one process per CPU it has (a
master and local workers) once it has more than one. Roles get whole cores: the hyper-threads of one core
never serve two roles where the kernel shows them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from bench.run.topology import cores_of


@dataclass(frozen=True)
class Layout:
    """The CPUs of each role of a run, and the number of Locust processes (1: a single process)."""

    server_cpus: frozenset[int]
    db_cpus: frozenset[int]
    load_cpus: frozenset[int]
    load_processes: int = 1

    @property
    def locust_workers(self) -> int:
        """Return RunSettings.locust_workers for this layout: 0 for one Locust process, else its workers."""
        return self.load_processes if self.load_processes > 1 else 0

    def shared(self, *, with_load_only: bool = False) -> list[str]:
        """Return a line for each pair of roles that share CPUs (they disturb each other); with_load_only:
        only the pairs with Locust (the server and the database share CPU 0 by design on 2 cores)."""
        roles = (("server", self.server_cpus), ("database", self.db_cpus), ("Locust", self.load_cpus))
        lines = []
        for index, (name, cpus) in enumerate(roles):
            for other, other_cpus in roles[index + 1 :]:
                if cpus & other_cpus and (other == "Locust" or not with_load_only):
                    lines.append(f"{name} and {other} share CPU {cpu_text(cpus & other_cpus)}")
        return lines

    def as_metadata(self) -> dict[str, object]:
        return {
            "server_cpus": sorted(self.server_cpus),
            "db_cpus": sorted(self.db_cpus),
            "load_cpus": sorted(self.load_cpus),
            "load_processes": self.load_processes,
        }


def cpu_text(cpus: frozenset[int] | set[int]) -> str:
    """Return CPUs as a short list: '0', '2,3', '2-5'."""
    ordered = sorted(cpus)
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"{ordered[0]}-{ordered[-1]}"
    return ",".join(str(cpu) for cpu in ordered)


def plan_layout(cores: Sequence[Sequence[int]]) -> Layout:
    """Return the default layout over cores, each a list of the logical CPUs (hyper-threads) it holds.

    1 core: everything on it. 2 cores: server and database on the first, Locust on the second. 3 or more:
    server, database and Locust on cores of their own, Locust with the rest and one process per CPU there.
    Every process of the bench is single-threaded where it burns CPU (one server worker by default, one
    Locust process per CPU), so the server and the database get one core each however many there are.
    """
    groups = [sorted(set(core)) for core in cores if core]
    if not groups:
        raise ValueError("a layout needs at least one CPU")
    first = frozenset(groups[0])
    if len(groups) == 1:
        return Layout(server_cpus=first, db_cpus=first, load_cpus=first, load_processes=1)
    if len(groups) == 2:
        load = frozenset(groups[1])
        return Layout(server_cpus=first, db_cpus=first, load_cpus=load, load_processes=1)
    load = frozenset(cpu for core in groups[2:] for cpu in core)
    return Layout(server_cpus=first, db_cpus=frozenset(groups[1]), load_cpus=load, load_processes=len(load))


def override_layout(
    layout: Layout,
    *,
    server_cpus: set[int] | None = None,
    db_cpus: set[int] | None = None,
    load_cpus: set[int] | None = None,
    load_processes: int | None = None,
) -> Layout:
    """Return the layout with the CPUs and processes the command line gave.

    The database follows the server when the default layout put them together and only the server moved;
    Locust's default CPUs lose those the server and the database took (unless nothing would be left); the
    default number of Locust processes is at most one per CPU it keeps.
    """
    server = frozenset(server_cpus) if server_cpus else layout.server_cpus
    if db_cpus:
        database = frozenset(db_cpus)
    elif layout.db_cpus == layout.server_cpus:
        database = server
    else:
        database = layout.db_cpus
    load = frozenset(load_cpus) if load_cpus else (layout.load_cpus - server - database) or layout.load_cpus
    processes = load_processes or max(1, min(layout.load_processes, len(load)))
    return Layout(server_cpus=server, db_cpus=database, load_cpus=load, load_processes=processes)


def default_layout(cpus: Sequence[int] | None = None) -> Layout:
    """Return the default layout over cpus (default: the CPUs this process may use), grouped into cores as
    this machine's kernel shows them."""
    usable = sorted(cpus if cpus is not None else os.sched_getaffinity(0))
    return plan_layout(cores_of(usable))
