"""Typed configuration: the apps' app.toml files, the bench profiles, and the environment.

This is the only module that reads environment variables or pyproject.toml.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
APPS_DIR = ROOT / "apps"
REPORTS_DIR = ROOT / "reports"
PYPROJECT = ROOT / "pyproject.toml"
APP_CONFIG_NAME = "app.toml"

DEFAULT_HOST = "127.0.0.1"
HEALTH_PATH = "/health"
DEFAULT_ADMIN_PASSWORD = "admin-password"
DEFAULT_USER_PASSWORD = "user-password"


# The fields of a variant that say what it runs, shown with its figures in every table and chart.
DESCRIPTION_FIELDS = ("server", "worker_model", "orm", "drivers")


@dataclass(frozen=True)
class ServerVariant:
    """One way to run an app: a [servers.NAME] table of its app.toml (see docs/contract.md).

    A variant is a server command plus environment settings the app reads (env): the same code, another
    configuration. server, worker_model, orm and drivers (per database kind) describe it for the reader.
    """

    name: str
    command: tuple[str, ...]
    packages: tuple[str, ...] = ()
    threads: bool = False
    env: dict[str, str] = field(default_factory=dict)
    server: str = ""
    worker_model: str = ""
    orm: str = ""
    drivers: dict[str, str] = field(default_factory=dict)
    concurrent: bool = False  # serves many waiting requests at once without a thread each (io row)
    # A sensitivity variant: the variant it extends (`extends`), the same in all but its fixed worker count
    workers: int | None = None  # worker processes whatever the run's count; None: the run's
    extends: str = ""
    # The scenarios this variant is measured on; empty: every scenario. A variant that changes one thing (the
    # JSON encoder) is measured where that thing is the work, even in a profile of every variant.
    scenarios: tuple[str, ...] = ()
    note: str = ""  # what a reader of its figures should know, quoted beside them in the report

    def workers_for(self, run_workers: int) -> int:
        """Return the worker processes this variant runs with in a run of run_workers."""
        return self.workers or run_workers

    def measures(self, scenario: str) -> bool:
        """Return whether this variant is measured on scenario."""
        return not self.scenarios or scenario in self.scenarios

    def describe(self, db: str | None = None, *, threads: int = 8) -> str:
        """Return what this variant runs, e.g. "uvicorn, asyncio event loop, SQLAlchemy async, asyncpg"
        (db: the database kind whose driver to name; None: every driver)."""
        driver = self.drivers.get(db, "") if db else " / ".join(dict.fromkeys(self.drivers.values()))
        parts = (self.server, self.worker_model.replace("{threads}", str(threads)), self.orm, driver)
        fixed = f"{self.workers} worker processes" if self.workers else ""
        return ", ".join(part for part in (*parts, fixed) if part)

    def render(self, *, python: str, host: str, port: int, workers: int, threads: int) -> list[str]:
        """Return the command line with its placeholders filled in."""
        values = {
            "python": python,
            "host": host,
            "port": str(port),
            "workers": str(workers),
            "threads": str(threads),
        }
        try:
            return [part.format(**values) for part in self.command]
        except KeyError as exc:
            raise ConfigError(f"server {self.name!r}: unknown placeholder {exc} in its command") from exc
        except (IndexError, ValueError) as exc:
            raise ConfigError(f"server {self.name!r}: stray braces in its command ({exc})") from exc


@dataclass(frozen=True)
class AppSpec:
    name: str
    directory: Path
    framework: str
    setup: tuple[str, ...]
    admin_list_url: str
    default_server: str
    servers: dict[str, ServerVariant]
    features: dict[str, tuple[str, ...]] = field(default_factory=dict)
    packages: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # scenario -> what this app's figure of it measures beyond the framework ("Django + DRF", "sqladmin"),
    # named beside the figure wherever the report quotes it
    labels: dict[str, str] = field(default_factory=dict)
    # layer -> module prefixes that belong to it in this app's CPU profiles, over the shared table's
    # (bench/report/layers/layers.toml); app.toml's [layers]
    layers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The distributions the app runs on, names (and extras) without versions: what a versions run installs
    # beside the pinned framework (bench/run/environments).
    requirements: tuple[str, ...] = ()

    @property
    def root(self) -> Path:
        """Return the tree the app belongs to (apps/<name>_app sits two levels below it).

        Its processes run from there, so that an app checked out elsewhere (a git worktree in A/B mode) runs
        its own code.
        """
        return self.directory.parent.parent

    @property
    def primary_servers(self) -> list[str]:
        """Return the variants that are not a sensitivity copy of another (what "all" means)."""
        return [name for name, variant in self.servers.items() if not variant.extends]

    def server(self, name: str | None) -> ServerVariant:
        """Return the named server variant, or the default one when name is None."""
        chosen = name or self.default_server
        if chosen not in self.servers:
            known = ", ".join(sorted(self.servers))
            raise ConfigError(f"app {self.name!r} has no server {chosen!r} (it has: {known})")
        return self.servers[chosen]

    def render_setup(self, *, python: str) -> list[str]:
        """Return the setup command (schema and seed) with {python} filled in."""
        return [part.format(python=python) for part in self.setup]


def _require(table: dict[str, Any], key: str, where: Path) -> Any:
    if key not in table:
        raise ConfigError(f"{where}: missing key {key!r}")
    return table[key]


def _string_table(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(f'{where}: expected a table of name = "text"')
    return dict(value)


def _parse_variant(name: str, table: dict[str, Any], where: Path) -> ServerVariant:
    known = {
        "command",
        "packages",
        "threads",
        "env",
        "concurrent",
        "workers",
        "extends",
        "scenarios",
        "note",
        *DESCRIPTION_FIELDS,
    }
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{where} [servers.{name}]: unknown key(s) {', '.join(unknown)}")
    workers = table.get("workers")
    if workers is not None and (not isinstance(workers, int) or isinstance(workers, bool) or workers < 1):
        raise ConfigError(f"{where} [servers.{name}]: workers must be a whole number of at least 1")
    return ServerVariant(
        name=name,
        command=tuple(_require(table, "command", where)),
        packages=tuple(table.get("packages", ())),
        threads=bool(table.get("threads", False)),
        env=_string_table(table.get("env", {}), f"{where} [servers.{name}] env"),
        server=str(table.get("server", "")),
        worker_model=str(table.get("worker_model", "")),
        orm=str(table.get("orm", "")),
        drivers=_string_table(table.get("drivers", {}), f"{where} [servers.{name}] drivers"),
        concurrent=bool(table.get("concurrent", False)),
        workers=workers,
        extends=str(table.get("extends", "")),
        scenarios=tuple(str(name) for name in table.get("scenarios", ())),
        note=str(table.get("note", "")),
    )


def _extended(servers_table: dict[str, Any], where: Path) -> dict[str, dict[str, Any]]:
    """Return each variant's table with the keys of the variant it `extends` filled in (one level deep)."""
    tables: dict[str, dict[str, Any]] = {}
    for name, table in servers_table.items():
        base_name = table.get("extends")
        if base_name is None:
            tables[name] = dict(table)
            continue
        base = servers_table.get(base_name)
        if base is None or "extends" in base:
            raise ConfigError(
                f"{where} [servers.{name}]: extends {base_name!r}, which is not a variant of its own there"
            )
        tables[name] = {**base, **table}
    return tables


