"""bench/gate/rates.py and `bench gate-rates`: the gate's detection and false-alarm rates, synthetic runs."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from bench.cli import main
from bench.errors import EXIT_OK, EXIT_USAGE
from bench.gate.rates import AB_MODE, BASELINE_MODE, SeriesRun, gate_rates, judge_series
from bench.gate.settings import GateSettings
from bench.results import ResultRow
from tests.bench.synthetic_gate import ab_rows, metadata, noisy, trial_rows, write_run

SETTINGS = GateSettings()


def ab_run(*, seed: int, slower: dict[str, float] | None = None) -> list[ResultRow]:
    """Return an A/B run of two apps' cells; B of each app in slower burns that much more CPU per request."""
    slower = slower or {}
    rows: list[ResultRow] = []
    for offset, (app, server, centre) in enumerate((("fastapi", "uvicorn", 0.8), ("flask", "gunicorn", 0.5))):
        a = noisy(centre, 6, seed=seed * 10 + offset)
        b = [value * (1 + slower.get(app, 0.0)) for value in noisy(centre, 6, seed=seed * 10 + offset + 5)]
        rows += ab_rows(a_cpu_ms=a, b_cpu_ms=b, app=app, server=server)
    return rows


def series_run(run_id: str, rows: list[ResultRow], **ab: Any) -> SeriesRun:
    return SeriesRun.from_run(run_id, [asdict(row) for row in rows], {"ab": ab})


def test_a_series_is_judged_by_both_mechanisms() -> None:
    runs = [
        series_run("1", ab_run(seed=1)),
        series_run("2", ab_run(seed=2, slower={"flask": 0.2}), inject_cpu_us=100, inject_apps=["flask"]),
        series_run("3", ab_run(seed=3)),
    ]
    judgements = judge_series(runs, settings=SETTINGS)
    by_mode = {(j.run_id, j.mode): j for j in judgements}
    assert set(by_mode) == {(run, AB_MODE) for run in "123"} | {(run, BASELINE_MODE) for run in "23"}
    assert by_mode["2", AB_MODE].detected and by_mode["2", BASELINE_MODE].detected
    assert not by_mode["2", AB_MODE].stray
    assert "flask json cpu_ms_per_request" in by_mode["2", AB_MODE].worse
    assert all(label.startswith("flask") for label, _, _ in by_mode["2", AB_MODE].injected_changes)
    assert not any(by_mode[run, AB_MODE].failed for run in ("1", "3"))
    rates = {rate.mode: rate for rate in gate_rates(judgements)}
    assert (rates[AB_MODE].detected, rates[AB_MODE].injected_runs) == (1, 1)
    assert (rates[AB_MODE].false_alarms, rates[AB_MODE].clean_runs) == (0, 2)
    assert rates[AB_MODE].detection_rate == 1.0 and rates[AB_MODE].false_alarm_rate == 0.0
    assert (rates[BASELINE_MODE].injected_runs, rates[BASELINE_MODE].clean_runs) == (1, 1)


def test_the_baseline_may_be_the_first_runs() -> None:
    drifted = [
        *ab_rows(a_cpu_ms=noisy(0.8 * 1.3, 6, seed=7), b_cpu_ms=noisy(0.8 * 1.3, 6, seed=8), app="fastapi"),
        *ab_rows(
            a_cpu_ms=noisy(0.5 * 1.3, 6, seed=9),
            b_cpu_ms=noisy(0.5 * 1.3, 6, seed=10),
            app="flask",
            server="gunicorn",
        ),
    ]  # run 2: the whole machine 30% slower, on both sides
    runs = [
        series_run("1", ab_run(seed=1)),
        series_run("2", drifted),
        series_run("3", ab_run(seed=3, slower={"flask": 0.3}), inject_cpu_us=90, inject_apps=["flask"]),
    ]

    def third(baseline_from: str) -> bool:
        judged = judge_series(runs, settings=SETTINGS, baseline_from=baseline_from)
        return next(j.detected for j in judged if j.run_id == "3" and j.mode == BASELINE_MODE)

    assert third("first") and not third("previous")  # against run 2's slow A side, +30% looks like nothing
    with pytest.raises(ValueError, match="baseline_from"):
        judge_series(runs, settings=SETTINGS, baseline_from="last")


def test_a_clean_run_that_fails_is_a_false_alarm() -> None:
    runs = [series_run("1", ab_run(seed=1, slower={"fastapi": 0.3}))]  # nothing injected, yet B is slower
    [judgement] = judge_series(runs, settings=SETTINGS)
    assert judgement.failed and not judgement.injected
    [rate] = gate_rates([judgement])
    assert (rate.false_alarms, rate.clean_runs, rate.detection_rate) == (1, 1, None)


def test_a_regression_of_another_app_is_not_a_detection() -> None:
    rows = ab_run(seed=4, slower={"fastapi": 0.3})  # flask was injected, but only fastapi moved
    run = series_run("1", rows, inject_cpu_us=50, inject_apps=["flask"])
    [judgement] = judge_series([run], settings=SETTINGS)
    assert judgement.failed and not judgement.detected and judgement.stray
    [rate] = gate_rates([judgement])
    assert (rate.detected, rate.stray_in_injected, rate.injected_runs) == (0, 1, 1)


def test_an_injection_without_apps_means_every_app() -> None:
    rows = [asdict(row) for row in ab_run(seed=1)]
    assert SeriesRun.from_run("x", rows, {"ab": {"inject_cpu_us": 40, "inject_apps": []}}).injected_apps == (
        "fastapi",
        "flask",
    )
    nothing = {"ab": {"inject_cpu_us": 0, "inject_apps": ["flask"]}}
    assert SeriesRun.from_run("x", rows, nothing).injected_apps == ()
    assert SeriesRun.from_run("x", rows, None).injected_apps == ()


def test_the_command_prints_and_writes_the_rates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    first = write_run(tmp_path / "20260101-000001-ab-ci", ab_run(seed=1), metadata(ab={"inject_cpu_us": 0}))
    second = write_run(
        tmp_path / "20260101-000002-ab-ci",
        ab_run(seed=2, slower={"flask": 0.2}),
        metadata(ab={"inject_cpu_us": 100, "inject_apps": ["flask"]}),
    )
    out = tmp_path / "rates.json"
    assert main(["gate-rates", str(second), str(first), "--json", str(out)]) == EXIT_OK
    printed = capsys.readouterr().out
    assert "detected" in printed and "1/1 (100%)" in printed
    data = json.loads(out.read_text())
    assert data["runs"] == [first.name, second.name]  # in the order of the run ids
    assert {r["mode"]: r["detected"] for r in data["rates"]} == {AB_MODE: 1, BASELINE_MODE: 1}


def test_a_run_that_is_not_ab_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plain = write_run(tmp_path / "plain", trial_rows(cpu_ms=noisy(0.5, 3)))
    assert main(["gate-rates", str(plain)]) == EXIT_USAGE
    assert "not an A/B run" in capsys.readouterr().err
