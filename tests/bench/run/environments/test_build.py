"""bench/run/environments/build.py: an environment built by uv (here a stand-in script), cached, recorded;
a release that cannot resolve comes back "incompatible: reason"."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path

import pytest

from bench.run.environments.build import (
    RECORD_FILE,
    build_environment,
    parse_freeze,
    resolver_reason,
)
from bench.run.environments.plan import Environment

CONFLICT = (
    "  cause: Because the current Python version (3.11.7) does not satisfy Python>=3.12 and django>=6.1a1 "
    "depends on Python>=3.12, we can conclude that django>=6.1a1 cannot be used."
)

# A stand-in for uv: `venv` links this interpreter in, `pip install` fails when a requirement names a
# release of 0.0 (what no index has), `pip freeze` lists two packages. Every call is logged.
FAKE_UV = f"""#!{sys.executable}
import os, sys
with open(os.environ.get("FAKE_UV_LOG", "/dev/null"), "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
args = sys.argv[1:]
if args[0] == "venv":
    folder = args[-1]
    os.makedirs(folder + "/bin")
    os.symlink(sys.executable, folder + "/bin/python")
elif args[:2] == ["pip", "install"]:
    if any("==0.0." in arg for arg in args):
        sys.stderr.write("error: No solution found when resolving dependencies\\n{CONFLICT}\\n")
        sys.exit(1)
elif args[:2] == ["pip", "freeze"]:
    print("Flask==2.3.3")
    print("Werkzeug==2.3.8")
"""


def fake_uv(tmp_path: Path) -> Path:
    uv = tmp_path / "uv"
    uv.write_text(FAKE_UV)
    uv.chmod(uv.stat().st_mode | stat.S_IEXEC)
    return uv


def environment(release: str) -> Environment:
    # "json" stands in for the framework: the import check imports it, and the stdlib has it.
    return Environment(
        app="flask", framework="json", release=release, python="3.12", executable=sys.executable
    )


def test_an_environment_is_built_recorded_and_then_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "calls.log"
    monkeypatch.setenv("FAKE_UV_LOG", str(log))
    uv, cache = fake_uv(tmp_path), tmp_path / "cache"
    built = build_environment(environment("2.3"), uv=uv, cache=cache, full_version="3.12.1")
    assert built.usable and not built.cached
    assert built.packages == {"flask": "2.3.3", "werkzeug": "2.3.8"}
    record = json.loads((Path(built.folder) / RECORD_FILE).read_text())
    assert record["requirements"] == ["json==2.3.*"]
    assert record["packages"]["werkzeug"] == "2.3.8"
    calls = log.read_text().splitlines()
    assert [call.split()[0] for call in calls] == ["venv", "pip", "pip"]
    again = build_environment(environment("2.3"), uv=uv, cache=cache, full_version="3.12.1")
    assert again.cached and again.python == built.python and again.packages == built.packages
    assert log.read_text().splitlines() == calls  # uv was not asked again


def test_a_release_that_cannot_resolve_is_incompatible_with_the_resolver_s_reason(tmp_path: Path) -> None:
    uv, cache = fake_uv(tmp_path), tmp_path / "cache"
    built = build_environment(environment("0.0"), uv=uv, cache=cache, full_version="3.12.1")
    assert not built.usable
    assert built.incompatible.startswith("resolver conflict: Because the current Python version (3.11.7)")
    assert built.as_metadata()["status"].startswith("incompatible: resolver conflict")
    # Recorded, so that the next run reports it without resolving again
    again = build_environment(environment("0.0"), uv=uv, cache=cache, full_version="3.12.1")
    assert again.cached and again.incompatible == built.incompatible


def test_a_framework_that_does_not_import_is_incompatible(tmp_path: Path) -> None:
    broken = Environment(
        app="flask", framework="no_such_module_here", release="1.0", python="3.12", executable=sys.executable
    )
    built = build_environment(broken, uv=fake_uv(tmp_path), cache=tmp_path / "cache", full_version="3.12.1")
    assert built.incompatible.startswith("import error: ")
    assert "no_such_module_here" in built.incompatible


def test_a_python_not_found_is_incompatible_without_building(tmp_path: Path) -> None:
    missing = Environment(app="flask", framework="flask", release="3.1", python="3.14")
    built = build_environment(missing, uv=tmp_path / "no-uv", cache=tmp_path / "cache", full_version="")
    assert built.incompatible == "Python 3.14 not found"
    assert not (tmp_path / "cache").exists()


def test_freeze_and_reason_parsing() -> None:
    assert parse_freeze("Django==5.1.15\n-e file:///x\nsqlparse==0.5.3\n") == {
        "django": "5.1.15",
        "sqlparse": "0.5.3",
    }
    assert resolver_reason(f"error: No solution found\n{CONFLICT}\n   And because x\n").startswith(
        "Because the current Python"
    )
    assert resolver_reason("error: network unreachable\n") == "error: network unreachable"
