"""The facts a run's numbers depend on, for its metadata.json: code, interpreter, packages, machine."""

from __future__ import annotations

import os
import platform
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench.config import ROOT, AppSpec, installed_version
from bench.run.topology import host_topology

# Distributions of the measuring side, whatever the apps use.
BENCH_PACKAGES = ("locust", "gevent", "geventhttpclient", "hdrhistogram", "psutil")
# Database drivers any app may use: recorded when installed.
DRIVER_PACKAGES = ("psycopg", "psycopg-binary", "psycopg-pool", "asyncpg", "aiosqlite", "sqlalchemy")


def versions_of(names: Iterable[str]) -> dict[str, str | None]:
    return {name: installed_version(name) for name in sorted(set(names))}


def _git(*args: str) -> str:
    try:
        result = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def git_state() -> dict[str, Any]:
    """Return the commit the code was at and whether the working tree had changes."""
    return {
        "commit": _git("rev-parse", "HEAD") or None,
        "branch": _git("rev-parse", "--abbrev-ref", "HEAD") or None,
        "dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
    }


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """Return the CPU's model name."""
    try:
        for line in cpuinfo.read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    model = cpu_model()
    return {
        "hostname": socket.gethostname(),
        "system": platform.system(),
        "kernel": platform.release(),
        "architecture": platform.machine(),
        "cpu_model": model,
        # Which CPUs share a core: two roles on hyper-threads of one core slow each other down.
        "topology": host_topology(model=model),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": sorted(os.sched_getaffinity(0)),
        "memory_mb": _memory_mb(),
    }


def _memory_mb() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().total / 2**20)
    except Exception:
        return None


def python() -> dict[str, str]:
    return {
        "version": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
    }


def database_versions(db_kind: str) -> dict[str, str | None]:
    """Return the version of the database engine the run used."""
    if db_kind == "sqlite":
        return {"sqlite": sqlite3.sqlite_version}
    postgres = shutil.which("postgres")
    if postgres is None:
        return {"postgres": None}
    result = subprocess.run([postgres, "--version"], capture_output=True, text=True, check=False)
    return {"postgres": result.stdout.strip() or None}


def app_metadata(app: AppSpec, servers: Iterable[str]) -> dict[str, Any]:
    """Return the app's framework version and the versions of what it runs on, by server and feature."""
    servers = list(servers)
    feature_packages = {name for names in app.packages.values() for name in names}
    return {
        "framework": app.framework,
        "framework_version": installed_version(app.framework),
        "servers": {server: versions_of(app.servers[server].packages) for server in servers},
        # What each variant runs, as its app.toml said when the run started (the report labels with it).
        "variants": {
            server: {
                "server": app.servers[server].server,
                "worker_model": app.servers[server].worker_model,
                "orm": app.servers[server].orm,
                "drivers": dict(app.servers[server].drivers),
                "env": dict(app.servers[server].env),
                "recommended": server == app.default_server,
            }
            for server in servers
        },
        "packages": versions_of(feature_packages),
    }


def collect_metadata(
    *,
    apps: Iterable[tuple[AppSpec, Iterable[str]]],
    db_kinds: Iterable[str],
    settings: dict[str, Any],
    command_line: str,
) -> dict[str, Any]:
    """Return a run's metadata: git state, interpreter, machine, packages, apps and the run's settings."""
    kinds = list(dict.fromkeys(db_kinds)) or ["sqlite"]
    versions = {key: value for kind in kinds for key, value in database_versions(kind).items()}
    return {
        "git": git_state(),
        "python": python(),
        "machine": machine(),
        "database": {"kind": kinds[0], "kinds": kinds, **versions},
        "packages": {**versions_of(BENCH_PACKAGES), **versions_of(DRIVER_PACKAGES)},
        "apps": {app.name: app_metadata(app, servers) for app, servers in apps},
        "settings": settings,
        "command_line": command_line,
    }
