"""Which apps are tied: the difference between two apps' figures, judged against the run's own noise. Pure
functions of trial values and of a run's rows.

For one scenario, each app has a few valid trials. Two apps are compared by the ratio of their geometric means
with a Welch t interval on the log values (the trials of one app are independent of the other's); the
confidence of each interval is corrected for the number of pairs compared (Bonferroni), so that calling apps
different when they are not stays at the 5% the gate also allows. An interval that holds 1 means the run
cannot tell the apps apart: they are tied. With fewer than two valid trials an app has no noise estimate, and
nothing is said about it but that.

The overall score (the geometric mean over scenarios of each app's throughput relative to the fastest) is
compared the same way: its log is a mean over scenarios of log figures, whose variances add up.

A difference the run can see is not always one worth a verdict: runs on different days differ by more than
a run's own noise (docs/methodology.md, "Repeatability"). So one app is called ahead of another (">") only
when the whole interval of their ratio lies beyond a practical margin (TIE_MARGIN, 5% by default: the same
idea as the gate's minimum effect); otherwise they are tied, written "≈" with how far apart the interval lets
them be. A tie group holds apps that are tied pair by pair; its apps are listed alphabetically, not ranked.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from bench.columns import APP, CPU_MS_PER_REQUEST, DB, RPS, SCENARIO, SERVER, USERS
from bench.noise import TIE_MARGIN
from bench.report.aggregate import (
    SCORE,
    SCORED_SCENARIOS,
    STATUS,
    STATUS_ERROR,
    STATUS_GENERATOR_BOUND,
    STATUS_OK,
)

FALSE_CLAIM_RATE = 0.05  # of all the pairs of one comparison together
TIED, AHEAD = "≈", ">"


@dataclass(frozen=True)
class LogSample:
    """An app's valid trials of one figure, as the mean and variance of their logs."""

    mean: float
    variance: float  # of one trial's log value (ddof=1)
    size: int

    @classmethod
    def of(cls, values: Sequence[float]) -> LogSample | None:
        """Return the log sample of positive values, or None below two of them (no noise estimate)."""
        logs = np.log([value for value in values if value > 0 and math.isfinite(value)])
        if logs.size < 2:
            return None
        return cls(mean=float(logs.mean()), variance=float(logs.var(ddof=1)), size=int(logs.size))

    @property
    def variance_of_mean(self) -> float:
        return self.variance / self.size


@dataclass(frozen=True)
class PairVerdict:
    """first against second (first has the larger figure): their ratio, its interval, and whether tied."""

    first: str
    second: str
    ratio: float
    low: float
    high: float
    margin: float = TIE_MARGIN

    @property
    def tied(self) -> bool:
        """Return whether the interval reaches into the margin (first is not clearly ahead)."""
        return self.low <= 1.0 + self.margin

    @property
    def text(self) -> str:
        """Return e.g. "flask > django (x1.21 [1.12-1.30])" or "django ≈ flask (within 7%)"."""
        if self.tied:
            # How far apart the interval lets them be; never less than the margin itself.
            within = max(self.high - 1.0, self.margin)
            first, second = sorted((self.first, self.second))
            return f"{first} {TIED} {second} (within {within:.0%})"
        return f"{self.first} {AHEAD} {self.second} (x{self.ratio:.2f} [{self.low:.2f}-{self.high:.2f}])"


def ratio_interval(
    log_difference: float, variance: float, *, df: float, confidence: float
) -> tuple[float, float, float]:
    """Return (ratio, low, high) of a difference of log means, from its variance and degrees of freedom."""
    if variance <= 0:
        ratio = math.exp(log_difference)
        return ratio, ratio, ratio
    half = float(stats.t.ppf(1 - (1 - confidence) / 2, df)) * math.sqrt(variance)
    return math.exp(log_difference), math.exp(log_difference - half), math.exp(log_difference + half)


def welch_df(parts: Sequence[tuple[float, int]]) -> float:
    """Return the Welch-Satterthwaite degrees of freedom of a sum of (variance of a mean, size) terms."""
    total = sum(variance for variance, _ in parts)
    denominator = sum(variance**2 / (size - 1) for variance, size in parts if size > 1)
    return total**2 / denominator if denominator > 0 else float(max(sum(size for _, size in parts) - 2, 1))


def pair_confidence(pairs: int) -> float:
    """Return the confidence of one interval so that all pairs together keep FALSE_CLAIM_RATE (Bonferroni)."""
    return 1 - FALSE_CLAIM_RATE / max(pairs, 1)


