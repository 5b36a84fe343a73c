"""Build one environment of a versions run with uv, into a cache outside the checkout, and record it.

An environment is resolved once: its folder (named by a hash of its requirements and interpreter) holds the
virtual environment and environment.json, the record of every package's exact version, written last. A later
run finds the record and reuses the folder. A release that cannot run the app is recorded too, as
"incompatible: reason" (a resolver conflict, an import error), so that the run and the report show it.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.run.environments.plan import Environment

log = logging.getLogger(__name__)

RECORD_FILE = "environment.json"
VENV_DIR = "venv"
INSTALL_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class BuiltEnvironment:
    """An environment as built (or found in the cache): its python, its packages, or why it cannot run."""

    environment: Environment
    folder: str = ""
    python: str = ""  # the environment's interpreter; "" when incompatible
    packages: Mapping[str, str] = field(default_factory=dict)  # distribution -> exact version
    incompatible: str = ""  # "" or the reason
    cached: bool = False
    build_s: float = 0.0

    @property
    def usable(self) -> bool:
        return not self.incompatible and bool(self.python)

    @property
    def framework_version(self) -> str:
        """Return the exact version of the framework installed (its patch release), or ""."""
        return self.packages.get(self.environment.framework.lower(), "")

    def as_metadata(self) -> dict[str, Any]:
        """Return what metadata.json records of it."""
        return {
            "app": self.environment.app,
            "framework": self.environment.framework,
            "release": self.environment.release,
            "python": self.environment.python,
            "requirements": self.environment.requirement_list(),
            "framework_version": self.framework_version,
            "status": "incompatible: " + self.incompatible if self.incompatible else "ok",
            "folder": self.folder,
            "cached": self.cached,
            "build_s": round(self.build_s, 1),
            "packages": dict(sorted(self.packages.items())),
        }


def parse_freeze(text: str) -> dict[str, str]:
    """Return {distribution: version} from `uv pip freeze` output (lowercase names; editable or URL lines
    are skipped)."""
    packages = {}
    for line in text.splitlines():
        name, separator, version = line.strip().partition("==")
        if separator and name and not name.startswith("-"):
            packages[name.strip().lower().replace("_", "-")] = version.strip()
    return packages


def resolver_reason(stderr: str) -> str:
    """Return the sentence of uv's error that says why (its first "Because ..." clause, else its last
    line), in one line."""
    lines = [line.strip().removeprefix("cause:").strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if line.startswith("Because"):
            return line
    return lines[-1] if lines else "uv failed without a message"


def _uv_env() -> dict[str, str]:
    return {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "VIRTUAL_ENV": ""}


def _run(command: Sequence[str], *, timeout_s: float = INSTALL_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            list(command), capture_output=True, text=True, timeout=timeout_s, env=_uv_env(), check=False
        )
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(list(command), 124, "", f"timed out after {timeout_s:.0f} s")


def read_record(folder: Path, environment: Environment) -> BuiltEnvironment | None:
    """Return the environment recorded in folder (None: not built, or the record is unreadable)."""
    try:
        record = json.loads((folder / RECORD_FILE).read_text())
    except (OSError, ValueError):
        return None
    python = str(folder / VENV_DIR / "bin" / "python")
    reason = str(record.get("incompatible", ""))
    if not reason and not Path(python).exists():
        return None
    return BuiltEnvironment(
        environment=environment,
        folder=str(folder),
        python="" if reason else python,
        packages=dict(record.get("packages", {})),
        incompatible=reason,
        cached=True,
        build_s=float(record.get("build_s", 0.0)),
    )


def _write_record(folder: Path, built: BuiltEnvironment) -> None:
    record = {
        "environment": asdict(built.environment),
        "requirements": built.environment.requirement_list(),
        "packages": dict(sorted(built.packages.items())),
        "incompatible": built.incompatible,
        "build_s": round(built.build_s, 1),
    }
    temporary = folder / f"{RECORD_FILE}.tmp"
    temporary.write_text(json.dumps(record, indent=2) + "\n")
    temporary.replace(folder / RECORD_FILE)


def build_environment(
    environment: Environment, *, uv: Path, cache: Path, full_version: str, salt: str = ""
) -> BuiltEnvironment:
    """Return the environment, from the cache or built now with uv (venv, install, freeze, import check).

    Never raises for a release that cannot run: the result carries the reason."""
    if not environment.executable:
        return BuiltEnvironment(
            environment=environment, incompatible=f"Python {environment.python} not found"
        )
    folder = cache / environment.key(full_version=full_version, salt=salt)
    recorded = read_record(folder, environment)
    if recorded is not None:
        return recorded
    started = time.monotonic()
    shutil.rmtree(folder, ignore_errors=True)  # a build that stopped half-way
    folder.mkdir(parents=True)
    python = folder / VENV_DIR / "bin" / "python"
    log.info("building %s: %s", environment.label, " ".join(environment.requirement_list()))
    reason = ""
    packages: dict[str, str] = {}
    created = _run([str(uv), "venv", "--quiet", "--python", environment.executable, str(folder / VENV_DIR)])
    if created.returncode != 0:
        reason = f"uv venv failed: {resolver_reason(created.stderr)}"
    else:
        installed = _run(
            [str(uv), "pip", "install", "--quiet", "--python", str(python), *environment.requirement_list()]
        )
        if installed.returncode != 0:
            reason = f"resolver conflict: {resolver_reason(installed.stderr)}"
    if not reason:
        frozen = _run([str(uv), "pip", "freeze", "--python", str(python)])
        packages = parse_freeze(frozen.stdout)
        imported = _run([str(python), "-c", f"import {environment.framework}"], timeout_s=120)
        if imported.returncode != 0:
            reason = f"import error: {resolver_reason(imported.stderr)}"
    built = BuiltEnvironment(
        environment=environment,
        folder=str(folder),
        python="" if reason else str(python),
        packages=packages,
        incompatible=reason,
        build_s=time.monotonic() - started,
    )
    _write_record(folder, built)
    if reason:
        shutil.rmtree(folder / VENV_DIR, ignore_errors=True)  # the record says why; the rest is waste
    return built


def uv_version(uv: Path) -> str:
    """Return `uv --version` (part of every environment's cache key: another resolver may resolve anew)."""
    result = _run([str(uv), "--version"], timeout_s=30)
    return result.stdout.strip()
