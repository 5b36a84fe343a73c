"""The dependency rules of bench/'s parts, at run time: what importing a part loads (make lint checks the same
statically with import-linter; this checks what really ends up in sys.modules)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.config import ROOT

HEAVY = ("pandas", "matplotlib", "scipy", "pytest", "locust", "gevent")


def modules_loaded_by(module: str) -> set[str]:
    """Return which of HEAVY a fresh interpreter has loaded after importing module."""
    code = f"import json, sys; import {module}; print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(result.stdout))


@pytest.mark.parametrize(
    "module",
    [
        "bench.gate.decisions",
        "bench.gate.intervals",
        "bench.gate.samples",
        "bench.gate.settings",
        "bench.gate.rates",
        "bench.gate.steps",
    ],
)
def test_the_gates_decision_code_loads_no_pandas(module: str) -> None:
    assert not modules_loaded_by(module) & {"pandas", "matplotlib", "locust"}


@pytest.mark.parametrize("module", ["bench.report", "bench.report.build"])
def test_the_report_loads_no_pytest(module: str) -> None:
    assert "pytest" not in modules_loaded_by(module)


@pytest.mark.parametrize("module", ["bench.run.runner", "bench.run.environments.measure"])
def test_the_runner_does_not_load_locust(module: str) -> None:
    # Importing Locust monkey-patches the interpreter with gevent: only the load generator's process may.
    assert not modules_loaded_by(module) & {"locust", "gevent"}


def test_the_command_line_starts_without_the_heavy_libraries() -> None:
    assert not modules_loaded_by("bench.cli") & {"pandas", "matplotlib", "scipy", "locust", "pytest"}
