"""Named benchmark profiles: the matrix a run measures, from pyproject.toml's [tool.bench.profiles.*].

A profile names apps, server variants, scenarios, user counts, window lengths and trials; command-line
options override single fields. [tool.bench.scenario_users] gives the user counts of scenarios whose
workload needs other ones than the profile's (io runs at a high user count; auth's requests each hash a
password for tens of milliseconds); a profile may override that table with its own `scenario_users`. A
profile's `scenario_trials` gives some scenarios more trials than its `trials` (the quick profile measures its
writing scenario three times: one short window of it varies too much from run to run), and its
`scenario_min_requests` lets some scenarios' windows run on until they hold enough requests (auth, whose
requests each hash a password, holds about a dozen in a 2 s window).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.config import PYPROJECT, read_tool_config
from bench.errors import ConfigError
from bench.run.database import DB_KINDS
from bench.run.loadgen.sweep import ARRIVALS, POISSON
from bench.run.validity import MAX_FAILURE_RATIO

PROFILES_SECTION = "profiles"
SCENARIO_USERS_SECTION = "scenario_users"
DEFAULT_PROFILE = "default"
ALL = "all"  # in `servers`: every variant of every app; in `apps` or `scenarios`, like an empty list
DEFAULT_SERVER = "default"  # in `servers`: each app's default_server
DEFAULT_MAX_WINDOW_S = 120.0
EVERY_PYTHON = ("newest", "all")  # a versions profile's every_python


@dataclass(frozen=True)
class Profile:
    """One benchmark matrix and how long each of its cells is measured."""

    name: str
    description: str = ""
    apps: tuple[str, ...] = ()  # empty: every app with an app.toml
    servers: tuple[str, ...] = (DEFAULT_SERVER,)  # variant names, "default" or "all"
    scenarios: tuple[str, ...] = ()  # empty: every scenario
    users: tuple[int, ...] = (32,)
    scenario_users: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    # Scenarios measured on more (or other) server variants than `servers`, on the profile's first database
    # only (make bench: every variant on db, fortunes, api and io, on PostgreSQL)
    scenario_servers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    warmup_s: float = 2.0
    duration_s: float = 5.0
    trials: int = 3
    scenario_trials: Mapping[str, int] = field(default_factory=dict)  # scenarios measured more (or less)
    workers: int = 1  # server worker processes, the same for every app
    threads: int = 8  # threads per worker, for servers that use {threads}
    # sqlite, postgres or a DATABASE_URL; several: the database rows (PER_DATABASE scenarios) run on each,
    # the other scenarios on the first only
    db: tuple[str, ...] = ("sqlite",)
    max_failure_ratio: float = MAX_FAILURE_RATIO
    restart_every_cell: bool = (
        False  # False: a server is reused by read-only cells, restarted for writing ones
    )
    seed: int | None = None  # of the shuffled cell order; None: a new one per run (recorded in metadata)
    # A window lasts duration_s and then on until min_requests requests completed in it, at most max_window_s
    # (0: duration_s alone). Tests use it, so that no check depends on how fast the machine is.
    min_requests: int = 0
    max_window_s: float = DEFAULT_MAX_WINDOW_S
    scenario_min_requests: Mapping[str, int] = field(default_factory=dict)  # per scenario, over min_requests
    # An open-loop rate sweep after each cell's closed-loop window (bench.run.loadgen.openloop): these shares
    # of the cell's closed-loop rate, step_s each, then a recovery step at recovery_share. Empty: no sweep.
    sweep: tuple[float, ...] = ()
    step_s: float = 2.0
    recovery_share: float = 0.5
    open_timeout_s: float = 2.0  # an open-loop request unanswered after this is a timeout
    open_users_max: int = 512
    # How a sweep step's arrivals are spread: "poisson" (exponential gaps, seeded by the trial number, so a
    # rerun plans the same arrivals) or "even" (bench.run.loadgen.sweep.ARRIVALS)
    arrivals: str = POISSON
    # The latency target of the report's capacity table; None: 10x the scenario's median unloaded p50
    slo_ms: float | None = None
    # Measure GET scenarios with wrk too, right after Locust, on the same server (bench.run.yardstick)
    yardstick: bool = False
    # One extra trial per cell of these scenarios, after the measured ones and not counted in any figure,
    # with py-spy sampling every server process (bench.run.profiling): each app's default server, on the
    # profile's first database, a window of profile_duration_s. Empty profile_scenarios: every scenario.
    profile_trial: bool = False
    profile_scenarios: tuple[str, ...] = ()
    profile_duration_s: float = 5.0
    profile_rate_hz: int = 200  # samples per second and thread
    # C frames too (py-spy --native): it pauses the process at each sample (throughput fell 30-40% here)
    profile_native: bool = False
    # A versions profile (bench/run/environments): app -> the framework's release lines it measures, each in
    # an environment of its own; pythons: "all" (every 3.11+ interpreter found) or versions such as "3.12";
    # release_python: the Python every release runs on ("" the newest found); every_python: which releases
    # also run on every other Python, "newest" (each framework's last release) or "all".
    releases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    pythons: tuple[str, ...] = ()
    release_python: str = ""
    every_python: str = "newest"
    # app -> distributions released in lockstep with its framework, pinned to the same release line
    lockstep: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def versions(self) -> bool:
        """Return whether this profile measures framework releases (environments built by uv)."""
        return bool(self.releases)

    def users_for(self, scenario: str) -> tuple[int, ...]:
        """Return the user counts a scenario runs at in this profile."""
        return tuple(self.scenario_users.get(scenario, self.users))

    def databases_for(self, *, per_database: bool) -> tuple[str, ...]:
        """Return the databases a scenario runs on: every one for a database row, else the first."""
        return self.db if per_database else self.db[:1]

    def trials_for(self, scenario: str) -> int:
        """Return how many trials of a scenario's cells this profile measures."""
        return self.scenario_trials.get(scenario, self.trials)

    def min_requests_for(self, scenario: str) -> int:
        """Return how many requests a window of the scenario holds at least (0: its duration alone)."""
        return self.scenario_min_requests.get(scenario, self.min_requests)

    def with_overrides(self, **overrides: Any) -> Profile:
        """Return a copy with the given fields replaced; None values leave a field as it is.

        Overriding `users` also overrides `scenario_users`, `servers` overrides `scenario_servers` and
        `trials` overrides `scenario_trials` and `min_requests` overrides `scenario_min_requests`: a value
        given on the command line means every scenario.
        """
        given = {key: value for key, value in overrides.items() if value is not None}
        if "users" in given:
            given.setdefault("scenario_users", {})
        if "servers" in given:
            given.setdefault("scenario_servers", {})
        if "trials" in given:
            given.setdefault("scenario_trials", {})
        if "min_requests" in given:
            given.setdefault("scenario_min_requests", {})
        for key in ("apps", "servers", "scenarios", "users", "sweep", "profile_scenarios"):
            if key in given:
                given[key] = tuple(given[key])
        if "db" in given:
            given["db"] = database_list(given["db"])
        profile = dataclasses.replace(self, **given)
        validate(profile)
        return profile


