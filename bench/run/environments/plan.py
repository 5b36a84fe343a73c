"""The environments of a versions profile: one per (framework release, Python). Pure: no processes."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

ALL_PYTHONS = "all"
NEWEST = "newest"
# The ending of an environment's label that a row's `variant` carries: "django 5.1 py3.12".
PYTHON_PREFIX = "py"


@dataclass(frozen=True)
class Interpreter:
    """A Python found on the machine: its X.Y version and the executable that runs it."""

    version: str  # "3.12"
    executable: str
    full_version: str = ""  # "3.12.1"


def version_key(version: str) -> tuple[int, ...]:
    """Return a dotted version as a sortable tuple ("0.115" -> (0, 115)); a part that is not a number sorts
    as 0."""
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))


@dataclass(frozen=True)
class Environment:
    """One environment of a versions run: an app at one release line of its framework, on one Python."""

    app: str
    framework: str
    release: str  # a release line: "5.1", "0.115"
    python: str  # "3.12"
    executable: str = ""  # the base interpreter; "" when that Python was not found
    requirements: tuple[str, ...] = ()  # the app's other distributions, without versions
    newest: bool = False  # the framework's newest release line in the profile
    # Distributions released in lockstep with the framework (Werkzeug with Flask: 2.3 with 2.3), pinned to
    # the same release line, where the framework's own bounds would let the newest in
    lockstep: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """Return the name rows and the report give it: "django 5.1 py3.12"."""
        return f"{self.app} {self.release} {PYTHON_PREFIX}{self.python}"

    @property
    def pin(self) -> str:
        """Return the framework's requirement: the release line's newest patch release."""
        return f"{self.framework}=={self.release}.*"

    @property
    def pins(self) -> str:
        """Return what the environment pins, for the reader: "flask==2.3.*, werkzeug==2.3.*"."""
        return ", ".join([self.pin, *(f"{name}=={self.release}.*" for name in self.lockstep)])

    def requirement_list(self) -> list[str]:
        """Return what uv installs: the pinned framework, then the app's other distributions (unpinned, so
        the resolver gives each the newest version compatible with the pin), the framework's own name with
        its extras kept ("flask[async]") pinned the same way."""
        listed = [requirement.split("[", 1)[0].strip().lower() for requirement in self.requirements]
        pinned = [
            f"{requirement}=={self.release}.*" if name == self.framework.lower() else requirement
            for requirement, name in zip(self.requirements, listed, strict=True)
        ]
        pinned = [
            f"{requirement}=={self.release}.*" if name in self.lockstep else requirement
            for requirement, name in zip(pinned, listed, strict=True)
        ]
        unlisted = [f"{name}=={self.release}.*" for name in self.lockstep if name not in listed]
        return [*([] if self.framework.lower() in listed else [self.pin]), *pinned, *unlisted]

    def key(self, *, full_version: str, salt: str = "") -> str:
        """Return the environment's cache key: a hash of what decides its packages (the requirements, the
        interpreter's full version, salt: the resolver's version and the day's build)."""
        recipe = json.dumps(
            {"requirements": self.requirement_list(), "python": full_version, "salt": salt}, sort_keys=True
        )
        return hashlib.sha256(recipe.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class EnvironmentPlan:
    """Every environment of a versions profile, and the Pythons asked for but not found."""

    environments: tuple[Environment, ...]
    missing_pythons: tuple[str, ...] = ()
    release_python: str = ""
    pythons: tuple[str, ...] = field(default_factory=tuple)  # the Pythons the run uses, oldest first


def chosen_pythons(asked: Sequence[str], found: Sequence[Interpreter]) -> tuple[list[Interpreter], list[str]]:
    """Return (the interpreters the profile uses, oldest first; the versions it names that were not found).
    asked: "all" (every interpreter found) or X.Y versions."""
    by_version = {interpreter.version: interpreter for interpreter in found}
    if not asked or ALL_PYTHONS in asked:
        return sorted(by_version.values(), key=lambda i: version_key(i.version)), []
    used = [by_version[version] for version in asked if version in by_version]
    missing = [version for version in asked if version not in by_version]
    return sorted(used, key=lambda i: version_key(i.version)), missing


def plan_environments(
    *,
    releases: Mapping[str, Sequence[str]],
    frameworks: Mapping[str, str],
    requirements: Mapping[str, Sequence[str]],
    pythons: Sequence[str],
    found: Sequence[Interpreter],
    release_python: str = "",
    every_python: str = NEWEST,
    lockstep: Mapping[str, Sequence[str]] | None = None,
) -> EnvironmentPlan:
    """Return the environments: every release on release_python (default: the newest Python used), and the
    newest release (every_python "newest") or every release ("all") on each other Python used.

    releases: app -> release lines; frameworks: app -> its framework's distribution; requirements: app -> the
    app's distributions; lockstep: app -> distributions pinned to the framework's release line. A
    release_python that was not found is listed as missing and its environments stay in the plan without an
    executable (reported, never dropped).
    """
    used, missing = chosen_pythons(pythons, found)
    versions = [interpreter.version for interpreter in used]
    executables = {interpreter.version: interpreter.executable for interpreter in used}
    home = release_python or (versions[-1] if versions else "")
    if home and home not in executables and home not in missing:
        missing.append(home)
    environments: list[Environment] = []
    for app, lines in releases.items():
        ordered = sorted(lines, key=version_key)
        for release in ordered:
            newest = release == ordered[-1]
            on = [home] if home else []
            if newest or every_python == ALL_PYTHONS:
                on += [version for version in versions if version != home]
            for python in sorted(dict.fromkeys(on), key=version_key):
                environments.append(
                    Environment(
                        app=app,
                        framework=frameworks[app],
                        release=release,
                        python=python,
                        executable=executables.get(python, ""),
                        requirements=tuple(requirements.get(app, ())),
                        newest=newest,
                        lockstep=tuple(name.lower() for name in (lockstep or {}).get(app, ())),
                    )
                )
    return EnvironmentPlan(
        environments=tuple(environments),
        missing_pythons=tuple(missing),
        release_python=home,
        pythons=tuple(versions),
    )
