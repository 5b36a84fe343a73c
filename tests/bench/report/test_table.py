"""bench/report/table.py: the comparison table from synthetic evidence (flagged and missing cells, contract
results present or absent)."""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest

from bench import columns as c
from bench.config import load_app
from bench.report import aggregate as a
from bench.report.community import (
    CommunityEntry,
    CommunityEvidence,
    PackageFacts,
    pypi_json_url,
    read_community,
    write_community,
)
from bench.report.contract import merge_contract_file, read_contract_evidence
from bench.report.latency.cells import CellSweep
from bench.report.latency.targets import (
    LatencyTarget,
)
from bench.report.latency.trials import (
    ABOVE,
    BELOW,
    Bounded,
    TrialSweep,
)
from bench.report.rows import (
    DEFAULT_SCENARIO_ROWS,
    ROW_KEYS,
    TABLE_ROWS,
    normalize_row_key,
    ordered_scenarios,
    scenario_rows,
)
from bench.report.score import rank_by_cpu
from bench.report.table import (
    CONTRACT_FAILED,
    CONTRACT_NOT_RUN,
    CONTRACT_PASSED,
    ComparisonTable,
    build_comparison_table,
    capacity_figure,
    capacity_figures,
    describe_cell,
    error_path_figure,
    refused_share,
    render_markdown,
)
from bench.report.ties import PairVerdict, Standing
from bench.results import rows_to_dicts
from tests.bench.synthetic_run import flag, synthetic_rows, write_apps


def test_row_names_normalize() -> None:
    assert normalize_row_key("Data validation") == "validation"
    assert normalize_row_key("use case") == "use_case"
    assert normalize_row_key("ORM") == "orm"


def test_every_scenario_maps_to_a_row_of_the_table() -> None:
    rows = scenario_rows()
    assert set(DEFAULT_SCENARIO_ROWS) <= set(rows)
    unknown = {scenario: row for scenario, row in rows.items() if row not in ROW_KEYS}
    assert unknown == {}, "a scenario's TABLE_ROW names no row of bench.table.TABLE_ROWS"


def test_scenarios_are_ordered_cheapest_first() -> None:
    assert ordered_scenarios(["io", "zeta", "json", "plaintext"]) == ["plaintext", "json", "io", "zeta"]


@pytest.fixture
def table_inputs(tmp_path: Path) -> tuple[list, pd.DataFrame, pd.DataFrame]:
    apps_dir = write_apps(tmp_path / "apps")
    specs = [load_app(name, apps_dir) for name in ("django", "fastapi", "flask")]
    rows = synthetic_rows(scenarios=("plaintext", "json", "db", "io"))
    rows = flag(rows, app="fastapi", scenario="plaintext", generator_bound=True, rps=12_500.0)
    rows = flag(rows, app="flask", scenario="io", error="server died")
    rows = [row for row in rows if not (row.app == "django" and row.scenario == "db")]
    cells = a.aggregate_cells(a.frame_from_rows(rows_to_dicts(rows)))
    headline = a.headline_cells(cells, preferred_servers={})
    return specs, headline, rank_by_cpu(headline)


def build(
    table_inputs: tuple[list, pd.DataFrame, pd.DataFrame],
    contract_path: Path | None,
    community: CommunityEvidence | None = None,
    capacity: dict[str, str] | None = None,
) -> ComparisonTable:
    specs, headline, ranking = table_inputs
    return build_comparison_table(
        apps=specs,
        headline=headline,
        ranking=ranking,
        rows_of=dict(DEFAULT_SCENARIO_ROWS),
        version_of=lambda name: {"django": "5.2.0", "fastapi": "0.120.0", "flask": "3.1.0"}.get(name, "9.9"),
        contract=read_contract_evidence(contract_path) if contract_path else None,
        requires=lambda name: [],
        community=community,
        run_id="20250101-1200",
        capacity=capacity,
    )


def row(table: ComparisonTable, key: str) -> dict:
    return next(cells for spec, cells in table.rows if spec.key == key)


def test_table_has_every_row_and_column(table_inputs: tuple[list, pd.DataFrame, pd.DataFrame]) -> None:
    table = build(table_inputs, None)
    assert table.apps == ("django", "fastapi", "flask")
    assert [spec.key for spec, _ in table.rows] == [spec.key for spec in TABLE_ROWS]


def test_table_cells_say_how_a_feature_is_provided(
    table_inputs: tuple[list, pd.DataFrame, pd.DataFrame],
) -> None:
    table = build(table_inputs, None)
    orm = row(table, "orm")
    assert orm["django"].provided == "built into django 5.2.0"
    assert orm["fastapi"].provided == "sqlalchemy 9.9"
    assert orm["fastapi"].lines_of_code == 3
    assert "missing file: missing.py" in orm["fastapi"].notes
    assert orm["fastapi"].contract_state == CONTRACT_NOT_RUN
    assert "app.toml maps no module to this row" in row(table, "admin")["django"].notes