def _tuple_of(value: Any, *, kind: type, where: str) -> tuple[Any, ...]:
    items = [value] if isinstance(value, kind) else value
    if not isinstance(items, list | tuple) or not all(isinstance(item, kind) for item in items):
        raise ConfigError(f"{where}: expected a list of {kind.__name__}")
    return tuple(items)


def parse_profile(name: str, table: Mapping[str, Any], *, scenario_users: Mapping[str, Any]) -> Profile:
    """Return the Profile described by one [tool.bench.profiles.NAME] table."""
    where = f"[tool.bench.{PROFILES_SECTION}.{name}]"
    known = {f.name for f in dataclasses.fields(Profile)} - {"name"}
    unknown = set(table) - known
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(sorted(known))})"
        )
    values: dict[str, Any] = dict(table)
    for key in ("apps", "servers", "scenarios", "profile_scenarios"):
        if key in values:
            values[key] = tuple(
                v for v in _tuple_of(values[key], kind=str, where=f"{where} {key}") if v != ALL
            )
    if values.get("servers") == ():
        values["servers"] = (ALL,)  # servers = ["all"] was given
    if "users" in values:
        values["users"] = _tuple_of(values["users"], kind=int, where=f"{where} users")
    if "db" in values:
        values["db"] = _tuple_of(values["db"], kind=str, where=f"{where} db")
    if "sweep" in values:
        shares = values["sweep"]
        if not isinstance(shares, list) or not all(
            isinstance(share, int | float) and not isinstance(share, bool) for share in shares
        ):
            raise ConfigError(f"{where} sweep: expected a list of numbers (shares of the closed-loop rate)")
        values["sweep"] = tuple(float(share) for share in shares)
    users_table = values.pop("scenario_users", scenario_users)
    values["scenario_users"] = {
        scenario: _tuple_of(counts, kind=int, where=f"{where} scenario_users.{scenario}")
        for scenario, counts in users_table.items()
    }
    servers_table = values.pop("scenario_servers", {})
    if not isinstance(servers_table, Mapping):
        raise ConfigError(f"{where} scenario_servers: expected a table of scenario = [variant, ...]")
    values["scenario_servers"] = {
        scenario: _tuple_of(names, kind=str, where=f"{where} scenario_servers.{scenario}")
        for scenario, names in servers_table.items()
    }
    releases = values.pop("releases", {})
    if not isinstance(releases, Mapping) or not all(
        isinstance(lines, list) and all(isinstance(line, str) for line in lines)
        for lines in releases.values()
    ):
        raise ConfigError(f'{where} releases: expected a table of app = ["release", ...]')
    values["releases"] = {app: tuple(lines) for app, lines in releases.items()}
    lockstep = values.pop("lockstep", {})
    if not isinstance(lockstep, Mapping):
        raise ConfigError(f'{where} lockstep: expected a table of app = ["distribution", ...]')
    values["lockstep"] = {
        app: _tuple_of(names, kind=str, where=f"{where} lockstep.{app}") for app, names in lockstep.items()
    }
    if "pythons" in values:
        values["pythons"] = _tuple_of(values["pythons"], kind=str, where=f"{where} pythons")
    for key in ("scenario_trials", "scenario_min_requests"):
        table = values.pop(key, {})
        if not isinstance(table, Mapping) or not all(isinstance(v, int) for v in table.values()):
            raise ConfigError(f"{where} {key}: expected a table of scenario = whole number")
        values[key] = dict(table)
    profile = Profile(name=name, **values)
    validate(profile)
    return profile


