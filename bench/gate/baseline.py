"""Stored baselines: a run's per-cell samples and the environment they were measured in, as one JSON file.

`bench baseline save [RUN...]` writes baselines/<profile>.json (or --out); `bench check` compares a run with
it. Numbers measured on another machine, CPU split, interpreter or package versions say nothing about this
one, so loading a baseline for a run whose environment differs is refused with the list of differences
(unless forced, loudly).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.config import ROOT
from bench.errors import BaselineError, EnvironmentMismatch
from bench.gate.samples import CellKey, CellSamples, collect_samples
from bench.gate.settings import METRICS

log = logging.getLogger(__name__)

BASELINES_DIR = ROOT / "baselines"
BASELINE_FORMAT = "framework-bench-baseline/1"
DEFAULT_BASELINE_NAME = "baseline"  # when the run's metadata names no profile


def environment_fingerprint(metadata: Mapping[str, Any]) -> dict[str, str]:
    """Return the facts of a run's metadata.json that its numbers depend on, as flat 'kind.name' -> value.

    The machine (CPU model, CPU count, architecture; not the host name, which changes with every CI
    container), the CPU split between server and load generator, the interpreter, the database engine and
    every recorded package version.
    """
    facts: dict[str, Any] = {}
    machine = metadata.get("machine", {})
    for key in ("cpu_model", "logical_cpus", "architecture"):
        facts[f"machine.{key}"] = machine.get(key)
    settings = metadata.get("settings", {})
    for key in ("server_cpus", "load_cpus", "locust_workers"):
        facts[f"cpus.{key}"] = settings.get(key)
    python = metadata.get("python", {})
    facts["python.version"] = python.get("version")
    facts["python.implementation"] = python.get("implementation")
    for key, value in metadata.get("database", {}).items():
        facts[f"database.{key}"] = value
    for name, version in metadata.get("packages", {}).items():
        facts[f"package.{name}"] = version
    for app in metadata.get("apps", {}).values():
        facts[f"package.{app.get('framework')}"] = app.get("framework_version")
        for versions in (*app.get("servers", {}).values(), app.get("packages", {})):
            for name, version in versions.items():
                facts[f"package.{name}"] = version
    return {key: json.dumps(value) if not isinstance(value, str) else value for key, value in facts.items()}


def environment_differences(baseline: Mapping[str, str], run: Mapping[str, str]) -> list[str]:
    """Return one line per fact recorded on both sides with different values.

    A fact only one side recorded (a package of an app the other run did not measure) is no difference.
    """
    return [
        f"{key}: baseline {baseline[key]}, this run {run[key]}"
        for key in sorted(set(baseline) & set(run))
        if baseline[key] != run[key]
    ]


@dataclass(frozen=True)
class Baseline:
    """A loaded baseline: where it came from, its environment and each cell's samples."""

    path: Path
    name: str
    created_at: str
    runs: tuple[dict[str, Any], ...]
    environment: dict[str, str]
    cells: dict[CellKey, CellSamples]

    def check_environment(self, run_metadata: Mapping[str, Any] | None, *, force: bool = False) -> list[str]:
        """Return the differences from a run's environment; raise EnvironmentMismatch unless force."""
        if run_metadata is None:
            differences = ["the run has no metadata.json: its machine and versions are unknown"]
        else:
            differences = environment_differences(self.environment, environment_fingerprint(run_metadata))
        if differences and not force:
            raise EnvironmentMismatch(differences, baseline=self.path)
        for difference in differences:
            log.warning("FORCED: comparing with a baseline from another environment: %s", difference)
        return differences


def _merge(parts: Iterable[Mapping[CellKey, CellSamples]]) -> dict[CellKey, CellSamples]:
    merged: dict[CellKey, CellSamples] = {}
    for part in parts:
        for cell, samples in part.items():
            before = merged.get(cell)
            if before is None:
                merged[cell] = samples
                continue
            merged[cell] = CellSamples(
                values={
                    metric: tuple(before.values.get(metric, ())) + tuple(samples.values.get(metric, ()))
                    for metric in {*before.values, *samples.values}
                },
                trials=before.trials + samples.trials,
                generator_bound=before.generator_bound + samples.generator_bound,
                errors=before.errors + samples.errors,
            )
    return dict(sorted(merged.items()))