def test_table_quotes_measured_flagged_and_missing_figures(
    table_inputs: tuple[list, pd.DataFrame, pd.DataFrame],
) -> None:
    table = build(table_inputs, None)
    assert row(table, "orm")["django"].figures == ("db: missing from this run",)
    # Each figure names the variant and the database it comes from.
    assert row(table, "async")["flask"].figures[0].startswith("io (gunicorn, sqlite): failed (server died")
    performance = row(table, "performance")
    assert performance["fastapi"].figures[0].startswith("rank 1 of 3")
    # A generator-bound cell leads with what was measured (CPU per request, 950 / 9,000 req/s in the synthetic
    # run, the cheapest of the three), then the lower bound of its throughput.
    assert (
        "plaintext (uvicorn, sqlite): 0.11 CPU-ms per request (the cheapest), "
        "≥ 12,500 req/s (the load generator was the limit)" in performance["fastapi"].figures
    )
    assert performance["django"].figures[0].startswith("rank 3 of 3")


def test_the_performance_row_quotes_the_capacity_of_a_sweep_where_there_is_one(
    table_inputs: tuple[list, pd.DataFrame, pd.DataFrame],
) -> None:
    line = "capacity at p99 ≤ 12.0 ms: db 820 req/s, fortunes 790 req/s"
    without = row(build(table_inputs, None), "performance")
    performance = row(build(table_inputs, None, capacity={"flask": line}), "performance")
    assert performance["flask"].figures == (*without["flask"].figures, line)
    assert performance["django"] == without["django"], "an app without a sweep is as before"
    assert all(not any("capacity" in figure for figure in cell.figures) for cell in without.values())


def swept_cell(capacity: Bounded, *, scenario: str, target: float = 12.0, behind: bool = False) -> CellSweep:
    """Return a flask cell of one trial with this capacity at this target."""
    trial = TrialSweep(0, 1000.0, capacity, Bounded(500.0), None, None, behind)
    key = ("flask", "gunicorn", scenario, 32, "postgres")
    return CellSweep(key, "flask", LatencyTarget(target, "rule"), (trial,), ())


def test_the_capacity_line_names_each_scenario_and_the_target() -> None:
    db = swept_cell(Bounded(820.0), scenario="db")
    api = swept_cell(Bounded(250.0, BELOW), scenario="api")
    fortunes = swept_cell(Bounded(790.0), scenario="fortunes", behind=True)
    assert capacity_figure([api, fortunes, db]) == (
        "capacity at p99 ≤ 12.0 ms: db 820 req/s, fortunes ≥ 790 req/s, api < 250 req/s"
    )
    other = swept_cell(Bounded(300.0), scenario="api", target=40.0)
    assert capacity_figure([db, other]) == (
        "capacity at the p99 target: db 820 req/s (p99 ≤ 12.0 ms), api 300 req/s (p99 ≤ 40.0 ms)"
    )
    assert capacity_figure([swept_cell(Bounded(1250.0, ABOVE), scenario="db")]).endswith("db ≥ 1,250 req/s")
    assert capacity_figure([swept_cell(Bounded(math.nan), scenario="db", target=math.nan)]) == ""
    keys = {"flask": [db.key], "django": [("django", "gunicorn", "db", 32, "postgres")]}
    assert capacity_figures(keys, {db.key: db}) == {"flask": "capacity at p99 ≤ 12.0 ms: db 820 req/s"}


def test_dependencies_row_counts_the_closure(table_inputs: tuple[list, pd.DataFrame, pd.DataFrame]) -> None:
    cells = row(build(table_inputs, None), "dependencies")
    assert cells["django"].provided.startswith("1 distributions")
    assert cells["fastapi"].provided.startswith("3 distributions"), "fastapi, sqlalchemy, sqladmin"
    assert cells["fastapi"].figures == ("+1 more for the server uvicorn",)


