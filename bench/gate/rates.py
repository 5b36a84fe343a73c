"""The regression gate's own error rates over a series of A/B runs. Pure.

Some runs of the series have an injected slowdown on side B (`--inject-cpu-us N --inject-app APP`), the
others none. Each run is judged by both mechanisms on the same measurements:
- A/B: side A against side B of the same run, pair by pair (what `bench check --ab` decides);
- stored baseline: the A side of the previous run of the series as the baseline, the B side of this run as
  the current run (a baseline a few minutes old: drift over days or machines is not in these figures).
A run with an injected slowdown is detected when a gated metric of an injected app is judged worse; a run
without one is a false alarm when the check fails at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.columns import VARIANT
from bench.gate.decisions import GateReport, Verdict, compare_pairs, compare_samples
from bench.gate.samples import VARIANT_A, VARIANT_B, collect_pairs, collect_samples
from bench.gate.settings import METRICS, GateSettings

AB_MODE, BASELINE_MODE = "ab", "baseline"
MODES = (AB_MODE, BASELINE_MODE)


@dataclass(frozen=True)
class SeriesRun:
    """One A/B run of the series: its rows and what side B was made to burn."""

    run_id: str
    rows: tuple[Mapping[str, Any], ...]
    injected_apps: tuple[str, ...]  # empty: nothing injected
    inject_cpu_us: int = 0

    @classmethod
    def from_run(
        cls, run_id: str, rows: Sequence[Mapping[str, Any]], metadata: Mapping[str, Any] | None
    ) -> SeriesRun:
        """Return a run of the series from its rows and metadata.json ("ab": inject_cpu_us, inject_apps)."""
        ab = (metadata or {}).get("ab") or {}
        inject_cpu_us = int(ab.get("inject_cpu_us") or 0)
        apps = tuple(ab.get("inject_apps") or ()) or tuple(sorted({str(row["app"]) for row in rows}))
        return cls(
            run_id=run_id,
            rows=tuple(rows),
            injected_apps=apps if inject_cpu_us > 0 else (),
            inject_cpu_us=inject_cpu_us,
        )

    def side(self, variant: str) -> list[Mapping[str, Any]]:
        return [row for row in self.rows if row.get(VARIANT) == variant]


@dataclass(frozen=True)
class Judgement:
    """One run judged by one mechanism."""

    run_id: str
    mode: str
    injected_apps: tuple[str, ...]
    inject_cpu_us: int
    failed: bool
    detected: bool  # a gated metric of an injected app judged worse
    stray: bool  # a gated metric of an app that was not injected judged worse (a false alarm of its own)
    worse: tuple[str, ...]  # "app scenario metric" of every gated comparison judged worse
    inconclusive: tuple[str, ...]  # the same for the inconclusive ones
    injected_changes: tuple[tuple[str, float | None, str], ...]  # (label, change, verdict), injected apps

    @property
    def injected(self) -> bool:
        return bool(self.injected_apps)


@dataclass(frozen=True)
class GateRates:
    """One mechanism's figures over the series."""

    mode: str
    injected_runs: int
    detected: int
    clean_runs: int
    false_alarms: int
    stray_in_injected: int = 0  # injected runs where an app that was not injected was judged worse too

    @property
    def detection_rate(self) -> float | None:
        return self.detected / self.injected_runs if self.injected_runs else None

    @property
    def false_alarm_rate(self) -> float | None:
        return self.false_alarms / self.clean_runs if self.clean_runs else None


def _label(comparison: Any) -> str:
    return f"{comparison.cell.app} {comparison.cell.scenario} {comparison.metric}"


def judgement_of(run: SeriesRun, report: GateReport) -> Judgement:
    """Return what one report says about one run of the series."""
    gated = [c for c in report.comparisons if c.gating]
    injected = [c for c in gated if c.cell.app in run.injected_apps]
    return Judgement(
        run_id=run.run_id,
        mode=report.mode,
        injected_apps=run.injected_apps,
        inject_cpu_us=run.inject_cpu_us,
        failed=report.failed,
        detected=any(c.verdict is Verdict.WORSE for c in injected),
        stray=any(c.verdict is Verdict.WORSE and c.cell.app not in run.injected_apps for c in gated),
        worse=tuple(_label(c) for c in gated if c.verdict is Verdict.WORSE),
        inconclusive=tuple(_label(c) for c in gated if c.verdict is Verdict.INCONCLUSIVE),
        injected_changes=tuple((_label(c), c.change, c.verdict.value) for c in injected),
    )


BASELINE_FROM = ("previous", "first")


def judge_series(
    runs: Sequence[SeriesRun], *, settings: GateSettings, baseline_from: str = "previous"
) -> list[Judgement]:
    """Return each run judged pair by pair, and (from the second run on) against a stored baseline: the A side
    of the previous run ("previous": a baseline minutes old) or of the first run ("first": one baseline
    recorded once, as a team would, aging over the series)."""
    if baseline_from not in BASELINE_FROM:
        raise ValueError(f"baseline_from must be one of {BASELINE_FROM}, not {baseline_from!r}")
    judgements: list[Judgement] = []
    for index, run in enumerate(runs):
        pairs = collect_pairs(run.rows, metrics=METRICS)
        judgements.append(judgement_of(run, compare_pairs(pairs, settings=settings)))
        if index == 0:
            continue
        recorded = runs[index - 1] if baseline_from == "previous" else runs[0]
        report = compare_samples(
            collect_samples(recorded.side(VARIANT_A), metrics=METRICS),
            collect_samples(run.side(VARIANT_B), metrics=METRICS),
            settings=settings,
        )
        judgements.append(judgement_of(run, report))
    return judgements


def gate_rates(judgements: Sequence[Judgement]) -> list[GateRates]:
    """Return the detection and false-alarm counts of each mechanism present in judgements."""
    rates = []
    for mode in MODES:
        mine = [j for j in judgements if j.mode == mode]
        if not mine:
            continue
        injected = [j for j in mine if j.injected]
        clean = [j for j in mine if not j.injected]
        rates.append(
            GateRates(
                mode=mode,
                injected_runs=len(injected),
                detected=sum(j.detected for j in injected),
                clean_runs=len(clean),
                false_alarms=sum(j.failed for j in clean),
                stray_in_injected=sum(j.stray for j in injected),
            )
        )
    return rates
