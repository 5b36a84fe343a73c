"""bench/config.py: parsing app.toml, rendering command templates, discovering and loading apps."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.config import (
    APPS_DIR,
    ServerVariant,
    credentials_from_env,
    discover_apps,
    load_app,
    parse_app_config,
    read_tool_config,
    scratch_root,
)
from bench.errors import ConfigError


def app_config(**changes: Any) -> dict[str, Any]:
    """Return the parsed contents of a valid app.toml, with changes applied (None removes a key)."""
    data: dict[str, Any] = {
        "name": "demo",
        "framework": "demoframework",
        "setup": ["{python}", "-m", "apps.demo_app.setup_db"],
        "admin_list_url": "/admin/item/",
        "default_server": "main",
        "servers": {
            "main": {
                "command": ["{python}", "-m", "demo", "--bind", "{host}:{port}", "-w", "{workers}"],
                "packages": ["demoserver"],
            },
            "threaded": {"command": ["demo-threaded", "--threads", "{threads}"], "threads": True},
        },
        "features": {"performance": ["performance.py"], "orm": ["models.py", "db.py"]},
        "packages": {"orm": ["demo-orm"], "performance": []},
    }
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return data


def write_app(apps_dir: Path, folder: str, text: str) -> Path:
    directory = apps_dir / folder
    directory.mkdir(parents=True)
    (directory / "app.toml").write_text(text)
    return directory


MINIMAL_TOML = """
name = "{name}"
framework = "{name}"
setup = ["{{python}}", "-c", "pass"]
admin_list_url = "/admin/"
default_server = "only"

