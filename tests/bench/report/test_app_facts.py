"""bench/report/app_facts.py: lines of code, the dependency closure of a set of packages, versions in
metadata."""

from __future__ import annotations

from pathlib import Path

from bench.report.app_facts import count_code_lines, dependency_closure, feature_lines, versions_in_metadata

PYTHON_SOURCE = '''"""Module docstring,
on two lines."""

# a comment
import os  # trailing comment


def read_items():
    """Docstring."""
    text = """a string
that is code"""
    return os.sep + text
'''


def test_count_code_lines_skips_blanks_comments_and_docstrings() -> None:
    assert count_code_lines(PYTHON_SOURCE, suffix=".py") == 5


def test_count_code_lines_in_templates() -> None:
    template = (
        "{# a comment #}\n<!-- another -->\n\n<table>\n{% for row in rows %}<tr></tr>{% endfor %}\n</table>\n"
    )
    assert count_code_lines(template, suffix=".html") == 3


def test_feature_lines_sums_files_and_folders_and_names_missing_ones(tmp_path: Path) -> None:
    (tmp_path / "views").mkdir()
    (tmp_path / "views" / "items.py").write_text("x = 1\ny = 2\n")
    (tmp_path / "views" / "auth.py").write_text("z = 3\n")
    (tmp_path / "models.py").write_text("# only a comment\nclass Item: ...\n")
    lines, missing = feature_lines(tmp_path, ["views", "models.py", "gone.py"])
    assert (lines, missing) == (4, ["gone.py"])


FAKE_REQUIREMENTS = {
    "web": ["core>=1", "extra-dep; extra == 'speed'", "windows-only; sys_platform == 'win32'", "absent"],
    "core": ["web"],  # a cycle
    "extra-dep": [],
    "windows-only": [],
}


def test_dependency_closure_follows_extras_markers_and_cycles() -> None:
    def requires(name: str) -> list[str] | None:
        return FAKE_REQUIREMENTS.get(name)

    assert dependency_closure(["web"], requires=requires) == {"web", "core"}
    assert dependency_closure(["web[speed]"], requires=requires) == {"web", "core", "extra-dep"}
    assert dependency_closure(["Extra_Dep"], requires=requires) == {"extra-dep"}


def test_dependency_closure_of_an_installed_framework() -> None:
    closure = dependency_closure(["flask"])
    assert {"flask", "werkzeug", "jinja2", "markupsafe", "click", "itsdangerous"} <= closure


def test_versions_in_metadata_finds_nested_package_tables() -> None:
    metadata = {
        "packages": {"Flask": "3.1.0"},
        "apps": {"django": {"versions": {"djangorestframework": "3.16"}}},
    }
    assert versions_in_metadata(metadata) == {"flask": "3.1.0", "djangorestframework": "3.16"}


def test_versions_in_the_runners_metadata_layout() -> None:
    metadata = {
        "packages": {"locust": "2.47.0"},
        "apps": {
            "fastapi": {
                "framework": "fastapi",
                "framework_version": "0.165.0",
                "servers": {"uvicorn": {"uvicorn": "0.54.0", "uvloop": None}},
                "packages": {"SQLAlchemy": "2.1.9"},
            }
        },
    }
    assert versions_in_metadata(metadata) == {
        "locust": "2.47.0",
        "fastapi": "0.165.0",
        "uvicorn": "0.54.0",
        "sqlalchemy": "2.1.9",
    }
