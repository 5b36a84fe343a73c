"""bench/report/community.py: PyPI's JSON document parsed from a hand-written one, community.json written
and read back, and the fetch answering None (never raising) when PyPI does not answer. No network is used."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench.report import community
from bench.report.community import (
    PackageFacts,
    fetch_package_facts,
    parse_pypi_document,
    pypi_json_url,
    read_community,
    refresh_command,
    refresh_community,
)


def upload(time: str, *, yanked: bool = False) -> dict[str, Any]:
    return {"filename": "demo.tar.gz", "upload_time_iso_8601": time, "yanked": yanked}


CLASSIFIERS = [
    "Programming Language :: Python",
    "Programming Language :: Python :: 3",
    "Programming Language :: Python :: 3 :: Only",
    "Programming Language :: Python :: 3.12",
    "Programming Language :: Python :: 3.10",
    "Programming Language :: Python :: 3.11",
    "License :: OSI Approved :: BSD License",
]

DOCUMENT: dict[str, Any] = {
    "info": {"name": "Demo", "version": "2.1.0", "requires_python": ">=3.10", "classifiers": CLASSIFIERS},
    "releases": {
        "0.0.1": [],  # registered, never uploaded
        "0.1": [upload("2015-03-01T10:00:00.000000Z", yanked=True)],  # yanked: not the first release
        "0.2": [
            upload("2015-06-01T10:00:00Z"),
            upload("2015-05-30T09:00:00.123456Z"),
        ],  # its first file counts
        "1.0": [upload("2024-11-30T12:00:00Z")],  # a day more than 12 months before AS_OF
        "2.0.0": [upload("2025-01-15T08:00:00Z")],
        "2.1.0rc1": [upload("2025-05-01T00:00:00Z")],  # a pre-release: left out
        "2.1.0": [upload("2025-06-01T00:00:00Z")],
        "2.2.0": [upload("2025-07-01T00:00:00Z", yanked=True)],  # yanked: not the latest
        "not a version": [upload("2025-08-01T00:00:00Z")],
    },
}
AS_OF = datetime(2025, 12, 1, 9, 30, tzinfo=UTC)


def test_the_parser_reads_first_and_latest_release_and_the_python_versions() -> None:
    assert parse_pypi_document(DOCUMENT, as_of=AS_OF) == PackageFacts(
        name="Demo",
        first_version="0.2",
        first_release=date(2015, 5, 30),
        latest_version="2.1.0",
        latest_release=date(2025, 6, 1),
        releases_last_12_months=2,  # 2.0.0 and 2.1.0: not 1.0, the pre-release or the yanked 2.2.0
        as_of=date(2025, 12, 1),
        python_versions=("3.10", "3.11", "3.12"),
        requires_python=">=3.10",
    )


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (datetime(2025, 1, 31, tzinfo=UTC), 2),  # 1.0 and 2.0.0; 2.1.0 came later
        (datetime(2025, 11, 30, 11, 59, tzinfo=UTC), 3),  # 1.0 is a minute inside the 12 months
        (datetime(2026, 6, 1, tzinfo=UTC), 0),  # 2.1.0 exactly 12 months before: out
        (datetime(2016, 2, 29, tzinfo=UTC), 1),  # 29 February counts back to 28 February: 0.2
    ],
)
def test_releases_are_counted_in_the_12_months_before_the_date_given(as_of: datetime, expected: int) -> None:
    facts = parse_pypi_document(DOCUMENT, as_of=as_of)
    assert facts is not None
    assert facts.releases_last_12_months == expected
    assert facts.as_of == as_of.date()


def test_a_yanked_latest_version_falls_back_to_the_highest_release_without_its_classifiers() -> None:
    document = {**DOCUMENT, "info": {**DOCUMENT["info"], "version": "2.2.0"}}
    facts = parse_pypi_document(document, as_of=AS_OF)
    assert facts is not None
    assert (facts.latest_version, facts.latest_release) == ("2.1.0", date(2025, 6, 1))
    # info's classifiers describe 2.2.0, not 2.1.0: they are not quoted for it.
    assert (facts.python_versions, facts.requires_python) == ((), None)


def test_a_document_without_any_release_with_files_has_no_facts() -> None:
    only_empty = {
        "info": {"name": "x", "version": "1.0"},
        "releases": {"1.0": [], "0.9": [upload("", yanked=True)]},
    }
    assert parse_pypi_document(only_empty, as_of=AS_OF) is None
    assert parse_pypi_document({"message": "Not Found"}, as_of=AS_OF) is None


def test_the_source_url_and_the_command_name_the_package_and_the_run() -> None:
    assert pypi_json_url("Flask_SQLAlchemy") == "https://pypi.org/pypi/flask-sqlalchemy/json"
    assert refresh_command("20250101-1200") == "python -m bench report --refresh-community 20250101-1200"
    assert refresh_command() == "python -m bench report --refresh-community"


FACTS = parse_pypi_document(DOCUMENT, as_of=AS_OF)


def test_community_json_keeps_earlier_facts_when_a_later_fetch_fails(tmp_path: Path) -> None:
    path = tmp_path / "run" / "community.json"
    written = refresh_community(path, ["Demo", "flask"], fetch=lambda name: FACTS if name == "demo" else None)
    assert read_community(path) == written
    demo, flask = written.entry("demo"), written.entry("Flask")
    assert demo is not None and demo.facts == FACTS
    assert demo.source == "https://pypi.org/pypi/demo/json"
    assert flask is not None and flask.facts is None, "PyPI did not answer: stored without facts"
    assert flask.fetched_at.tzinfo is not None

    offline = refresh_community(path, ["demo"], fetch=lambda name: None)
    kept = offline.entry("demo")
    assert kept is not None and kept.facts == FACTS and kept.fetched_at == demo.fetched_at


def test_a_missing_or_unreadable_community_json_reads_as_none(tmp_path: Path) -> None:
    path = tmp_path / "community.json"
    assert read_community(path) is None
    path.write_text('{"format": 1, "packages": {', encoding="utf-8")
    assert read_community(path) is None
    path.write_text('{"format": 1, "packages": {"flask": {"source": "x"}}}', encoding="utf-8")
    evidence = read_community(path)
    assert evidence is not None and evidence.entry("flask") is None, "an entry without its date is not used"


def answer(response: httpx.Response | Exception) -> Any:
    def get(url: str, **options: Any) -> httpx.Response:
        if isinstance(response, Exception):
            raise response
        response.request = httpx.Request("GET", url)
        return response

    return get


@pytest.mark.parametrize(
    "response",
    [
        httpx.ConnectError("[Errno -3] Temporary failure in name resolution"),
        httpx.ReadTimeout("timed out"),
        httpx.Response(503, text="unavailable"),
        httpx.Response(200, text="<html>a captive portal</html>"),
        httpx.Response(200, json=["not", "an", "object"]),
    ],
    ids=["offline", "timeout", "http-error", "not-json", "not-an-object"],
)
def test_the_fetch_answers_none_when_pypi_does_not_answer(
    response: httpx.Response | Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(community.httpx, "get", answer(response))
    assert fetch_package_facts("flask") is None


def test_the_fetch_parses_pypis_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def get(url: str, **options: Any) -> httpx.Response:
        asked.append(url)
        assert options["timeout"] == community.FETCH_TIMEOUT_S
        return httpx.Response(200, json=DOCUMENT, request=httpx.Request("GET", url))

    monkeypatch.setattr(community.httpx, "get", get)
    assert fetch_package_facts("Demo", as_of=AS_OF) == FACTS
    assert asked == ["https://pypi.org/pypi/demo/json"]
