"""bench/report/ties.py: which apps the run can tell apart, per scenario and on the overall score."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.report.ties import (
    LogSample,
    compare_apps,
    compare_scores,
    order_text,
    pair_confidence,
    tie_groups,
)


def noisy(center: float, count: int, *, cv: float, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return [float(value) for value in center * np.exp(rng.normal(0, cv, count))]


def test_a_clear_difference_is_called_and_overlapping_noise_is_a_tie() -> None:
    trials = {
        "flask": [1811.0, 1795.0, 1830.0],
        "django": [1507.0, 1520.0, 1490.0],
        "fastapi": [1500.0, 1560.0, 1470.0],
    }
    verdicts, unjudged = compare_apps(trials)
    assert unjudged == []
    by_pair = {(v.first, v.second): v for v in verdicts}
    assert not by_pair["flask", "django"].tied and by_pair["flask", "django"].low > 1
    assert by_pair["flask", "django"].ratio == pytest.approx(1811 / 1506, rel=0.01)
    assert by_pair["fastapi", "django"].tied or by_pair["django", "fastapi"].tied
    order = sorted(trials, key=lambda app: -float(np.mean(np.log(trials[app]))))
    assert order_text(tie_groups(order, verdicts)) in ("flask > fastapi ≈ django", "flask > django ≈ fastapi")


def test_one_trial_is_no_noise_estimate() -> None:
    verdicts, unjudged = compare_apps({"flask": [100.0], "django": [90.0, 91.0]})
    assert verdicts == []
    assert unjudged == ["flask"]
    assert LogSample.of([5.0, math.nan]) is None


def test_the_false_claim_rate_holds_over_many_identical_apps() -> None:
    # Three apps drawn from one distribution: a pair called different is a false claim. Over 400 runs of three
    # trials each, at most about 5% of the runs may claim any difference at all (Bonferroni is conservative).
    runs_with_a_claim = 0
    for seed in range(400):
        trials = {app: noisy(1000.0, 3, cv=0.05, seed=seed * 3 + i) for i, app in enumerate("abc")}
        verdicts, _ = compare_apps(trials)
        runs_with_a_claim += any(not verdict.tied for verdict in verdicts)
    assert runs_with_a_claim / 400 <= 0.08


def test_a_large_difference_is_found_at_realistic_noise() -> None:
    found = 0
    for seed in range(100):
        trials = {
            "fast": noisy(1200.0, 3, cv=0.04, seed=seed),
            "slow": noisy(1000.0, 3, cv=0.04, seed=999 - seed),
        }
        verdicts, _ = compare_apps(trials)
        found += not verdicts[0].tied and verdicts[0].first == "fast"
    assert found >= 90


def test_the_overall_score_is_judged_only_when_every_scenario_has_a_noise_estimate() -> None:
    trials = {
        "db": {"a": [100.0, 101.0, 99.0], "b": [80.0, 81.0, 79.0]},
        "json": {"a": [1000.0, 1010.0, 990.0], "b": [800.0, 810.0, 790.0]},
    }
    (verdict,) = compare_scores(trials)
    assert (verdict.first, verdict.second) == ("a", "b")
    assert verdict.ratio == pytest.approx(1.25, rel=0.01)
    assert not verdict.tied
    # One scenario of the score with a single trial of b: the score cannot be judged at all.
    trials["admin"] = {"a": [10.0, 10.5], "b": [9.0]}
    assert compare_scores(trials) == []


def test_tie_groups_follow_the_groups_first_app() -> None:
    from bench.report.ties import PairVerdict

    verdicts = [
        PairVerdict("a", "b", 1.02, 0.98, 1.06),  # tied
        PairVerdict("b", "c", 1.02, 0.99, 1.05),  # tied
        PairVerdict("a", "c", 1.05, 1.01, 1.09),  # a ahead of c
    ]
    assert tie_groups(["a", "b", "c"], verdicts) == [["a", "b"], ["c"]]
    assert pair_confidence(3) == pytest.approx(1 - 0.05 / 3)


def test_standings_of_a_synthetic_run_leave_out_generator_bound_and_failed_cells() -> None:
    from bench.report import aggregate as a
    from bench.report.ties import scenario_standings, score_standing
    from tests.bench.synthetic_run import flag, synthetic_rows

    rows = synthetic_rows()
    rows = flag(rows, app="fastapi", scenario="plaintext", generator_bound=True, rps=12_500.0)
    rows = flag(rows, app="flask", scenario="io", error="server died")
    frame = a.frame_from_rows([row.__dict__ for row in rows])
    cells = a.aggregate_cells(frame)
    headline = a.headline_cells(cells, preferred_servers={})
    standings = scenario_standings(frame, headline, metric="rps")
    plaintext = standings["plaintext"]
    assert "fastapi" in plaintext.unjudged and "lower bound" in plaintext.unjudged["fastapi"]
    assert "fastapi" not in [app for group in plaintext.groups for app in group]
    assert standings["io"].unjudged.get("flask") == "failed"
    overall = score_standing(frame, headline, a.rank_by_throughput(headline))
    assert sorted(app for group in overall.groups for app in group) == ["django", "fastapi", "flask"]
    assert overall.text
