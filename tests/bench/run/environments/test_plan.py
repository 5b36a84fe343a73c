"""bench/run/environments/plan.py: the environments of a versions profile. Pure."""

from __future__ import annotations

from bench.run.environments.plan import Environment, Interpreter, chosen_pythons, plan_environments

FOUND = [
    Interpreter("3.13", "/py/3.13", "3.13.0"),
    Interpreter("3.11", "/py/3.11", "3.11.7"),
    Interpreter("3.12", "/py/3.12", "3.12.1"),
]


def plan(**overrides: object) -> list[str]:
    arguments: dict[str, object] = {
        "releases": {"flask": ["3.1", "2.3", "3.0"]},
        "frameworks": {"flask": "flask"},
        "requirements": {"flask": ["flask[async]", "gunicorn"]},
        "pythons": ["all"],
        "found": FOUND,
        "release_python": "3.12",
    }
    arguments.update(overrides)
    return [environment.label for environment in plan_environments(**arguments).environments]  # type: ignore[arg-type]


def test_every_release_on_the_release_python_and_the_newest_on_every_python() -> None:
    assert plan() == [
        "flask 2.3 py3.12",
        "flask 3.0 py3.12",
        "flask 3.1 py3.11",
        "flask 3.1 py3.12",
        "flask 3.1 py3.13",
    ]


def test_every_python_all_puts_every_release_on_every_python() -> None:
    labels = plan(every_python="all")
    assert len(labels) == 9
    assert "flask 2.3 py3.11" in labels


def test_a_python_asked_for_but_not_found_is_listed_and_its_environments_kept() -> None:
    result = plan_environments(
        releases={"flask": ["3.1"]},
        frameworks={"flask": "flask"},
        requirements={},
        pythons=["3.12", "3.14"],
        found=FOUND,
        release_python="3.14",
    )
    assert result.missing_pythons == ("3.14",)
    by_label = {environment.label: environment for environment in result.environments}
    assert by_label["flask 3.1 py3.14"].executable == ""  # built as "incompatible: Python 3.14 not found"
    assert by_label["flask 3.1 py3.12"].executable == "/py/3.12"


def test_pythons_all_are_every_one_found_oldest_first() -> None:
    used, missing = chosen_pythons(["all"], FOUND)
    assert [interpreter.version for interpreter in used] == ["3.11", "3.12", "3.13"]
    assert missing == []


def test_the_framework_is_pinned_to_its_release_line_with_its_extras_and_the_rest_left_free() -> None:
    environment = Environment(
        app="flask",
        framework="flask",
        release="2.3",
        python="3.12",
        requirements=("flask[async]", "gunicorn"),
    )
    assert environment.requirement_list() == ["flask[async]==2.3.*", "gunicorn"]
    unlisted = Environment(app="x", framework="django", release="4.2", python="3.12", requirements=("pyjwt",))
    assert unlisted.requirement_list() == ["django==4.2.*", "pyjwt"]


def test_the_cache_key_changes_with_what_decides_the_packages() -> None:
    environment = Environment(app="flask", framework="flask", release="2.3", python="3.12")
    key = environment.key(full_version="3.12.1", salt="uv 0.13.8")
    assert key == environment.key(full_version="3.12.1", salt="uv 0.13.8")
    assert key != environment.key(full_version="3.12.2", salt="uv 0.13.8")
    assert key != Environment(app="flask", framework="flask", release="3.0", python="3.12").key(
        full_version="3.12.1", salt="uv 0.13.8"
    )


def test_a_lockstep_distribution_is_pinned_to_the_framework_s_release_line() -> None:
    environment = Environment(
        app="flask",
        framework="flask",
        release="2.3",
        python="3.12",
        requirements=("flask[async]", "Werkzeug", "gunicorn"),
        lockstep=("werkzeug",),
    )
    assert environment.requirement_list() == ["flask[async]==2.3.*", "Werkzeug==2.3.*", "gunicorn"]
    unlisted = Environment(
        app="flask", framework="flask", release="3.0", python="3.12", lockstep=("werkzeug",)
    )
    assert unlisted.requirement_list() == ["flask==3.0.*", "werkzeug==3.0.*"]
    planned = plan_environments(
        releases={"flask": ["3.0"]},
        frameworks={"flask": "flask"},
        requirements={},
        pythons=["3.12"],
        found=FOUND,
        lockstep={"flask": ["Werkzeug"]},
    )
    assert planned.environments[0].requirement_list() == ["flask==3.0.*", "werkzeug==3.0.*"]
