"""The rows of the comparison table: their keys and titles, and which scenario measures which row."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bench.scenarios import discover_scenarios


@dataclass(frozen=True)
class RowSpec:
    key: str  # the [features] / [packages] key in app.toml, or a row of the table's own
    title: str
    question: str  # what the row answers, shown under its title


USE_CASE_ROW = "use_case"
PERFORMANCE_ROW = "performance"
DEPENDENCIES_ROW = "dependencies"
COMMUNITY_ROW = "community"
OTHER_ROW = "other"  # contract tests that belong to no row; they count in the use-case row's total

TABLE_ROWS: tuple[RowSpec, ...] = (
    RowSpec(USE_CASE_ROW, "Use case", "the whole app: framework, server, code size, a realistic mixed load"),
    RowSpec("async", "Async support", "does a worker keep serving while requests wait on I/O?"),
    RowSpec("orm", "ORM", "reads and writes through the object-relational mapper"),
    RowSpec("forms", "Form handling", "HTML forms with CSRF protection and per-field errors"),
    RowSpec("templates", "Templates", "server-side HTML rendered with data"),
    RowSpec("authentication", "Authentication", "password hashing, JWT bearer tokens, session login"),
    RowSpec("admin", "Admin interface", "an auto-generated admin over the Item model"),
    RowSpec("validation", "Data validation", "a JSON API that rejects bad input naming each field"),
    RowSpec("docs", "API documentation", "OpenAPI document and Swagger UI served offline"),
    RowSpec(PERFORMANCE_ROW, "Performance", "framework overhead, ranked by measured CPU per request"),
    RowSpec(DEPENDENCIES_ROW, "Dependencies", "distributions installed beyond the standard library"),
    RowSpec(COMMUNITY_ROW, "Community", "the framework's releases on PyPI, the Python versions it declares"),
)
ROW_KEYS = tuple(row.key for row in TABLE_ROWS)

# Used for a scenario that bench/scenarios/ does not (or no longer) declare: results of older runs.
DEFAULT_SCENARIO_ROWS: Mapping[str, str] = {
    "plaintext": PERFORMANCE_ROW,
    "json": PERFORMANCE_ROW,
    "db": "orm",
    "queries": "orm",
    "updates": "orm",
    "fortunes": "templates",
    "api": "validation",
    "errors": "validation",
    "forms": "forms",
    "auth": "authentication",
    "me": "authentication",
    "admin": "admin",
    "docs": "docs",
    "io": "async",
    "mixed": USE_CASE_ROW,
}


def ordered_scenarios(names: Iterable[str]) -> list[str]:
    """Return scenario names in the order of DEFAULT_SCENARIO_ROWS (cheapest workload first), others last."""
    known = list(DEFAULT_SCENARIO_ROWS)
    return sorted(set(names), key=lambda name: (known.index(name) if name in known else len(known), name))


def normalize_row_key(name: str) -> str:
    """Return the row key for a key or a title ("Data validation" -> validation, "use case" -> use_case)."""
    wanted = name.strip().lower().replace("-", " ").replace("_", " ")
    for row in TABLE_ROWS:
        if wanted in (row.key.replace("_", " "), row.title.lower()):
            return row.key
    aliases = {"authentication": "authentication", "auth": "authentication", "api docs": "docs"}
    return aliases.get(wanted, wanted.replace(" ", "_"))


def scenario_rows() -> dict[str, str]:
    """Return scenario -> row: what each scenario declares as its TABLE_ROW, over the defaults."""
    rows = dict(DEFAULT_SCENARIO_ROWS)
    try:
        declared = discover_scenarios()
    except (OSError, SyntaxError, ValueError):
        # A broken scenario file must not cost the report its table: the runner reports that error itself.
        return rows
    rows.update({name: normalize_row_key(info.table_row) for name, info in declared.items()})
    return rows


# Used for scenarios of older runs that bench/scenarios/ does not declare (any more).
DEFAULT_UNSCORED: frozenset[str] = frozenset({"io", "docs"})


def unscored_scenarios() -> frozenset[str]:
    """Return the scenarios left out of the overall score (their files say IN_SCORE = False, and why)."""
    try:
        declared = discover_scenarios()
    except (OSError, SyntaxError, ValueError):
        return DEFAULT_UNSCORED
    unscored = {name for name, info in declared.items() if not info.in_score}
    return frozenset(unscored | (DEFAULT_UNSCORED - set(declared)))


# Used when bench/scenarios/ cannot be read: the scenario that mostly measures a third-party package.
DEFAULT_THIRD_PARTY: frozenset[str] = frozenset({"admin"})


def third_party_scenarios() -> frozenset[str]:
    """Return the scenarios whose work is mostly a third-party package's (their files say THIRD_PARTY)."""
    try:
        declared = discover_scenarios()
    except (OSError, SyntaxError, ValueError):
        return DEFAULT_THIRD_PARTY
    third_party = {name for name, info in declared.items() if info.third_party}
    return frozenset(third_party | (DEFAULT_THIRD_PARTY - set(declared)))


def concurrency_scenarios() -> frozenset[str]:
    """Return the scenarios whose headline figure comes from each app's concurrency-capable variant."""
    return frozenset(name for name, info in discover_scenarios().items() if info.concurrency)
