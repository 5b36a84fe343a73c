"""The overall scores: each app's standing over the run's scenarios, on CPU per request and on throughput.
Pure functions of the headline cells.

Throughput is measured only where the app, not the load generator, was the limit: a generator-bound cell has
a lower bound of requests/s, so the throughput score leaves its scenario out for every app. What the server
spent on each request is measured in every cell that completed, generator-bound ones included, so the CPU
score covers every scenario the apps completed: it is the headline score, and the throughput score is printed
beside it with the scenarios each one covers.

Each score comes twice: over every scored scenario, and without the scenarios that mostly measure a
third-party package rather than the framework (THIRD_PARTY in a scenario's file: admin, where sqladmin,
Flask-Admin and django.contrib.admin do the work).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.columns import APP, RPS, SCENARIO
from bench.report.aggregate import (
    CPU_PER_REQUEST,
    GENERATOR_BOUND_TRIALS,
    RANK,
    SCORE,
    SCORED_SCENARIOS,
    median_of,
)

RANKING_COLUMNS = (APP, RANK, SCORE, SCORED_SCENARIOS)
CPU_SCORE = "cpu"  # Score.metric of the score on CPU per request
THROUGHPUT_SCORE = "throughput"  # Score.metric of the score on requests per second
EVERY_SCENARIO = "every scored scenario"
WITHOUT_THIRD_PARTY = "without {scenarios}"


def _relative_score(table: pd.DataFrame, *, higher_is_better: bool) -> pd.DataFrame:
    """Return the ranking of the apps (columns) over the scenarios (rows) of table, every value positive."""
    apps = [str(app) for app in table.columns]
    if table.empty:
        return pd.DataFrame({APP: apps, RANK: math.nan, SCORE: math.nan, SCORED_SCENARIOS: ""})[
            list(RANKING_COLUMNS)
        ]
    # Each app as a share of the best app of each scenario: the fastest, or the one that spent least CPU.
    if higher_is_better:
        relative = table.div(table.max(axis=1), axis=0)
    else:
        relative = 1 / table.div(table.min(axis=1), axis=0)
    scores = np.exp(np.log(relative).mean(axis=0))
    ranking = pd.DataFrame({APP: scores.index, SCORE: scores.to_numpy()})
    ranking[RANK] = ranking[SCORE].rank(ascending=False, method="min").astype(int)
    ranking[SCORED_SCENARIOS] = ", ".join(str(name) for name in table.index)
    return ranking.sort_values([RANK, APP]).reset_index(drop=True)[list(RANKING_COLUMNS)]


def _complete(table: pd.DataFrame, apps: list[str]) -> pd.DataFrame:
    # Only scenarios where every app has a figure: no app is judged on a workload another skipped or failed.
    table = table.reindex(columns=apps).dropna()
    return table[(table > 0).all(axis=1)]


def rank_by_throughput(headline: pd.DataFrame, *, exclude: Collection[str] = ()) -> pd.DataFrame:
    """Return app, rank, score and the scenarios scored: the geometric mean of each app's throughput relative
    to the fastest app, over the scenarios (less exclude) where every app has a valid median and no trial
    was generator-bound."""
    if headline.empty:
        return pd.DataFrame(columns=list(RANKING_COLUMNS))
    # A scenario where any app out-ran the load generator in any trial measured a lower bound for it, even
    # when its other trials were valid: its throughput ranks nobody.
    bound = set(headline[headline[GENERATOR_BOUND_TRIALS] > 0][SCENARIO])
    kept = headline[~headline[SCENARIO].isin({*exclude, *bound})]
    table = kept.pivot_table(index=SCENARIO, columns=APP, values=median_of(RPS), aggfunc="first")
    return _relative_score(_complete(table, sorted(set(headline[APP]))), higher_is_better=True)


def rank_by_cpu(headline: pd.DataFrame, *, exclude: Collection[str] = ()) -> pd.DataFrame:
    """Return app, rank, score and the scenarios scored: the geometric mean of the cheapest app's CPU per
    request over each app's own, over the scenarios (less exclude) where every app has a figure; 100% means
    the cheapest everywhere."""
    if headline.empty:
        return pd.DataFrame(columns=list(RANKING_COLUMNS))
    kept = headline[~headline[SCENARIO].isin(exclude)]
    table = kept.pivot_table(index=SCENARIO, columns=APP, values=CPU_PER_REQUEST, aggfunc="first")
    return _relative_score(_complete(table, sorted(set(headline[APP]))), higher_is_better=False)


@dataclass(frozen=True)
class Score:
    """One overall score of the run: on which metric, over which scenarios, and the apps' ranking."""

    metric: str  # CPU_SCORE or THROUGHPUT_SCORE
    scope: str  # EVERY_SCENARIO, or what it leaves out
    ranking: pd.DataFrame  # RANKING_COLUMNS

    @property
    def scenarios(self) -> str:
        ranked = self.ranking.dropna(subset=[SCORE])
        return "" if ranked.empty else str(ranked.iloc[0][SCORED_SCENARIOS])


def overall_scores(headline: pd.DataFrame, *, third_party: Collection[str]) -> list[Score]:
    """Return the CPU score, then the throughput score, each over every scenario and, when the run has any,
    without the third_party scenarios."""
    present = sorted(set(headline[SCENARIO]) & set(third_party)) if not headline.empty else []
    scopes: list[tuple[str, Collection[str]]] = [(EVERY_SCENARIO, ())]
    if present:
        scopes.append((WITHOUT_THIRD_PARTY.format(scenarios=", ".join(present)), present))
    scores = []
    for metric, rank in ((CPU_SCORE, rank_by_cpu), (THROUGHPUT_SCORE, rank_by_throughput)):
        for scope, exclude in scopes:
            scores.append(Score(metric=metric, scope=scope, ranking=rank(headline, exclude=exclude)))
    return scores