def parse_app_config(data: dict[str, Any], *, directory: Path) -> AppSpec:
    """Return the AppSpec described by the parsed contents of an app.toml."""
    where = directory / APP_CONFIG_NAME
    servers_table = _require(data, "servers", where)
    servers = {
        name: _parse_variant(name, table, where) for name, table in _extended(servers_table, where).items()
    }
    default_server = _require(data, "default_server", where)
    if default_server not in servers:
        raise ConfigError(f"{where}: default_server {default_server!r} is not in [servers]")
    return AppSpec(
        name=_require(data, "name", where),
        directory=directory,
        framework=_require(data, "framework", where),
        setup=tuple(_require(data, "setup", where)),
        admin_list_url=_require(data, "admin_list_url", where),
        default_server=default_server,
        servers=servers,
        features={row: tuple(paths) for row, paths in data.get("features", {}).items()},
        packages={row: tuple(names) for row, names in data.get("packages", {}).items()},
        labels=_string_table(data.get("labels", {}), f"{where} [labels]"),
        layers=_prefix_table(data.get("layers", {}), f"{where} [layers]"),
        requirements=tuple(str(name) for name in data.get("requirements", ())),
    )


def _prefix_table(value: Any, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, dict) or not all(
        isinstance(items, list) and all(isinstance(item, str) for item in items) for items in value.values()
    ):
        raise ConfigError(f'{where}: expected a table of layer = ["module.prefix", ...]')
    return {layer: tuple(items) for layer, items in value.items()}


