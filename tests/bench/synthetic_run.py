"""Synthetic runs for the report's tests: plausible results.jsonl rows, metadata.json and small app folders.

Imported by the tests of bench/report/ (tests/bench/report/) and of bench/results.py as
`tests.bench.synthetic_run`.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.results import METADATA_FILE, RESULTS_FILE, ResultRow, append_row, write_metadata

# Requests per second of each app per scenario: the shape of real results, not real results.
BASE_RPS: Mapping[str, Mapping[str, float]] = {
    "fastapi": {
        "plaintext": 9000.0,
        "json": 8000.0,
        "db": 2500.0,
        "fortunes": 1800.0,
        "api": 900.0,
        "io": 900.0,
    },
    "flask": {
        "plaintext": 5200.0,
        "json": 4700.0,
        "db": 1900.0,
        "fortunes": 1500.0,
        "api": 700.0,
        "io": 150.0,
    },
    "django": {
        "plaintext": 4300.0,
        "json": 4000.0,
        "db": 1500.0,
        "fortunes": 1200.0,
        "api": 600.0,
        "io": 140.0,
    },
}
SERVERS = {"fastapi": "uvicorn", "flask": "gunicorn", "django": "gunicorn"}

# The layout bench/run/metadata.py writes.
METADATA: dict[str, Any] = {
    "run_id": "20250101-120000",
    "status": "complete",
    "started_at": "2025-01-01T12:00:00+00:00",
    "finished_at": "2025-01-01T12:20:00+00:00",
    "profile": "default",
    "git": {"commit": "0123456789ab", "dirty": False},
    "machine": {"cpu_model": "Synthetic CPU @ 2.0GHz", "logical_cpus": 2, "memory_mb": 8192},
    "python": {"implementation": "CPython", "version": "3.11.2"},
    "database": {"kind": "sqlite", "sqlite": "3.40.1"},
    "packages": {"locust": "2.40.0"},
    "apps": {
        "fastapi": {
            "framework": "fastapi",
            "framework_version": "0.120.0",
            "servers": {"uvicorn": {"uvicorn": "0.38"}},
        },
        "flask": {
            "framework": "flask",
            "framework_version": "3.1.0",
            "servers": {"gunicorn": {"gunicorn": "23.0"}},
        },
        "django": {
            "framework": "django",
            "framework_version": "5.2.0",
            "servers": {"gunicorn": {"gunicorn": "23.0"}},
        },
    },
    "settings": {"server_cpus": [0], "load_cpus": [1], "profile": {"warmup_s": 2.0}},
}


def synthetic_rows(
    *,
    apps: Sequence[str] = ("fastapi", "flask", "django"),
    scenarios: Sequence[str] = ("plaintext", "json", "db", "fortunes", "api", "io"),
    users: Sequence[int] = (64,),
    trials: int = 3,
    noise: float = 0.02,
    seed: int = 7,
) -> list[ResultRow]:
    """Return one valid row per app, scenario, user count and trial, with a little noise."""
    rng = random.Random(seed)
    rows = []
    for app in apps:
        for scenario in scenarios:
            for user_count in users:
                saturation = min(1.0, user_count / 64)
                for trial in range(trials):
                    rps = BASE_RPS[app][scenario] * saturation * (1 + rng.uniform(-noise, noise))
                    duration = 20.0
                    rows.append(
                        ResultRow(
                            app=app,
                            server=SERVERS[app],
                            scenario=scenario,
                            users=user_count,
                            trial=trial,
                            duration_s=duration,
                            requests=int(rps * duration),
                            rps=rps,
                            latency_p50_ms=user_count / rps * 1000,
                            latency_p90_ms=user_count / rps * 1500,
                            latency_p99_ms=user_count / rps * 3000,
                            latency_p999_ms=user_count / rps * 5000,
                            latency_max_ms=user_count / rps * 8000,
                            server_cpu_s=0.95 * duration,
                            server_cpu_util=0.95,
                            cpu_ms_per_request=950 / rps,
                            server_rss_mb=60.0 if app == "fastapi" else 90.0,
                            server_processes=2,
                            generator_cpu_util=min(0.95, rps / 12500),
                            data_check="ok",
                            started_at=f"2025-01-01T12:{trial:02d}:00+00:00",
                        )
                    )
    return rows


def flag(
    rows: Iterable[ResultRow], *, app: str, scenario: str, trials: Iterable[int] | None = None, **changes: Any
) -> list[ResultRow]:
    """Return rows with changes applied to the trials (default: all) of one app and scenario."""
    chosen = None if trials is None else set(trials)
    return [
        replace(row, **changes)
        if row.app == app and row.scenario == scenario and (chosen is None or row.trial in chosen)
        else row
        for row in rows
    ]


def write_run(
    run_dir: Path, rows: Iterable[ResultRow], *, metadata: Mapping[str, Any] | None = METADATA
) -> Path:
    """Write results.jsonl (and metadata.json unless None) into run_dir; return run_dir."""
    run_dir.mkdir(parents=True, exist_ok=True)
    for row in rows:
        append_row(run_dir / RESULTS_FILE, row)
    if metadata is not None:
        write_metadata(run_dir / METADATA_FILE, dict(metadata))
    return run_dir


FEATURE_FILES: Mapping[str, str] = {
    "performance.py": '"""Endpoints."""\n\n# why: a comment\ndef plaintext():\n    return "Hello"\n',
    "models.py": "class World:\n    id: int\n    random_number: int\n",
    "io.py": "import asyncio\n\n\nasync def wait(ms):\n    await asyncio.sleep(ms / 1000)\n",
}

APP_PACKAGES: Mapping[str, Mapping[str, Sequence[str]]] = {
    "fastapi": {"orm": ["sqlalchemy"], "admin": ["sqladmin"], "performance": []},
    "flask": {"orm": ["flask-sqlalchemy"], "admin": ["flask-admin"]},
    "django": {},
}
SERVER_PACKAGES = {"uvicorn": ["uvicorn"], "gunicorn": ["gunicorn"]}


def write_app(apps_dir: Path, name: str) -> Path:
    """Write a small app folder (app.toml and three feature modules) for one of the synthetic apps."""
    directory = apps_dir / f"{name}_app"
    directory.mkdir(parents=True, exist_ok=True)
    for relative, text in FEATURE_FILES.items():
        (directory / relative).write_text(text, encoding="utf-8")
    server = SERVERS[name]
    packages = "\n".join(f"{row} = {list(names)!r}" for row, names in APP_PACKAGES[name].items())
    (directory / "app.toml").write_text(
        f'name = "{name}"\nframework = "{name}"\nsetup = ["{{python}}", "-c", "pass"]\n'
        f'admin_list_url = "/admin/"\ndefault_server = "{server}"\n\n'
        f'[servers.{server}]\ncommand = ["{{python}}", "-c", "pass"]\n'
        f"packages = {SERVER_PACKAGES[server]!r}\n\n"
        '[features]\nperformance = ["performance.py"]\norm = ["models.py", "missing.py"]\n'
        'async = ["io.py"]\n\n'
        f"[packages]\n{packages}\n",
        encoding="utf-8",
    )
    return directory


def write_apps(apps_dir: Path, names: Iterable[str] = ("fastapi", "flask", "django")) -> Path:
    for name in names:
        write_app(apps_dir, name)
    return apps_dir
