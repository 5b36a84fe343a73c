"""bench/report/ties.py: which apps the run can tell apart, per scenario and on the overall score."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.noise import TIE_MARGIN
from bench.report.ties import (
    LogSample,
    PairVerdict,
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


def test_a_difference_at_the_margin_is_rarely_called_a_lead() -> None:
    # Two apps exactly TIE_MARGIN apart: calling one ahead claims more than the margin, a false claim. With
    # the whole interval required beyond the margin, such claims stay within the 5% false-claim rate.
    claims = 0
    for seed in range(400):
        trials = {
            "a": noisy(1000.0 * (1 + TIE_MARGIN), 3, cv=0.04, seed=seed),
            "b": noisy(1000.0, 3, cv=0.04, seed=10_000 + seed),
        }
        verdicts, _ = compare_apps(trials)
        claims += not verdicts[0].tied
    assert claims / 400 <= 0.05


def test_twice_the_margin_is_found_when_the_noise_allows_it() -> None:
    # The power of the rule at 2x the margin (10%) with five trials of 2% CV (quiet cells, longer windows).
    found = 0
    for seed in range(200):
        trials = {
            "fast": noisy(1000.0 * (1 + 2 * TIE_MARGIN), 5, cv=0.02, seed=seed),
            "slow": noisy(1000.0, 5, cv=0.02, seed=20_000 + seed),
        }
        verdicts, _ = compare_apps(trials)
        found += not verdicts[0].tied and verdicts[0].first == "fast"
    assert found / 200 >= 0.8


def test_three_noisy_trials_cannot_call_twice_the_margin() -> None:
    # make bench's cells (three trials of about 4% CV) cannot tell 10% from the margin: mostly a tie, never a
    # lead for the slower app.
    found = wrong = 0
    for seed in range(200):
        trials = {
            "fast": noisy(1000.0 * (1 + 2 * TIE_MARGIN), 3, cv=0.04, seed=seed),
            "slow": noisy(1000.0, 3, cv=0.04, seed=30_000 + seed),
        }
        verdicts, _ = compare_apps(trials)
        found += not verdicts[0].tied and verdicts[0].first == "fast"
        wrong += not verdicts[0].tied and verdicts[0].first == "slow"
    assert found / 200 < 0.5
    assert wrong == 0


def test_a_tie_says_how_far_apart_the_interval_lets_the_apps_be() -> None:
    tied = PairVerdict("flask", "django", 1.04, 0.97, 1.12)
    assert tied.tied and tied.text == "django ≈ flask (within 12%)"
    narrow = PairVerdict("flask", "django", 1.01, 0.99, 1.03)
    assert narrow.text == "django ≈ flask (within 5%)"  # never less than the margin itself
    ahead = PairVerdict("flask", "django", 1.21, 1.12, 1.30)
    assert not ahead.tied and ahead.text == "flask > django (x1.21 [1.12-1.30])"
    assert PairVerdict("a", "b", 1.2, 1.08, 1.3, margin=0.10).tied


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


def test_a_tie_group_holds_only_apps_tied_pair_by_pair() -> None:
    verdicts = [
        PairVerdict("a", "b", 1.02, 0.98, 1.06),  # tied
        PairVerdict("b", "c", 1.02, 0.99, 1.05),  # tied
        PairVerdict("a", "c", 1.12, 1.07, 1.17),  # a ahead of c, beyond the margin
    ]
    assert tie_groups(["a", "b", "c"], verdicts) == [["a", "b"], ["c"]]
    # c is tied with b but not with a: it cannot join their group, whatever the order of the first two.
    verdicts = [
        PairVerdict("a", "b", 1.12, 1.07, 1.17),
        PairVerdict("b", "c", 1.02, 0.99, 1.05),
        PairVerdict("a", "c", 1.02, 0.98, 1.06),
    ]
    assert tie_groups(["a", "c", "b"], verdicts) == [["a", "c"], ["b"]]
    assert pair_confidence(3) == pytest.approx(1 - 0.05 / 3)


def test_apps_of_a_tie_group_are_listed_alphabetically() -> None:
    verdicts = [PairVerdict("flask", "django", 1.01, 0.95, 1.08)]
    assert order_text(tie_groups(["flask", "django"], verdicts)) == "django ≈ flask"


def test_standings_of_a_synthetic_run_leave_out_generator_bound_and_failed_cells() -> None:
    from bench.report import aggregate as a
    from bench.report.score import rank_by_throughput
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
    overall = score_standing(frame, headline, rank_by_throughput(headline))
    assert sorted(app for group in overall.groups for app in group) == ["django", "fastapi", "flask"]
    assert overall.text