def compare_apps(
    trials: Mapping[str, Sequence[float]], *, margin: float = TIE_MARGIN
) -> tuple[list[PairVerdict], list[str]]:
    """Return the verdict of every pair of apps with a noise estimate, and the apps without one.

    trials: app -> the valid trials' figures of one scenario (higher is better, e.g. requests/s).
    """
    samples = {app: LogSample.of(values) for app, values in trials.items()}
    judged = sorted((app for app, sample in samples.items() if sample is not None), key=str)
    unjudged = sorted(app for app, sample in samples.items() if sample is None)
    confidence = pair_confidence(math.comb(len(judged), 2))
    verdicts = []
    for one, other in combinations(judged, 2):
        a, b = samples[one], samples[other]
        assert a is not None and b is not None
        first, second = (one, other) if a.mean >= b.mean else (other, one)
        top, bottom = (a, b) if first == one else (b, a)
        parts = [(top.variance_of_mean, top.size), (bottom.variance_of_mean, bottom.size)]
        ratio, low, high = ratio_interval(
            top.mean - bottom.mean,
            top.variance_of_mean + bottom.variance_of_mean,
            df=welch_df(parts),
            confidence=confidence,
        )
        verdicts.append(
            PairVerdict(first=first, second=second, ratio=ratio, low=low, high=high, margin=margin)
        )
    return verdicts, unjudged


def compare_scores(
    trials: Mapping[str, Mapping[str, Sequence[float]]], *, margin: float = TIE_MARGIN
) -> list[PairVerdict]:
    """Return the verdict of every pair of apps on the overall score (a geometric mean over scenarios).

    trials: scenario -> app -> valid trials of the scenarios the score counts. Every app needs two valid
    trials or more in every one of them: a score judged on some of its scenarios only would claim more than
    the run measured, so then no verdict is given (empty list).
    """
    apps = sorted({app for by_app in trials.values() for app in by_app})
    samples: dict[tuple[str, str], LogSample] = {}
    scenarios = []
    for scenario, by_app in sorted(trials.items()):
        of_scenario = {app: LogSample.of(by_app.get(app, ())) for app in apps}
        if not all(sample is not None for sample in of_scenario.values()):
            return []
        scenarios.append(scenario)
        samples.update({(scenario, app): sample for app, sample in of_scenario.items() if sample})
    if not scenarios or len(apps) < 2:
        return []
    confidence = pair_confidence(math.comb(len(apps), 2))
    count = len(scenarios)
    verdicts = []
    for one, other in combinations(apps, 2):
        difference = sum(samples[s, one].mean - samples[s, other].mean for s in scenarios) / count
        parts = [
            (samples[s, app].variance_of_mean / count**2, samples[s, app].size)
            for s in scenarios
            for app in (one, other)
        ]
        first, second = (one, other) if difference >= 0 else (other, one)
        ratio, low, high = ratio_interval(
            abs(difference), sum(v for v, _ in parts), df=welch_df(parts), confidence=confidence
        )
        verdicts.append(
            PairVerdict(first=first, second=second, ratio=ratio, low=low, high=high, margin=margin)
        )
    return verdicts


def tie_groups(order: Sequence[str], verdicts: Sequence[PairVerdict]) -> list[list[str]]:
    """Return the apps, best first, in groups: an app joins the current group when it is tied with every
    app of it, else it starts the next group; within a group the apps are in alphabetical order.

    Ties need not be transitive (a ≈ b and b ≈ c while a > c): then b stays with a, c starts a group, and
    the pairwise verdicts (Standing.pairs_text) say that b ≈ c too.
    """
    tied = {frozenset((v.first, v.second)) for v in verdicts if v.tied}
    groups: list[list[str]] = []
    for app in order:
        if groups and all(frozenset((member, app)) in tied for member in groups[-1]):
            groups[-1].append(app)
        else:
            groups.append([app])
    return [sorted(group) for group in groups]


def order_text(groups: Sequence[Sequence[str]]) -> str:
    """Return groups as text: "django ≈ flask > fastapi" (≈: within the margin or the noise, >: ahead)."""
    return f" {AHEAD} ".join(f" {TIED} ".join(group) for group in groups)


# ---- from a run's rows -------------------------------------------------------------------------------------

NO_NOISE_ESTIMATE = "fewer than two valid trials"


@dataclass(frozen=True)
class Standing:
    """What the run can say about the apps of one scenario, or of the overall score."""

    groups: list[list[str]]  # best first; apps within a group are tied
    unjudged: dict[str, str]  # app -> why the run says nothing about it
    verdicts: list[PairVerdict]

    @property
    def text(self) -> str:
        """Return e.g. "flask ≈ django > fastapi", then the apps left out and why."""
        if not self.groups and len(set(self.unjudged.values())) == 1 and len(self.unjudged) > 1:
            return f"every app: {next(iter(self.unjudged.values()))}"
        parts = [order_text(self.groups)] if self.groups else []
        parts += [f"{app}: {reason}" for app, reason in sorted(self.unjudged.items())]
        return "; ".join(parts)

    @property
    def pairs_text(self) -> str:
        """Return every pair's verdict, e.g. "django ≈ flask (within 7%); flask > fastapi (x1.21 [...])"."""
        return "; ".join(verdict.text for verdict in sorted(self.verdicts, key=lambda v: (v.first, v.second)))

    def tied_with(self, app: str) -> list[str]:
        """Return the apps the run cannot tell apart from app (pair by pair)."""
        return sorted(
            (verdict.second if verdict.first == app else verdict.first)
            for verdict in self.verdicts
            if verdict.tied and app in (verdict.first, verdict.second)
        )

    def judged(self, app: str) -> bool:
        return any(app in group for group in self.groups)