def discover_apps(apps_dir: Path = APPS_DIR) -> list[str]:
    """Return the names of the apps that have an app.toml, in a stable order."""
    names = []
    for config_path in sorted(apps_dir.glob(f"*/{APP_CONFIG_NAME}")):
        data = _read_toml(config_path)
        names.append(str(_require(data, "name", config_path)))
    return names


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from exc


def load_app(name: str, apps_dir: Path = APPS_DIR) -> AppSpec:
    """Return the AppSpec of the app called name (its folder is apps/<name>_app)."""
    directory = apps_dir / f"{name}_app"
    config_path = directory / APP_CONFIG_NAME
    if not config_path.is_file():
        known = ", ".join(discover_apps(apps_dir)) or "none"
        raise ConfigError(f"no app {name!r}: {config_path} does not exist (known apps: {known})")
    return parse_app_config(_read_toml(config_path), directory=directory)


@dataclass(frozen=True)
class Credentials:
    admin_password: str
    user_password: str


def credentials_from_env() -> Credentials:
    """Return the seed users' passwords: BENCH_ADMIN_PASSWORD and BENCH_USER_PASSWORD, or the defaults."""
    return Credentials(
        admin_password=os.environ.get("BENCH_ADMIN_PASSWORD", DEFAULT_ADMIN_PASSWORD),
        user_password=os.environ.get("BENCH_USER_PASSWORD", DEFAULT_USER_PASSWORD),
    )


def env_value(name: str, default: str | None = None) -> str | None:
    """Return an environment variable; the one door through which bench/ reads the environment."""
    return os.environ.get(name, default)


# Databases and server scratch files live in memory when the machine has a tmpfs: a shared virtual disk's
# write latency and the file system's journaling are noise to a framework benchmark (writing cells varied
# 6-14% in CPU per request from run to run on ext4 here, about 5% on tmpfs). BENCH_SCRATCH_DIR overrides.
SCRATCH_ENV = "BENCH_SCRATCH_DIR"
MEMORY_SCRATCH = Path("/dev/shm")


def scratch_root() -> Path | None:
    """Return the directory for databases and scratch files: BENCH_SCRATCH_DIR, /dev/shm, or the default."""
    chosen = os.environ.get(SCRATCH_ENV)
    if chosen:
        path = Path(chosen)
        if not path.is_dir() or not os.access(path, os.W_OK | os.X_OK):
            raise ConfigError(f"{SCRATCH_ENV}={chosen} is not a writable directory")
        return path
    if MEMORY_SCRATCH.is_dir() and os.access(MEMORY_SCRATCH, os.W_OK | os.X_OK):
        return MEMORY_SCRATCH
    return None  # tempfile's default (TMPDIR or /tmp)


# The Makefile bootstraps uv here; `bench check --ab` uses it to build side A's environment from REF's lock.
UV_IN_TOOLS = ROOT / ".tools" / "bin" / "uv"


def find_uv() -> Path | None:
    """Return the uv executable: the one the Makefile installed, else uv on PATH, else None."""
    if UV_IN_TOOLS.is_file():
        return UV_IN_TOOLS
    found = shutil.which("uv")
    return Path(found) if found else None


# Where a versions run keeps its environments (one per framework release and Python, built once by uv):
# outside the checkout, shared by every clone. BENCH_ENV_CACHE overrides.
ENV_CACHE_ENV = "BENCH_ENV_CACHE"


def environments_cache() -> Path:
    """Return the directory of the versions run's environments: BENCH_ENV_CACHE, else the user's cache."""
    chosen = os.environ.get(ENV_CACHE_ENV)
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "framework-bench" / "envs"


def read_tool_config(section: str, pyproject: Path = PYPROJECT) -> dict[str, Any]:
    """Return the [tool.bench.<section>] table of pyproject.toml (empty when absent)."""
    with pyproject.open("rb") as handle:
        data = tomllib.load(handle)
    table: dict[str, Any] = data.get("tool", {}).get("bench", {}).get(section, {})
    return table


def installed_version(name: str) -> str | None:
    """Return the installed version of a distribution, or None when it is not installed."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None
