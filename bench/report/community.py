"""The comparison table's Community row: facts about each framework's releases, from its metadata on PyPI.

Two parts. The pure one turns PyPI's JSON API document (https://pypi.org/pypi/<name>/json) into PackageFacts:
the first release, the latest release (version and date), how many releases came out in the 12 months before a
given date, and the Python versions the latest release declares (its `Programming Language :: Python :: 3.x`
classifiers and its `requires_python`). The thin I/O part fetches that document once (no retries) and writes
reports/<run-id>/community.json, which the report reads; nothing here is fetched while a report is built.

Counting rules, the same for every figure: a release is a version with at least one file that is not yanked
(a version whose files are all yanked, or that has none, does not count); pre-releases and development
releases (1.0a1, 1.0rc1, 1.0.dev1) are left out, as PyPI leaves them out of its latest version, and so are
versions that are not PEP 440 (no order to put them in). A release's date is the upload of its first file, in
UTC.

The file (format 1) maps each distribution's canonical name -> {source, fetched_at, facts}; facts is null when
PyPI did not answer. A later refresh that fails for a package keeps that package's earlier facts: they carry
their own fetch date, and are still facts.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

log = logging.getLogger(__name__)

COMMUNITY_FILE = "community.json"
FORMAT_VERSION = 1
PYPI_JSON_URL = "https://pypi.org/pypi/{name}/json"
FETCH_TIMEOUT_S = 10.0
REFRESH_COMMAND = "python -m bench report --refresh-community"

# Only the minor versions: "Python :: 3" or "Python :: 3 :: Only" say nothing about which 3.x is supported.
PYTHON_CLASSIFIER = re.compile(r"^Programming Language :: Python :: (\d+\.\d+)$")


@dataclass(frozen=True)
class PackageFacts:
    """What PyPI's metadata says about one distribution's releases, counted as of one date."""

    name: str
    first_version: str
    first_release: date
    latest_version: str
    latest_release: date
    releases_last_12_months: int
    as_of: date  # the date the 12 months count back from
    python_versions: tuple[str, ...]  # from the latest release's classifiers, oldest first
    requires_python: str | None


# distribution -> its facts, None when PyPI did not answer
FactsFetcher = Callable[[str], PackageFacts | None]


@dataclass(frozen=True)
class CommunityEntry:
    """One distribution in community.json: where and when it was fetched, its facts (None: no answer)."""

    package: str
    source: str
    fetched_at: datetime
    facts: PackageFacts | None


@dataclass(frozen=True)
class CommunityEvidence:
    path: Path
    entries: Mapping[str, CommunityEntry]  # canonical distribution name -> entry

    def entry(self, package: str) -> CommunityEntry | None:
        """Return the entry of a distribution (any spelling of its name), or None when the file has none."""
        return self.entries.get(canonicalize_name(package))


def refresh_command(run_id: str = "") -> str:
    """Return the command that writes community.json for a run (the latest run when run_id is empty)."""
    return f"{REFRESH_COMMAND} {run_id}".rstrip()


def pypi_json_url(package: str) -> str:
    """Return the address of a distribution's JSON document on PyPI."""
    return PYPI_JSON_URL.format(name=canonicalize_name(package))


# ---- the pure part: PyPI's document -> PackageFacts --------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    # PyPI writes "Z"; a time without a zone is taken as UTC, the zone PyPI's upload times are in.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _released_at(files: Any) -> datetime | None:
    """Return the upload time of a version's first file that is not yanked, or None when it has none."""
    if not isinstance(files, list):
        return None
    times = []
    for file in files:
        if not isinstance(file, Mapping) or file.get("yanked"):
            continue
        try:
            times.append(_utc(datetime.fromisoformat(str(file["upload_time_iso_8601"]))))
        except (KeyError, ValueError):
            continue
    return min(times, default=None)


def _year_before(moment: datetime) -> datetime:
    try:
        return moment.replace(year=moment.year - 1)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year - 1, day=28)


def _python_versions(classifiers: Any) -> tuple[str, ...]:
    if not isinstance(classifiers, list):
        return ()
    found = {match.group(1) for item in classifiers if (match := PYTHON_CLASSIFIER.match(str(item)))}
    return tuple(sorted(found, key=lambda text: tuple(int(part) for part in text.split("."))))


def parse_pypi_document(document: Mapping[str, Any], *, as_of: datetime) -> PackageFacts | None:
    """Return the facts of a PyPI JSON API document, counted as of as_of; None when it holds no release
    (see the module's counting rules) or is not such a document."""
    info, releases = document.get("info"), document.get("releases")
    if not isinstance(info, Mapping) or not isinstance(releases, Mapping):
        return None
    dated: dict[Version, tuple[str, datetime]] = {}
    for text, files in releases.items():
        try:
            version = Version(str(text))
        except InvalidVersion:
            continue
        released = _released_at(files)
        if released is not None and not version.is_prerelease:
            dated[version] = (str(text), released)
    if not dated:
        return None
    # info describes the version PyPI calls the latest; when that one does not count here (yanked, say), the
    # highest counted version is the latest, and info's classifiers, which are not its own, are not used.
    try:
        info_version: Version | None = Version(str(info.get("version")))
    except InvalidVersion:
        info_version = None
    latest = info_version if info_version in dated else max(dated)
    own_info = latest == info_version
    latest_text, latest_at = dated[latest]
    # The first version with files: older versions registered without files (Django 1.0 to 1.1) do not count.
    first_text, first_at = min(dated.values(), key=lambda item: item[1])
    moment = _utc(as_of)
    since = _year_before(moment)
    requires_python = info.get("requires_python") if own_info else None
    return PackageFacts(
        name=str(info.get("name") or ""),
        first_version=first_text,
        first_release=first_at.date(),
        latest_version=latest_text,
        latest_release=latest_at.date(),
        releases_last_12_months=sum(1 for _, released in dated.values() if since < released <= moment),
        as_of=moment.date(),
        python_versions=_python_versions(info.get("classifiers")) if own_info else (),
        requires_python=str(requires_python) if requires_python else None,
    )