def test_table_reads_contract_evidence(
    table_inputs: tuple[list, pd.DataFrame, pd.DataFrame], tmp_path: Path
) -> None:
    path = tmp_path / "contract.json"
    merge_contract_file(
        path,
        {
            ("flask", "sqlite"): {"orm": {"passed": 5, "failed": 0, "skipped": 0, "failed_tests": []}},
            ("flask", "postgres"): {
                "orm": {"passed": 4, "failed": 1, "skipped": 0, "failed_tests": ["t::x"]}
            },
            ("django", "sqlite"): {"orm": {"passed": 5, "failed": 0, "skipped": 1, "failed_tests": []}},
        },
        commit="abc",
    )
    table = build(table_inputs, path)
    orm = row(table, "orm")
    assert orm["flask"].contract_state == CONTRACT_FAILED
    assert orm["flask"].contract == "contract: 1 of 10 tests failed (postgres, sqlite)"
    assert orm["django"].contract_state == CONTRACT_PASSED
    assert orm["fastapi"].contract_state == CONTRACT_NOT_RUN, "no test of fastapi in the file"
    assert row(table, "use_case")["flask"].contract_state == CONTRACT_FAILED
    assert table.contract_source == str(path)


def test_a_figure_names_the_app_s_label_and_its_variant_s_note(
    table_inputs: tuple[list, pd.DataFrame, pd.DataFrame],
) -> None:
    specs, headline, ranking = table_inputs
    django = next(spec for spec in specs if spec.name == "django")
    server = str(headline[(headline[c.APP] == "django") & (headline[c.SCENARIO] == "io")][c.SERVER].iloc[0])
    noted = dataclasses.replace(django.servers[server], note="a documented limit")
    labelled = dataclasses.replace(
        django, labels={"json": "Django + a kit"}, servers={**django.servers, server: noted}
    )
    others = [spec for spec in specs if spec.name != "django"]
    table = build(([labelled, *others], headline, ranking), None)
    assert any(
        figure.startswith(f"json (Django + a kit; {server}, sqlite): ")
        for figure in row(table, "performance")["django"].figures
    )
    assert f"{server}: a documented limit" in row(table, "async")["django"].figures
    assert not any("Django + a kit" in figure for figure in row(table, "performance")["flask"].figures)


def test_describe_cell_of_a_partial_cell() -> None:
    record = {
        c.SCENARIO: "json",
        a.STATUS: a.STATUS_PARTIAL,
        a.median_of(c.RPS): 4321.0,
        a.median_of(c.LATENCY_P99): 4.567,
        a.VALID_TRIALS: 2,
        a.TRIALS: 3,
        a.TRIAL_REQUESTS: 8_642,
    }
    assert describe_cell(record) == "json: 4,321 req/s, p99 4.57 ms (n=8,642) (2 of 3 trials valid)"
    assert "p99 4.57 ms (n=130, too few for a p99)" in describe_cell({**record, a.TRIAL_REQUESTS: 130})
    assert describe_cell({**record, c.SERVER: "gunicorn"}, label="Django + DRF").startswith(
        "json (Django + DRF; gunicorn): "
    )


def test_markdown_has_a_line_per_row(table_inputs: tuple[list, pd.DataFrame, pd.DataFrame]) -> None:
    markdown = render_markdown(build(table_inputs, None))
    lines = markdown.splitlines()
    assert lines[0] == "| | django | fastapi | flask |"
    assert len(lines) == 2 + len(TABLE_ROWS)
    assert all(line.count(" | ") >= 3 for line in lines[2:])


def test_community_row_without_community_json_says_not_fetched_and_how_to_fetch(
    table_inputs: tuple[list, pd.DataFrame, pd.DataFrame],
) -> None:
    cells = row(build(table_inputs, None), "community")
    for cell in cells.values():
        assert cell.provided == "not fetched"
        assert cell.figures == ()
        assert cell.notes == (
            "no community.json beside the run: "
            "fetch with `python -m bench report --refresh-community 20250101-1200`",
        )


def test_community_row_quotes_the_stored_facts_with_their_fetch_date(
    table_inputs: tuple[list, pd.DataFrame, pd.DataFrame], tmp_path: Path
) -> None:
    fetched_at = datetime(2025, 12, 1, 9, 30, tzinfo=UTC)
    facts = PackageFacts(
        name="Django",
        first_version="1.2",
        first_release=date(2010, 5, 17),
        latest_version="5.2.9",
        latest_release=date(2025, 11, 5),
        releases_last_12_months=14,
        as_of=fetched_at.date(),
        python_versions=("3.10", "3.11", "3.12", "3.13"),
        requires_python=">=3.10",
    )
    path = tmp_path / "community.json"
    write_community(
        path,
        [
            CommunityEntry("django", pypi_json_url("django"), fetched_at, facts),
            CommunityEntry("fastapi", pypi_json_url("fastapi"), fetched_at, None),  # PyPI did not answer
        ],
    )  # and no entry for flask
    table = build(table_inputs, None, read_community(path))
    cells = row(table, "community")
    assert cells["django"].provided == "latest release django 5.2.9 (2025-11-05)"
    assert cells["django"].figures == (
        "first release on PyPI 1.2 (2010-05-17)",
        "14 releases in the 12 months to 2025-12-01",
        "declares Python 3.10, 3.11, 3.12, 3.13; requires_python >=3.10",
    )
    assert cells["django"].notes == ("PyPI, fetched 2025-12-01: https://pypi.org/pypi/django/json",)
    assert cells["fastapi"].provided == cells["flask"].provided == "not fetched"
    assert cells["fastapi"].notes[0].startswith("PyPI did not answer on 2025-12-01 (https://pypi.org/pypi/")
    assert cells["flask"].notes[0].startswith(f"flask is not in {path}: fetch with `python -m bench report")

    markdown = render_markdown(table).splitlines()
    assert markdown[-1].startswith("| **Community**<br>the framework's releases on PyPI")
    assert (
        "latest release django 5.2.9 (2025-11-05)<br>first release on PyPI 1.2 (2010-05-17)<br>"
        in markdown[-1]
    )