[servers.only]
command = ["{{python}}", "-m", "http.server", "{{port}}"]
"""


def test_parse_a_valid_config() -> None:
    spec = parse_app_config(app_config(), directory=Path("/somewhere/demo_app"))
    assert spec.name == "demo"
    assert spec.framework == "demoframework"
    assert spec.directory == Path("/somewhere/demo_app")
    assert spec.setup == ("{python}", "-m", "apps.demo_app.setup_db")
    assert spec.admin_list_url == "/admin/item/"
    assert spec.default_server == "main"
    assert set(spec.servers) == {"main", "threaded"}
    assert spec.servers["main"].packages == ("demoserver",)
    assert spec.servers["main"].threads is False
    assert spec.servers["threaded"].threads is True
    assert spec.servers["threaded"].packages == ()
    assert spec.features == {"performance": ("performance.py",), "orm": ("models.py", "db.py")}
    assert spec.packages == {"orm": ("demo-orm",), "performance": ()}


def test_features_and_packages_are_optional() -> None:
    spec = parse_app_config(app_config(features=None, packages=None), directory=Path("x"))
    assert spec.features == {}
    assert spec.packages == {}
    assert spec.labels == {}
    assert spec.servers["main"].scenarios == ()
    assert spec.servers["main"].note == ""


def test_labels_and_a_variant_s_scenarios_and_note_are_read() -> None:
    servers = {
        "main": {"command": ["serve"]},
        "fast-json": {"command": ["serve"], "scenarios": ["json", "api"], "note": "another encoder"},
    }
    data = app_config(servers=servers, labels={"api": "Demo + REST kit"})
    spec = parse_app_config(data, directory=Path("x"))
    assert spec.labels == {"api": "Demo + REST kit"}
    fast = spec.servers["fast-json"]
    assert (fast.scenarios, fast.note) == (("json", "api"), "another encoder")
    assert fast.measures("json") and not fast.measures("db")
    assert spec.servers["main"].measures("db")


def test_labels_must_be_text() -> None:
    with pytest.raises(ConfigError, match=r"\[labels\]"):
        parse_app_config(app_config(labels={"api": 3}), directory=Path("x"))


@pytest.mark.parametrize(
    "missing", ["name", "framework", "setup", "admin_list_url", "default_server", "servers"]
)
def test_a_missing_key_is_named(missing: str) -> None:
    with pytest.raises(ConfigError, match=f"missing key '{missing}'") as raised:
        parse_app_config(app_config(**{missing: None}), directory=Path("/apps/demo_app"))
    assert "/apps/demo_app/app.toml" in str(raised.value)


def test_a_server_without_command_is_an_error() -> None:
    with pytest.raises(ConfigError, match="missing key 'command'"):
        parse_app_config(app_config(servers={"main": {"packages": ["x"]}}), directory=Path("x"))


def test_the_default_server_must_exist() -> None:
    with pytest.raises(ConfigError, match="default_server 'nope' is not in"):
        parse_app_config(app_config(default_server="nope"), directory=Path("x"))


def test_render_fills_every_placeholder() -> None:
    variant = ServerVariant(
        name="main",
        command=("{python}", "serve", "{host}:{port}", "-w", "{workers}", "--threads", "{threads}", "plain"),
    )
    rendered = variant.render(python="/venv/bin/python", host="127.0.0.1", port=8123, workers=4, threads=16)
    assert rendered == ["/venv/bin/python", "serve", "127.0.0.1:8123", "-w", "4", "--threads", "16", "plain"]


def test_render_rejects_an_unknown_placeholder() -> None:
    variant = ServerVariant(name="main", command=("{python}", "--cpus", "{cpus}"))
    with pytest.raises(ConfigError, match=r"server 'main': unknown placeholder 'cpus'"):
        variant.render(python="p", host="h", port=1, workers=1, threads=1)


def test_server_picks_the_default_or_the_named_variant() -> None:
    spec = parse_app_config(app_config(), directory=Path("x"))
    assert spec.server(None).name == "main"
    assert spec.server("threaded").name == "threaded"
    with pytest.raises(ConfigError, match=r"has no server 'uwsgi' \(it has: main, threaded\)"):
        spec.server("uwsgi")


def test_a_variant_may_extend_another_with_its_own_worker_count() -> None:
    servers = {
        "main": {"command": ["demo", "-w", "{workers}"], "packages": ["demoserver"], "server": "demo"},
        "two": {"extends": "main", "workers": 2},
    }
    spec = parse_app_config(app_config(servers=servers), directory=Path("x"))
    two = spec.server("two")
    assert two.command == spec.server("main").command and two.packages == ("demoserver",)
    assert two.workers_for(1) == 2 and spec.server("main").workers_for(3) == 3
    assert "2 worker processes" in two.describe()
    assert spec.primary_servers == ["main"]


@pytest.mark.parametrize(
    ("two", "message"),
    [
        ({"extends": "nope", "workers": 2}, "extends 'nope'"),
        ({"extends": "main", "workers": 0}, "workers must be"),
        ({"extends": "main", "workers": "2"}, "workers must be"),
    ],
)
def test_a_bad_extension_is_named(two: dict[str, Any], message: str) -> None:
    servers = {"main": {"command": ["demo"]}, "two": two}
    with pytest.raises(ConfigError, match=message):
        parse_app_config(app_config(servers=servers), directory=Path("x"))


def test_render_setup_fills_python() -> None:
    spec = parse_app_config(app_config(), directory=Path("x"))
    assert spec.render_setup(python="/py") == ["/py", "-m", "apps.demo_app.setup_db"]


def test_discover_lists_apps_with_a_config_in_folder_order(tmp_path: Path) -> None:
    write_app(tmp_path, "zeta_app", MINIMAL_TOML.format(name="zeta"))
    write_app(tmp_path, "alpha_app", MINIMAL_TOML.format(name="alpha"))
    (tmp_path / "no_config_app").mkdir()
    (tmp_path / "seed_data.py").write_text("")
    assert discover_apps(tmp_path) == ["alpha", "zeta"]


def test_load_reads_the_app_folder(tmp_path: Path) -> None:
    directory = write_app(tmp_path, "alpha_app", MINIMAL_TOML.format(name="alpha"))
    spec = load_app("alpha", tmp_path)
    assert spec.name == "alpha"
    assert spec.directory == directory
    assert spec.server(None).render(python="py", host="h", port=9, workers=1, threads=1) == [
        "py",
        "-m",
        "http.server",
        "9",
    ]


def test_load_an_unknown_app_names_the_known_ones(tmp_path: Path) -> None:
    write_app(tmp_path, "alpha_app", MINIMAL_TOML.format(name="alpha"))
    with pytest.raises(ConfigError, match=r"no app 'beta'.*known apps: alpha"):
        load_app("beta", tmp_path)
    with pytest.raises(ConfigError, match="known apps: none"):
        load_app("beta", tmp_path / "empty")


def test_credentials_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BENCH_ADMIN_PASSWORD", raising=False)
    monkeypatch.delenv("BENCH_USER_PASSWORD", raising=False)
    defaults = credentials_from_env()
    assert (defaults.admin_password, defaults.user_password) == ("admin-password", "user-password")
    monkeypatch.setenv("BENCH_ADMIN_PASSWORD", "a-secret")
    monkeypatch.setenv("BENCH_USER_PASSWORD", "u-secret")
    chosen = credentials_from_env()
    assert (chosen.admin_password, chosen.user_password) == ("a-secret", "u-secret")


def test_read_tool_config(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.bench.profiles.quick]\nduration = "10s"\nusers = [1, 8]\n')
    assert read_tool_config("profiles", pyproject) == {"quick": {"duration": "10s", "users": [1, 8]}}
    assert read_tool_config("absent", pyproject) == {}


@pytest.mark.parametrize("name", discover_apps())
def test_every_real_app_config_loads_and_its_feature_modules_exist(name: str) -> None:
    spec = load_app(name)
    assert spec.directory == APPS_DIR / f"{name}_app"
    assert spec.admin_list_url.startswith("/")
    for variant in spec.servers.values():
        command = variant.render(python="python", host="127.0.0.1", port=8000, workers=2, threads=4)
        assert "{" not in " ".join(command), command
    missing = [
        path for paths in spec.features.values() for path in paths if not (spec.directory / path).exists()
    ]
    assert not missing, f"{name}: [features] names files that do not exist: {missing}"


def test_render_rejects_stray_braces() -> None:
    variant = ServerVariant(name="main", command=("{python}", "--x", "{0}"))
    with pytest.raises(ConfigError, match=r"stray braces"):
        variant.render(python="p", host="h", port=1, workers=1, threads=1)


def test_discover_apps_names_the_file_without_a_name(tmp_path: Path) -> None:
    (tmp_path / "broken_app").mkdir()
    (tmp_path / "broken_app" / "app.toml").write_text('framework = "x"\n')
    with pytest.raises(ConfigError, match=r"broken_app/app.toml: missing key 'name'"):
        discover_apps(tmp_path)


def test_discover_apps_rejects_invalid_toml(tmp_path: Path) -> None:
    (tmp_path / "broken_app").mkdir()
    (tmp_path / "broken_app" / "app.toml").write_text("name = \n")
    with pytest.raises(ConfigError, match=r"not valid TOML"):
        discover_apps(tmp_path)


def test_scratch_root_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BENCH_SCRATCH_DIR", str(tmp_path))
    assert scratch_root() == tmp_path
    monkeypatch.setenv("BENCH_SCRATCH_DIR", str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="BENCH_SCRATCH_DIR"):
        scratch_root()


def test_scratch_root_prefers_memory_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BENCH_SCRATCH_DIR", raising=False)
    root = scratch_root()
    if Path("/dev/shm").is_dir():
        assert root == Path("/dev/shm")
    else:
        assert root is None


def test_a_variant_carries_its_settings_and_says_what_it_runs() -> None:
    servers = {
        "main": {"command": ["{python}"]},
        "sync": {
            "command": ["{python}"],
            "env": {"DEMO_ORM": "sync"},
            "server": "uvicorn",
            "worker_model": "gthread, {threads} threads",
            "orm": "Demo ORM",
            "drivers": {"sqlite": "sqlite3", "postgres": "psycopg"},
            "concurrent": True,
        },
    }
    spec = parse_app_config(app_config(servers=servers), directory=Path("x"))
    variant = spec.servers["sync"]
    assert variant.env == {"DEMO_ORM": "sync"} and variant.concurrent
    assert variant.describe("postgres", threads=4) == "uvicorn, gthread, 4 threads, Demo ORM, psycopg"
    assert variant.describe() == "uvicorn, gthread, 8 threads, Demo ORM, sqlite3 / psycopg"
    assert spec.servers["main"].env == {} and spec.servers["main"].describe() == ""


@pytest.mark.parametrize(
    ("table", "message"),
    [({"command": ["x"], "env": {"A": 1}}, "env: expected a table"), ({"command": ["x"], "typo": 1}, "typo")],
)
def test_a_bad_variant_table_is_named(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_app_config(app_config(servers={"main": table}), directory=Path("x"))


@pytest.mark.parametrize("name", discover_apps())
def test_every_real_variant_says_what_it_runs_on_both_databases(name: str) -> None:
    spec = load_app(name)
    assert len(spec.servers) >= 2, "each framework has a recommended variant and another one"
    assert any(variant.concurrent for variant in spec.servers.values()), "one variant serves io concurrently"
    for variant in spec.servers.values():
        assert variant.server and variant.worker_model and variant.orm, variant.name
        assert set(variant.drivers) == {"sqlite", "postgres"}, variant.name