# ---- community.json ----------------------------------------------------------------------------------------


def _facts_to_json(facts: PackageFacts) -> dict[str, Any]:
    return {
        "name": facts.name,
        "first_version": facts.first_version,
        "first_release": facts.first_release.isoformat(),
        "latest_version": facts.latest_version,
        "latest_release": facts.latest_release.isoformat(),
        "releases_last_12_months": facts.releases_last_12_months,
        "as_of": facts.as_of.isoformat(),
        "python_versions": list(facts.python_versions),
        "requires_python": facts.requires_python,
    }


def _facts_from_json(data: Mapping[str, Any]) -> PackageFacts:
    requires_python = data.get("requires_python")
    return PackageFacts(
        name=str(data["name"]),
        first_version=str(data["first_version"]),
        first_release=date.fromisoformat(data["first_release"]),
        latest_version=str(data["latest_version"]),
        latest_release=date.fromisoformat(data["latest_release"]),
        releases_last_12_months=int(data["releases_last_12_months"]),
        as_of=date.fromisoformat(data["as_of"]),
        python_versions=tuple(str(version) for version in data.get("python_versions", ())),
        requires_python=str(requires_python) if requires_python else None,
    )


def _entry_from_json(package: str, data: Any) -> CommunityEntry | None:
    if not isinstance(data, Mapping):
        return None
    try:
        facts = data.get("facts")
        return CommunityEntry(
            package=package,
            source=str(data["source"]),
            fetched_at=_utc(datetime.fromisoformat(str(data["fetched_at"]))),
            facts=_facts_from_json(facts) if isinstance(facts, Mapping) else None,
        )
    except (KeyError, TypeError, ValueError):
        return None


def read_community(path: Path) -> CommunityEvidence | None:
    """Return the community facts stored in path, or None when there is no readable file (format 1)."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("%s is unreadable (%s): the Community row says 'not fetched'", path, exc)
        return None
    if not isinstance(data, Mapping) or data.get("format") != FORMAT_VERSION:
        return None
    packages = data.get("packages")
    entries: dict[str, CommunityEntry] = {}
    for package, stored in (packages if isinstance(packages, Mapping) else {}).items():
        # An entry that does not parse reads as absent: the row says "not fetched" rather than guess.
        entry = _entry_from_json(str(package), stored)
        if entry is not None:
            entries[canonicalize_name(str(package))] = entry
    return CommunityEvidence(path=path, entries=entries)


def write_community(path: Path, entries: Iterable[CommunityEntry]) -> None:
    """Write the entries to path as community.json (format 1), sorted by package."""
    packages = {
        entry.package: {
            "source": entry.source,
            "fetched_at": entry.fetched_at.isoformat(timespec="seconds"),
            "facts": _facts_to_json(entry.facts) if entry.facts else None,
        }
        for entry in sorted(entries, key=lambda entry: entry.package)
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT_VERSION, "packages": packages}
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")


# ---- the I/O part: one request per package -----------------------------------------------------------------


def fetch_package_facts(
    package: str, *, as_of: datetime | None = None, timeout: float = FETCH_TIMEOUT_S
) -> PackageFacts | None:
    """Return the facts of a distribution as PyPI has them now, or None when PyPI did not answer usably
    (offline, a timeout, an HTTP error, not JSON); it never raises for those. One request, no retries."""
    url = pypi_json_url(package)
    try:
        # follow_redirects: PyPI redirects a name to its canonical spelling.
        response = httpx.get(
            url, timeout=timeout, follow_redirects=True, headers={"Accept": "application/json"}
        )
        response.raise_for_status()
        document = response.json()
    except (httpx.HTTPError, httpx.InvalidURL, ValueError, OSError) as exc:
        log.warning("PyPI did not answer for %s (%s): %s", package, url, exc or type(exc).__name__)
        return None
    if not isinstance(document, Mapping):
        log.warning("PyPI's answer for %s (%s) is not a JSON object", package, url)
        return None
    facts = parse_pypi_document(document, as_of=as_of or datetime.now(UTC))
    if facts is None:
        log.warning("PyPI's answer for %s (%s) lists no release with files", package, url)
    return facts


def refresh_community(
    path: Path, packages: Iterable[str], *, fetch: FactsFetcher | None = None
) -> CommunityEvidence:
    """Return the community facts after fetching each package and writing them into path (community.json).

    A package PyPI did not answer for keeps the facts an earlier refresh stored, else is stored without facts;
    packages not asked for keep their entries.
    """
    # Looked up at call time, so that tests can replace the module's fetch_package_facts (no network there).
    fetcher = fetch if fetch is not None else fetch_package_facts
    earlier = read_community(path)
    entries: dict[str, CommunityEntry] = dict(earlier.entries) if earlier else {}
    for package in sorted({canonicalize_name(name) for name in packages}):
        fetched_at = datetime.now(UTC).replace(microsecond=0)  # as community.json stores it
        facts = fetcher(package)
        previous = entries.get(package)
        if facts is None and previous is not None and previous.facts is not None:
            continue
        entries[package] = CommunityEntry(package, pypi_json_url(package), fetched_at, facts)
    write_community(path, entries.values())
    return CommunityEvidence(path=path, entries=entries)
