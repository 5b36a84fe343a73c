"""Synthetic trials for the regression gate's tests: rows with chosen metric values, run folders, metadata.

Imported by tests/bench/gate/test_decisions.py, test_baseline.py, test_check.py and test_ab.py.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from bench.results import METADATA_FILE, RESULTS_FILE, ResultRow, append_row, write_metadata

# Shaped like bench/run/metadata.py's collect_metadata() plus what the runner adds.
METADATA: dict[str, Any] = {
    "run_id": "20250101-120000-quick",
    "profile": "quick",
    "git": {"commit": "0123456789abcdef", "branch": "main", "dirty": False},
    "python": {"version": "3.11.2", "implementation": "CPython", "executable": "/usr/bin/python3"},
    "machine": {
        "hostname": "ci-1",
        "architecture": "x86_64",
        "cpu_model": "Synthetic CPU @ 2.0GHz",
        "logical_cpus": 2,
        "usable_cpus": [0, 1],
    },
    "database": {"kind": "sqlite", "sqlite": "3.40.1"},
    "packages": {"locust": "2.40.0", "psutil": "6.0.0"},
    "apps": {
        "fastapi": {
            "framework": "fastapi",
            "framework_version": "0.120.0",
            "servers": {"uvicorn": {"uvicorn": "0.38.0"}},
            "packages": {"sqlalchemy": "2.0.40"},
        },
        "flask": {
            "framework": "flask",
            "framework_version": "3.1.0",
            "servers": {"gunicorn": {"gunicorn": "23.0.0"}},
            "packages": {"flask-sqlalchemy": "3.1.1"},
        },
    },
    "settings": {"server_cpus": [0], "load_cpus": [1], "locust_workers": 0},
}


def metadata(**changes: Any) -> dict[str, Any]:
    """Return a copy of METADATA; keys like 'machine.cpu_model' reach into nested tables."""
    data = copy.deepcopy(METADATA)
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        table = data
        for parent in parents:
            table = table[parent]
        table[last] = value
    return data


def noisy(centre: float, count: int, *, cv: float = 0.02, seed: int = 0) -> list[float]:
    """Return count values around centre with the given coefficient of variation (reproducible)."""
    rng = np.random.default_rng(seed)
    return [float(centre * (1 + cv * z)) for z in rng.standard_normal(count)]


def trial_rows(
    *,
    app: str = "fastapi",
    server: str = "uvicorn",
    scenario: str = "json",
    users: int = 32,
    cpu_ms: Sequence[float],
    rps: Sequence[float] | None = None,
    variant: str = "",
    generator_bound: Sequence[int] = (),
    errors: Sequence[int] = (),
) -> list[ResultRow]:
    """Return one row per trial with these metric values; the trials listed in generator_bound or errors are
    flagged. rps defaults to a saturated server's: 1000 / cpu_ms."""
    rps = rps if rps is not None else [1000.0 / value for value in cpu_ms]
    return [
        ResultRow(
            app=app,
            server=server,
            scenario=scenario,
            users=users,
            trial=trial,
            variant=variant,
            duration_s=6.0,
            requests=int(rps_value * 6),
            rps=rps_value,
            cpu_ms_per_request=cpu_value,
            server_cpu_s=cpu_value * rps_value * 6 / 1000,
            generator_bound=trial in generator_bound,
            error="server died during the cell (exit code -9)" if trial in errors else "",
        )
        for trial, (cpu_value, rps_value) in enumerate(zip(cpu_ms, rps, strict=True), start=1)
    ]


def ab_rows(*, a_cpu_ms: Sequence[float], b_cpu_ms: Sequence[float], **cell: Any) -> list[ResultRow]:
    """Return the rows of an A/B run of one cell: trial i of A and of B measured back to back."""
    return [
        *trial_rows(cpu_ms=a_cpu_ms, variant="A", **cell),
        *trial_rows(cpu_ms=b_cpu_ms, variant="B", **cell),
    ]


def dicts(rows: Sequence[ResultRow]) -> list[dict[str, Any]]:
    return [asdict(row) for row in rows]


def write_run(run_dir: Path, rows: Sequence[ResultRow], meta: dict[str, Any] | None = METADATA) -> Path:
    """Write a run folder: results.jsonl and (unless meta is None) metadata.json."""
    run_dir.mkdir(parents=True, exist_ok=True)
    for row in rows:
        append_row(run_dir / RESULTS_FILE, row)
    if meta is not None:
        write_metadata(run_dir / METADATA_FILE, meta)
    return run_dir