def valid_trials(
    frame: pd.DataFrame,
    headline: pd.DataFrame,
    *,
    metric: str,
    statuses: Collection[str] = (STATUS_OK,),
    higher_is_better: bool = True,
) -> dict[str, dict[str, list[float]]]:
    """Return scenario -> app -> the metric's values in the trials of each headline cell whose status is one
    of statuses (valid ones by default; a server's own metrics were measured in generator-bound trials too);
    a lower-is-better metric (CPU per request) comes back as its reciprocal, so that higher is better."""
    valid = frame[frame[STATUS].isin(statuses)]
    trials: dict[str, dict[str, list[float]]] = {}
    for _, cell in headline.iterrows():
        match = valid[
            (valid[APP] == cell[APP])
            & (valid[SERVER] == cell[SERVER])
            & (valid[SCENARIO] == cell[SCENARIO])
            & (valid[USERS] == cell[USERS])
            & (valid[DB] == cell[DB])
        ]
        values = [float(v) for v in match[metric]]
        if not higher_is_better:
            values = [1 / value for value in values if value > 0]
        trials.setdefault(str(cell[SCENARIO]), {})[str(cell[APP])] = values
    return trials


def _why_unjudged(headline: pd.DataFrame, scenario: str, app: str) -> str:
    statuses = headline[(headline[SCENARIO] == scenario) & (headline[APP] == app)][STATUS].tolist()
    if statuses and statuses[0] == STATUS_GENERATOR_BOUND:
        return "the load generator was the limit (a lower bound, not ranked)"
    if statuses and statuses[0] == STATUS_ERROR:
        return "failed"
    return NO_NOISE_ESTIMATE


def scenario_standings(
    frame: pd.DataFrame, headline: pd.DataFrame, *, metric: str, margin: float = TIE_MARGIN
) -> dict[str, Standing]:
    """Return each scenario's standing of the apps on a higher-is-better metric (e.g. requests/s)."""
    standings = {}
    for scenario, by_app in valid_trials(frame, headline, metric=metric).items():
        verdicts, unjudged = compare_apps(by_app, margin=margin)
        means = {app: sample.mean for app, values in by_app.items() if (sample := LogSample.of(values))}
        order = sorted(means, key=lambda app: -means[app])
        standings[scenario] = Standing(
            groups=tie_groups(order, verdicts),
            unjudged={app: _why_unjudged(headline, scenario, app) for app in unjudged},
            verdicts=verdicts,
        )
    return standings


def score_standing(
    frame: pd.DataFrame,
    headline: pd.DataFrame,
    ranking: pd.DataFrame,
    *,
    metric: str = RPS,
    margin: float = TIE_MARGIN,
) -> Standing:
    """Return the standing of the apps on an overall score (ranking: its apps, scores and scenarios), in the
    ranking's order. metric RPS judges the throughput score on valid trials; CPU_MS_PER_REQUEST judges the CPU
    score on every completed trial, generator-bound ones included."""
    ranked = ranking.dropna(subset=[SCORE]).sort_values(SCORE, ascending=False)
    # The scenarios the score counts (those every app completed), and no others.
    scored = set(str(ranked.iloc[0][SCORED_SCENARIOS]).split(", ")) if len(ranked) else set()
    if metric == CPU_MS_PER_REQUEST:
        trials = valid_trials(
            frame,
            headline,
            metric=metric,
            statuses=(STATUS_OK, STATUS_GENERATOR_BOUND),
            higher_is_better=False,
        )
    else:
        trials = valid_trials(frame, headline, metric=metric)
    verdicts = compare_scores(
        {scenario: by_app for scenario, by_app in trials.items() if scenario in scored}, margin=margin
    )
    order = [str(app) for app in ranked[APP]]
    judged = {app for verdict in verdicts for app in (verdict.first, verdict.second)}
    unjudged = {app: NO_NOISE_ESTIMATE for app in order if app not in judged} if len(order) > 1 else {}
    return Standing(
        groups=tie_groups([app for app in order if app in judged], verdicts),
        unjudged=unjudged,
        verdicts=verdicts,
    )