def test_the_performance_row_says_which_apps_are_tied(
    table_inputs: tuple[list, pd.DataFrame, pd.DataFrame],
) -> None:
    specs, headline, ranking = table_inputs
    overall = Standing(
        groups=[["fastapi"], ["flask", "django"]],
        unjudged={},
        verdicts=[
            PairVerdict("fastapi", "flask", 1.5, 1.3, 1.7),
            PairVerdict("fastapi", "django", 1.6, 1.4, 1.8),
            PairVerdict("flask", "django", 1.03, 0.97, 1.09),
        ],
    )

    def rank_line(standing: Standing | None, app: str) -> str:
        table = build_comparison_table(
            apps=specs,
            headline=headline,
            ranking=ranking,
            rows_of=dict(DEFAULT_SCENARIO_ROWS),
            version_of=lambda name: None,
            contract=None,
            requires=lambda name: [],
            overall=standing,
        )
        return row(table, "performance")[app].figures[0]

    assert rank_line(overall, "flask").endswith("; tied with django at this run's noise")
    assert rank_line(overall, "fastapi").endswith("; apart from every other app at this run's noise")
    assert rank_line(None, "flask").endswith("; too few trials to tell whether the differences are real")


def test_the_validation_row_gives_the_cost_of_the_error_path_next_to_api(tmp_path: Path) -> None:
    specs = [load_app(name, write_apps(tmp_path / "apps")) for name in ("django", "fastapi", "flask")]
    api = synthetic_rows(scenarios=("api",), noise=0.0)  # flask: 700 req/s, 950/700 = 1.36 CPU-ms each
    errors = [dataclasses.replace(r, scenario="errors", rps=950.0, cpu_ms_per_request=1.0) for r in api]
    errors = flag(errors, app="django", scenario="errors", error="request mix off its stated shares: x")
    cells = a.aggregate_cells(a.frame_from_rows(rows_to_dicts(api + errors)))
    headline = a.headline_cells(cells, preferred_servers={})
    table = build((specs, headline, rank_by_cpu(headline)), None)
    flask = row(table, "validation")["flask"].figures
    assert flask[0].startswith("api (gunicorn, sqlite): 700 req/s")
    assert flask[1].startswith("errors (gunicorn, sqlite): 950 req/s")
    # Half refused: 1.0 = 0.5 x 1.36 + 0.5 x a refused request's 0.64
    assert flask[2] == (
        "error path: 1.00 CPU-ms per request with 50% refused, 0.74x api's 1.36; "
        "a refused request ≈ 0.64 CPU-ms (0.47x)"
    )
    # No error-path line where errors has no valid figure
    django = row(table, "validation")["django"].figures
    assert django[1].startswith("errors (gunicorn, sqlite): failed (request mix off")
    assert not any(figure.startswith("error path") for figure in django)


def test_the_error_path_compares_only_cells_of_one_server_and_database() -> None:
    api = {c.SERVER: "gunicorn", c.DB: "postgres", a.CPU_PER_REQUEST: 2.0}
    assert error_path_figure(api=api, errors={**api, a.CPU_PER_REQUEST: 3.0}, refused=0.5).startswith(
        "error path: 3.00 CPU-ms per request with 50% refused, 1.50x api's 2.00; a refused request ≈ 4.00"
    )
    assert (
        error_path_figure(api=api, errors={**api, c.DB: "sqlite", a.CPU_PER_REQUEST: 3.0}, refused=0.5) == ""
    )
    assert error_path_figure(api=api, errors={**api, a.CPU_PER_REQUEST: math.nan}, refused=0.5) == ""
    assert error_path_figure(api=api, errors={**api, a.CPU_PER_REQUEST: None}, refused=0.5) == ""


def test_the_refused_share_is_the_errors_scenario_s_stated_one() -> None:
    assert refused_share() == pytest.approx(0.5)
