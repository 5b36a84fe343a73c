"""bench/report/score.py: the overall scores on CPU per request and on throughput."""

from __future__ import annotations

import pandas as pd
import pytest

from bench import columns as c
from bench.report import aggregate as a
from bench.report.score import (
    CPU_SCORE,
    EVERY_SCENARIO,
    THROUGHPUT_SCORE,
    overall_scores,
    rank_by_cpu,
    rank_by_throughput,
)
from bench.results import ResultRow, rows_to_dicts
from tests.bench.synthetic_run import flag, synthetic_rows


def headline_of(rows: list[ResultRow]) -> pd.DataFrame:
    cells = a.aggregate_cells(a.frame_from_rows(rows_to_dicts(rows)))
    return a.headline_cells(cells, preferred_servers={})


def test_ranking_uses_only_scenarios_every_app_completed() -> None:
    rows = synthetic_rows(noise=0.0)
    # flask fails io, where it would come last: io must not count for anyone.
    rows = flag(rows, app="flask", scenario="io", error="died")
    ranking = rank_by_throughput(headline_of(rows))
    assert list(ranking[c.APP]) == ["fastapi", "flask", "django"]
    assert list(ranking[a.RANK]) == [1, 2, 3]
    assert "io" not in ranking.iloc[0][a.SCORED_SCENARIOS]
    assert ranking.iloc[0][a.SCORE] == pytest.approx(1.0)


def test_ranking_without_a_common_valid_scenario_ranks_nobody() -> None:
    rows = synthetic_rows(apps=("flask", "django"), scenarios=("json",))
    rows = flag(rows, app="django", scenario="json", error="died")
    assert rank_by_throughput(headline_of(rows))[a.SCORE].isna().all()
    assert rank_by_cpu(headline_of(rows))[a.SCORE].isna().all()


def test_the_cpu_score_keeps_generator_bound_scenarios_the_throughput_score_drops() -> None:
    rows = synthetic_rows(noise=0.0, scenarios=("plaintext", "db"))
    # fastapi out-ran the load generator on plaintext: its throughput is a lower bound, its CPU per request
    # (here a third of flask's) was measured all the same.
    rows = flag(rows, app="fastapi", scenario="plaintext", generator_bound=True, cpu_ms_per_request=0.05)
    rows = flag(rows, app="flask", scenario="plaintext", cpu_ms_per_request=0.15)
    rows = flag(rows, app="django", scenario="plaintext", cpu_ms_per_request=0.30)
    headline = headline_of(rows)
    assert headline[a.CPU_PER_REQUEST].notna().all()
    bound = headline[(headline[c.APP] == "fastapi") & (headline[c.SCENARIO] == "plaintext")]
    assert bound.iloc[0][a.CPU_RATIO_TO_CHEAPEST] == pytest.approx(1.0)
    flask = headline[(headline[c.APP] == "flask") & (headline[c.SCENARIO] == "plaintext")]
    assert flask.iloc[0][a.CPU_RATIO_TO_CHEAPEST] == pytest.approx(3.0)
    throughput = rank_by_throughput(headline)
    assert throughput.iloc[0][a.SCORED_SCENARIOS] == "db"
    cpu = rank_by_cpu(headline).set_index(c.APP)
    assert cpu.loc["fastapi", a.SCORED_SCENARIOS] == "db, plaintext"
    # db: CPU per request is 950 / rps (synthetic_run), so the cheapest is the fastest; plaintext as flagged.
    db_rps = {"fastapi": 2500.0, "flask": 1900.0, "django": 1500.0}
    plaintext_cpu = {"fastapi": 0.05, "flask": 0.15, "django": 0.30}
    for app in db_rps:
        relative_db = db_rps[app] / db_rps["fastapi"]
        relative_plaintext = plaintext_cpu["fastapi"] / plaintext_cpu[app]
        assert cpu.loc[app, a.SCORE] == pytest.approx((relative_db * relative_plaintext) ** 0.5)
    assert list(rank_by_cpu(headline)[c.APP]) == ["fastapi", "flask", "django"]


def test_one_generator_bound_trial_takes_a_scenario_out_of_the_throughput_score() -> None:
    rows = synthetic_rows(noise=0.0, scenarios=("plaintext", "db"))
    rows = flag(rows, app="fastapi", scenario="plaintext", trials=[1, 2], generator_bound=True)
    headline = headline_of(rows)
    assert rank_by_throughput(headline).iloc[0][a.SCORED_SCENARIOS] == "db"
    assert rank_by_cpu(headline).iloc[0][a.SCORED_SCENARIOS] == "db, plaintext"


def test_scores_come_with_and_without_the_third_party_scenarios() -> None:
    rows = synthetic_rows(noise=0.0, scenarios=("db", "api"))
    # Treat api as the third-party scenario, and make django win it by far: without it django is last.
    rows = flag(rows, app="django", scenario="api", rps=5000.0, cpu_ms_per_request=0.01)
    scores = overall_scores(headline_of(rows), third_party={"api", "admin"})
    assert [(score.metric, score.scope) for score in scores] == [
        (CPU_SCORE, EVERY_SCENARIO),
        (CPU_SCORE, "without api"),
        (THROUGHPUT_SCORE, EVERY_SCENARIO),
        (THROUGHPUT_SCORE, "without api"),
    ]
    assert scores[0].scenarios == "api, db" and scores[1].scenarios == "db"
    without = scores[1].ranking.set_index(c.APP)
    assert without.loc["django", a.RANK] == 3
    # No third-party scenario in the run: one score of each kind.
    plain = overall_scores(headline_of(synthetic_rows(scenarios=("db",))), third_party={"admin"})
    assert [score.metric for score in plain] == [CPU_SCORE, THROUGHPUT_SCORE]
