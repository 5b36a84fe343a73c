"""The Python interpreters on this machine: on PATH (python3.X) and pyenv's (~/.pyenv/versions/*)."""

from __future__ import annotations

import logging
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from bench.run.environments.plan import Interpreter, version_key

log = logging.getLogger(__name__)

MIN_PYTHON = (3, 11)  # the apps' requires-python
MINOR_RANGE = range(MIN_PYTHON[1], 20)
PYENV_VERSIONS = Path.home() / ".pyenv" / "versions"
_PROBE = "import platform, sys; print(platform.python_version(), sys.executable)"


def candidate_executables(pyenv_versions: Path = PYENV_VERSIONS) -> list[str]:
    """Return the interpreters worth asking: pyenv's own (no shim between) first, then python3.X on PATH."""
    candidates: list[str] = []
    if pyenv_versions.is_dir():
        for folder in sorted(pyenv_versions.iterdir()):
            executable = folder / "bin" / "python3"
            if executable.is_file():
                candidates.append(str(executable))
    for minor in MINOR_RANGE:
        found = shutil.which(f"python3.{minor}")
        if found:
            candidates.append(found)
    return candidates


def probe(executable: str) -> Interpreter | None:
    """Return the interpreter an executable runs (None when it does not run, or is CPython < 3.11)."""
    try:
        result = subprocess.run(
            [executable, "-I", "-c", _PROBE], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0 or not result.stdout.strip():
        return None
    full_version, _, real = result.stdout.strip().partition(" ")
    if version_key(full_version)[:2] < MIN_PYTHON:
        return None
    major_minor = ".".join(full_version.split(".")[:2])
    return Interpreter(version=major_minor, executable=real or executable, full_version=full_version)


def find_pythons(candidates: Iterable[str] | None = None) -> list[Interpreter]:
    """Return one interpreter per X.Y version (3.11+), the first candidate found of each, oldest first."""
    found: dict[str, Interpreter] = {}
    for executable in candidate_executables() if candidates is None else candidates:
        interpreter = probe(executable)
        if interpreter is not None and interpreter.version not in found:
            found[interpreter.version] = interpreter
    log.debug("Pythons found: %s", ", ".join(f"{i.version} ({i.executable})" for i in found.values()))
    return sorted(found.values(), key=lambda i: version_key(i.version))
