"""The Locust scenarios, one file per workload, and what the runner needs to know about them.

The runner must not import a scenario (importing Locust monkey-patches the interpreter with gevent), so the
facts a scenario declares as module constants are read from its source with `ast`:

- NAME: the scenario's name on the command line; the file's name, except where that would shadow the
  standard library (`json` lives in json_serialization.py, `io` in io_wait.py): `locust -f` works on each;
- TABLE_ROW: the comparison-table row the scenario measures;
- WRITES: True when the scenario changes the database (it then gets a fresh database and a data check);
- PER_DATABASE: True for the database rows, which a profile measures on each of its databases (the others
  run on its first database only: their work does not depend on it);
- IN_SCORE: False for a scenario left out of the report's overall score;
- THIRD_PARTY: True for a scenario whose work is mostly a third-party package's (the scores come with and
  without it);
- CONCURRENCY: True when the report's headline takes each app's concurrency-capable variant for it;
- YARDSTICK_PATH: the one GET request of a scenario that wrk can send as well (the yardstick);
- FAILURE_SHARES: {request name: share} of a scenario that fails some requests on purpose (errors): the
  runner checks each name's observed share of the cell's requests against it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from bench.errors import UnknownScenarioError

SCENARIOS_DIR = Path(__file__).resolve().parent
PACKAGE = __name__
# Modules of this package that are not scenarios.
HELPER_MODULES = frozenset({"__init__", "common"})


@dataclass(frozen=True)
class ScenarioInfo:
    name: str
    module: str  # dotted module name, e.g. bench.scenarios.api
    path: Path
    table_row: str
    writes: bool
    description: str
    in_score: bool = True  # counted in the report's overall scores
    third_party: bool = False  # mostly a third-party package's work: the scores are given without it too
    per_database: bool = False  # measured on every database of a profile, not only its first
    concurrency: bool = False  # the headline shows each app's concurrent variant (app.toml `concurrent`)
    yardstick_path: str = ""  # the GET path wrk measures the same server on ("": none)
    # (request name, stated share of the requests) of each kind of request meant to fail; pairs, not a dict,
    # so that the info stays hashable
    failure_shares: tuple[tuple[str, float], ...] = ()


def _module_constants(tree: ast.Module) -> dict[str, object]:
    constants: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id.isupper() and node.value is not None:
                    try:
                        constants[target.id] = ast.literal_eval(node.value)
                    except ValueError:
                        continue
    return constants


def _failure_shares(value: object, *, path: Path) -> tuple[tuple[str, float], ...]:
    """Return FAILURE_SHARES as (name, share) pairs; ValueError unless it maps names to shares (sum <= 1)."""
    if not isinstance(value, dict) or not all(
        isinstance(name, str) and isinstance(share, int | float) and 0 < share < 1
        for name, share in value.items()
    ):
        raise ValueError(f"{path}: FAILURE_SHARES must map request names to shares between 0 and 1")
    if sum(value.values()) > 1:
        raise ValueError(f"{path}: the FAILURE_SHARES add up to more than 1")
    return tuple((name, float(share)) for name, share in value.items())


def read_scenario(path: Path) -> ScenarioInfo:
    """Return what the scenario file at path declares about itself."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    constants = _module_constants(tree)
    docstring = ast.get_docstring(tree) or ""
    for required in ("NAME", "TABLE_ROW"):
        if not isinstance(constants.get(required), str):
            raise ValueError(f"{path}: the scenario must declare {required} = '...' as a module constant")
    return ScenarioInfo(
        name=str(constants["NAME"]),
        module=f"{PACKAGE}.{path.stem}",
        path=path,
        table_row=str(constants["TABLE_ROW"]),
        writes=bool(constants.get("WRITES", False)),
        description=docstring.splitlines()[0] if docstring else "",
        in_score=bool(constants.get("IN_SCORE", True)),
        third_party=bool(constants.get("THIRD_PARTY", False)),
        per_database=bool(constants.get("PER_DATABASE", False)),
        concurrency=bool(constants.get("CONCURRENCY", False)),
        yardstick_path=str(constants.get("YARDSTICK_PATH", "")),
        failure_shares=_failure_shares(constants.get("FAILURE_SHARES", {}), path=path),
    )


@cache
def discover_scenarios(directory: Path = SCENARIOS_DIR) -> dict[str, ScenarioInfo]:
    """Return every scenario of the package by name, in file order."""
    found: dict[str, ScenarioInfo] = {}
    for path in sorted(directory.glob("*.py")):
        if path.stem in HELPER_MODULES:
            continue
        info = read_scenario(path)
        if info.name in found:
            raise ValueError(f"two scenarios are called {info.name!r}: {found[info.name].path} and {path}")
        found[info.name] = info
    return found


def scenario_info(name: str) -> ScenarioInfo:
    """Return the scenario called name."""
    scenarios = discover_scenarios()
    if name not in scenarios:
        raise UnknownScenarioError(f"no scenario {name!r} (known: {', '.join(scenarios)})")
    return scenarios[name]
