"""bench/run/profiles.py: the profiles of pyproject.toml and command-line overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.errors import ConfigError
from bench.report.rows import unscored_scenarios
from bench.run.loadgen.sweep import EVEN, POISSON
from bench.run.profiles import ALL, available_profiles, load_profile
from bench.run.schedule import resolve_scenarios
from bench.scenarios import discover_scenarios

PYPROJECT = """
[tool.bench.scenario_users]
io = [256]

[tool.bench.profiles.small]
scenarios = ["plaintext", "io"]
users = [8, 16]
duration_s = 3
warmup_s = 1
trials = 2
scenario_trials = { io = 4 }
scenario_min_requests = { io = 500 }

[tool.bench.profiles.everything]
servers = ["all"]
scenario_users = {}
"""


@pytest.fixture
def pyproject(tmp_path: Path) -> Path:
    path = tmp_path / "pyproject.toml"
    path.write_text(PYPROJECT)
    return path


def test_the_repository_declares_quick_default_and_full() -> None:
    profiles = available_profiles()
    assert {"quick", "default", "full"} <= profiles.keys()
    assert profiles["default"].trials >= 3
    # make bench: every scenario in the score (docs is not), every variant where they differ most
    assert set(resolve_scenarios(profiles["default"])) | unscored_scenarios() == set(discover_scenarios())
    assert {"db", "api", "io"} <= {
        name for name, servers in profiles["default"].scenario_servers.items() if servers == (ALL,)
    }
    assert profiles["full"].servers == (ALL,) and profiles["full"].scenarios == ()
    assert "errors" in resolve_scenarios(profiles["full"]), "the error path is measured in the full profile"


def test_a_profile_reads_its_table_and_the_shared_scenario_users(pyproject: Path) -> None:
    profile = load_profile("small", pyproject)
    assert profile.scenarios == ("plaintext", "io")
    assert profile.users_for("plaintext") == (8, 16)
    assert profile.users_for("io") == (256,)
    assert (profile.duration_s, profile.warmup_s, profile.trials) == (3, 1, 2)


def test_a_scenario_may_need_more_requests_than_the_profile(pyproject: Path) -> None:
    profile = load_profile("small", pyproject)
    assert profile.min_requests_for("io") == 500
    assert profile.min_requests_for("plaintext") == 0
    # A count given on the command line is every scenario's.
    assert profile.with_overrides(min_requests=50).min_requests_for("io") == 50
    # make bench's auth windows hold enough password checks for a figure (about a dozen in 2 s).
    assert available_profiles()["default"].min_requests_for("auth") >= 50


def test_a_negative_request_count_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "pyproject.toml"
    bad.write_text("[tool.bench.profiles.p]\nscenario_min_requests = { auth = -1 }\n")
    with pytest.raises(ConfigError, match="min_requests"):
        load_profile("p", bad)


def test_a_profile_may_override_the_scenario_users(pyproject: Path) -> None:
    profile = load_profile("everything", pyproject)
    assert profile.users_for("io") == (32,)
    assert profile.servers == (ALL,)


def test_users_on_the_command_line_mean_every_scenario(pyproject: Path) -> None:
    profile = load_profile("small", pyproject).with_overrides(users=[4], trials=None, duration_s=1.5)
    assert profile.users_for("io") == (4,)
    assert profile.trials == 2  # None leaves a field as it is
    assert profile.duration_s == 1.5


def test_unknown_profiles_and_keys_are_refused(pyproject: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no profile 'nope'.*small"):
        load_profile("nope", pyproject)
    bad = tmp_path / "bad.toml"
    bad.write_text("[tool.bench.profiles.typo]\ndurations = 3\n")
    with pytest.raises(ConfigError, match="unknown key"):
        load_profile("typo", bad)


@pytest.mark.parametrize(
    "override",
    [
        {"trials": 0},
        {"duration_s": 0},
        {"users": [0]},
        {"db": "mysql"},
        {"workers": 0},
        {"sweep": [0.5, 0]},
        {"step_s": 0},
        {"slo_ms": -1},
        {"open_timeout_s": 0},
    ],
)
def test_impossible_overrides_are_refused(pyproject: Path, override: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        load_profile("small", pyproject).with_overrides(**override)


def test_some_scenarios_may_have_more_trials(pyproject: Path) -> None:
    profile = load_profile("small", pyproject)
    assert (profile.trials_for("io"), profile.trials_for("plaintext")) == (4, 2)
    every = profile.with_overrides(trials=5)  # --trials means every scenario
    assert (every.trials_for("io"), every.trials_for("plaintext")) == (5, 5)


@pytest.mark.parametrize("table", ["{ io = 0 }", '{ io = "many" }', "[3]"])
def test_bad_scenario_trials_are_refused(tmp_path: Path, table: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(f"[tool.bench.profiles.p]\nscenario_trials = {table}\n")
    with pytest.raises(ConfigError, match="scenario_trials"):
        load_profile("p", bad)


def test_a_window_that_waits_for_requests_must_be_allowed_to_last(pyproject: Path) -> None:
    profile = load_profile("small", pyproject).with_overrides(min_requests=50, duration_s=2)
    assert (profile.min_requests, profile.max_window_s) == (50, 120.0)
    with pytest.raises(ConfigError, match="max_window_s"):
        profile.with_overrides(max_window_s=1)


def test_a_profile_may_name_several_databases(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        '[tool.bench.profiles.both]\ndb = ["postgres", "sqlite"]\n[tool.bench.profiles.one]\ndb = "sqlite"\n'
    )
    both = load_profile("both", path)
    assert both.db == ("postgres", "sqlite")
    assert both.databases_for(per_database=True) == ("postgres", "sqlite")
    assert both.databases_for(per_database=False) == ("postgres",)
    assert load_profile("one", path).db == ("sqlite",)
    assert both.with_overrides(db="sqlite, postgres").db == ("sqlite", "postgres")
    for bad in ("sqlite,sqlite", "mysql", ""):
        with pytest.raises(ConfigError, match="db"):
            both.with_overrides(db=bad if bad else ())


def test_make_bench_measures_the_database_rows_on_postgres_then_sqlite() -> None:
    default = load_profile("default")
    assert default.db == ("postgres", "sqlite")


def test_the_latency_profile_sweeps_the_recommended_variants_and_runs_the_yardstick() -> None:
    latency = load_profile("latency")
    assert set(latency.scenarios) == {"db", "api"}
    assert latency.servers == ("default",) and latency.db == ("postgres",)
    assert latency.sweep == (0.25, 0.5, 0.75, 0.9, 1.0, 1.25) and latency.recovery_share == 0.5
    assert latency.yardstick and latency.trials == 3
    assert latency.arrivals == POISSON
    # A p99 from at least 1,000 requests at 25% of a 1,000 req/s peak (docs/latency.md)
    assert 0.25 * 1000 * latency.step_s >= 1000
    # make bench keeps its closed-loop matrix
    assert not load_profile("default").sweep and not load_profile("default").yardstick


def test_arrivals_are_poisson_or_even(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.bench.profiles.e]\narrivals = "even"\n')
    assert load_profile("e", path).arrivals == EVEN
    path.write_text('[tool.bench.profiles.bad]\narrivals = "bursty"\n')
    with pytest.raises(ConfigError, match="arrivals must be one of poisson, even"):
        load_profile("bad", path)


def test_a_sweep_is_read_as_shares_and_can_be_switched_off(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.bench.profiles.s]\nsweep = [0.5, 1]\nslo_ms = 25\n")
    profile = load_profile("s", path)
    assert profile.sweep == (0.5, 1.0) and profile.slo_ms == 25
    assert profile.with_overrides(sweep=[]).sweep == ()
    path.write_text('[tool.bench.profiles.bad]\nsweep = ["x"]\n')
    with pytest.raises(ConfigError, match="sweep"):
        load_profile("bad", path)


VERSIONS_PYPROJECT = """
[tool.bench.profiles.versions]
releases = { flask = ["2.3", "3.1"] }
pythons = ["all"]
release_python = "3.12"
scenarios = ["db"]
db = ["postgres"]

[tool.bench.profiles.wrong]
releases = { flask = ["2.3"] }
every_python = "some"
"""


def test_a_versions_profile_names_releases_as_settings(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(VERSIONS_PYPROJECT.split("[tool.bench.profiles.wrong]")[0])
    profile = load_profile("versions", path)
    assert profile.versions
    assert profile.releases == {"flask": ("2.3", "3.1")}
    assert profile.pythons == ("all",)
    assert profile.every_python == "newest"
    assert not load_profile("default").versions


def test_a_versions_profile_with_an_unknown_every_python_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(VERSIONS_PYPROJECT)
    with pytest.raises(ConfigError, match="every_python"):
        available_profiles(path)


def test_the_project_s_versions_profile_has_at_least_four_releases_per_framework() -> None:
    profile = load_profile("versions")
    assert set(profile.releases) == {"django", "flask", "fastapi"}
    assert all(len(lines) >= 4 for lines in profile.releases.values())
    assert profile.db == ("postgres",)
    assert set(profile.scenarios) == {"db", "fortunes", "json", "api"}