def database_list(value: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Return a profile's databases from a command-line value ("postgres,sqlite") or a list."""
    items = value.split(",") if isinstance(value, str) else value
    return tuple(item.strip() for item in items if item.strip())


def validate(profile: Profile) -> None:
    """Raise ConfigError when a profile cannot run."""
    where = f"profile {profile.name!r}"
    if profile.duration_s <= 0 or profile.warmup_s < 0:
        raise ConfigError(f"{where}: duration_s must be > 0 and warmup_s >= 0")
    if min(profile.trials, *profile.scenario_trials.values(), profile.workers, profile.threads) < 1:
        raise ConfigError(f"{where}: trials, scenario_trials, workers and threads must be at least 1")
    if not profile.users or any(
        count < 1 for counts in (profile.users, *profile.scenario_users.values()) for count in counts
    ):
        raise ConfigError(f"{where}: user counts must be at least 1")
    if not profile.db or len(set(profile.db)) != len(profile.db):
        raise ConfigError(f"{where}: db must name at least one database, each once")
    for db in profile.db:
        if db not in DB_KINDS and "://" not in db:
            raise ConfigError(f"{where}: db must be sqlite, postgres or a DATABASE_URL, not {db!r}")
    if min([profile.min_requests, *profile.scenario_min_requests.values()]) < 0 or (
        profile.max_window_s < profile.duration_s
    ):
        raise ConfigError(f"{where}: min_requests must be >= 0 and max_window_s at least duration_s")
    if not 0 <= profile.max_failure_ratio < 1:
        raise ConfigError(f"{where}: max_failure_ratio must be in [0, 1)")
    if any(share <= 0 for share in profile.sweep) or not profile.recovery_share > 0:
        raise ConfigError(
            f"{where}: sweep shares and recovery_share must be above 0 (1.0: the closed-loop rate)"
        )
    if profile.step_s <= 0 or profile.open_timeout_s <= 0 or profile.open_users_max < 1:
        raise ConfigError(f"{where}: step_s and open_timeout_s must be > 0 and open_users_max at least 1")
    if profile.arrivals not in ARRIVALS:
        raise ConfigError(f"{where}: arrivals must be one of {', '.join(ARRIVALS)}; got {profile.arrivals!r}")
    if profile.profile_duration_s <= 0 or not 1 <= profile.profile_rate_hz <= 1000:
        raise ConfigError(f"{where}: profile_duration_s must be > 0 and profile_rate_hz in [1, 1000]")
    if profile.every_python not in EVERY_PYTHON:
        raise ConfigError(f"{where}: every_python must be one of {', '.join(EVERY_PYTHON)}")
    if any(not lines for lines in profile.releases.values()):
        raise ConfigError(f"{where}: releases must name at least one release per app")
    if profile.slo_ms is not None and profile.slo_ms <= 0:
        raise ConfigError(f"{where}: slo_ms must be above 0 (milliseconds of p99)")


def available_profiles(pyproject: Path = PYPROJECT) -> dict[str, Profile]:
    """Return every profile declared in pyproject.toml, by name."""
    tables = read_tool_config(PROFILES_SECTION, pyproject)
    scenario_users = read_tool_config(SCENARIO_USERS_SECTION, pyproject)
    return {name: parse_profile(name, table, scenario_users=scenario_users) for name, table in tables.items()}


def load_profile(name: str = DEFAULT_PROFILE, pyproject: Path = PYPROJECT) -> Profile:
    """Return the named profile."""
    profiles = available_profiles(pyproject)
    if name not in profiles:
        known = ", ".join(profiles) or "none"
        raise ConfigError(
            f"no profile {name!r} in [tool.bench.{PROFILES_SECTION}] of {pyproject} (known: {known})"
        )
    return profiles[name]