def build_baseline(
    runs: Sequence[tuple[Path, list[dict[str, Any]], dict[str, Any] | None]],
    *,
    name: str,
    force: bool = False,
) -> dict[str, Any]:
    """Return the JSON document of a baseline made of one or more runs measured in the same environment."""
    if not runs:
        raise BaselineError("no run to save as a baseline")
    fingerprints = [environment_fingerprint(metadata or {}) for _, _, metadata in runs]
    for (run_dir, _, metadata), fingerprint in zip(runs[1:], fingerprints[1:], strict=True):
        differences = environment_differences(fingerprints[0], fingerprint)
        if metadata is None:
            differences.append("no metadata.json")
        if differences and not force:
            listed = "; ".join(differences)
            raise BaselineError(f"{run_dir} was measured in another environment than {runs[0][0]}: {listed}")
    if runs[0][2] is None and not force:
        raise BaselineError(
            f"{runs[0][0]} has no metadata.json: a baseline without its machine and versions cannot be "
            "checked against later runs (--force saves it anyway)"
        )
    cells = _merge(collect_samples(rows, metrics=METRICS) for _, rows, _ in runs)
    return {
        "format": BASELINE_FORMAT,
        "name": name,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "runs": [
            {
                "run_id": (metadata or {}).get("run_id", run_dir.name),
                "commit": (metadata or {}).get("git", {}).get("commit"),
                "profile": (metadata or {}).get("profile"),
            }
            for run_dir, _, metadata in runs
        ],
        "environment": fingerprints[0],
        "metadata": runs[0][2] or {},
        "metrics": list(METRICS),
        "cells": [
            {
                **asdict(cell),
                "trials": samples.trials,
                "generator_bound": samples.generator_bound,
                "errors": list(samples.errors),
                "samples": {metric: list(values) for metric, values in samples.values.items()},
            }
            for cell, samples in cells.items()
        ],
    }


def default_baseline_path(metadata: Mapping[str, Any] | None) -> Path:
    """Return baselines/<profile>.json for a run's metadata: each profile measures its own cells."""
    return BASELINES_DIR / f"{(metadata or {}).get('profile') or DEFAULT_BASELINE_NAME}.json"


def save_baseline(document: Mapping[str, Any], path: Path) -> Path:
    """Write a baseline document to path (creating its folder); return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def load_baseline(path: Path) -> Baseline:
    """Return the baseline stored at path; raise BaselineError when it is missing or not a baseline."""
    if not path.is_file():
        raise BaselineError(
            f"no baseline at {path}: record one with `bench baseline save [RUN]` (it saves reports/latest)"
        )
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BaselineError(f"{path} is not readable JSON: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != BASELINE_FORMAT:
        raise BaselineError(f"{path} is not a baseline of this tool (format {BASELINE_FORMAT} expected)")
    try:
        cells = {
            CellKey(
                app=entry["app"],
                server=entry["server"],
                scenario=entry["scenario"],
                users=int(entry["users"]),
                db=entry.get("db", "sqlite"),
                workers=int(entry.get("workers", 1)),
            ): CellSamples(
                values={
                    metric: tuple(float(v) for v in values) for metric, values in entry["samples"].items()
                },
                trials=int(entry["trials"]),
                generator_bound=int(entry.get("generator_bound", 0)),
                errors=tuple(entry.get("errors", ())),
            )
            for entry in document["cells"]
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise BaselineError(f"{path}: a cell entry is malformed ({exc!r})") from None
    return Baseline(
        path=path,
        name=str(document.get("name", path.stem)),
        created_at=str(document.get("created_at", "")),
        runs=tuple(document.get("runs", ())),
        environment={str(k): str(v) for k, v in document.get("environment", {}).items()},
        cells=cells,
    )
