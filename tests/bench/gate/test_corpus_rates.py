"""bench/gate/corpus_rates.py: a campaign's checks over the corpus counted per size bucket and mechanism."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bench.errors import CheckInputError
from bench.gate.corpus_rates import (
    EXIT_FAILED,
    EXIT_NOT_JUDGED,
    INSTRUCTIONS,
    SIZE_BUCKETS,
    WALLCLOCK,
    JudgedRun,
    Tally,
    changes_from_manifest,
    corpus_rates,
    judged_run,
    log_outcome,
    parse_run_name,
    run_without_verdicts,
    size_bucket,
)
from bench.gate.decisions import Verdict
from tests.bench.synthetic_corpus import CHANGES, read, write_instructions, write_wallclock

CORPUS = Path(__file__).resolve().parents[2] / "gate_corpus"
WORSE, SAME, UNSURE = Verdict.WORSE, Verdict.UNCHANGED, Verdict.INCONCLUSIVE


def instructions_run(tmp_path: Path, stem: str, cells: dict[str, tuple[Verdict, float]]) -> JudgedRun:
    """Return a run read back from the JSON an instructions check writes."""
    return judged_run(parse_run_name(stem), read(write_instructions(tmp_path / f"{stem}.json", cells)))


def all_unchanged(*, worse: str | None = None) -> dict[str, tuple[Verdict, float]]:
    labels = [label for cells in CHANGES.values() for label in cells]
    return {label: (WORSE, 0.05) if label == worse else (SAME, 0.001) for label in labels}


def test_a_file_name_says_the_patch_round_and_busy_loop() -> None:
    name = parse_run_name("flask-db-extra-query-r3-b1")
    assert (name.change, name.round, name.busy, name.mechanism) == ("flask-db-extra-query", 3, True, None)
    name = parse_run_name("fastapi-http-middleware-wallclock-r10-b0")
    assert (name.change, name.round, name.busy, name.mechanism) == (
        "fastapi-http-middleware",
        10,
        False,
        WALLCLOCK,
    )
    assert parse_run_name("unchanged-r1-b0").change == "unchanged"


@pytest.mark.parametrize("stem", ["rates", "flask-db-r1-b2", "flask-db-r-b1", "-r1-b1"])
def test_other_names_are_refused(stem: str) -> None:
    with pytest.raises(CheckInputError, match="not a campaign run's name"):
        parse_run_name(stem)


@pytest.mark.parametrize(
    ("expected", "bucket"),
    [
        (0.008, 0.01),
        (0.013, 0.01),
        (0.02, 0.02),
        (0.03, 0.02),
        (0.055, 0.05),
        (0.079, 0.10),
        (0.115, 0.10),
        (0.168, 0.20),
        (0.272, 0.20),
    ],
)
def test_each_size_goes_to_the_nearest_bucket_on_a_log_scale(expected: float, bucket: float) -> None:
    assert size_bucket(expected) == bucket


def test_the_corpus_manifest_covers_every_size_bucket() -> None:
    changes = changes_from_manifest(tomllib.loads((CORPUS / "manifest.toml").read_text(encoding="utf-8")))
    assert all((CORPUS / f"{stem}.patch").is_file() for stem in changes)
    assert {size_bucket(size) for cells in changes.values() for size in cells.values()} == set(SIZE_BUCKETS)
    assert changes["fastapi-http-middleware"] == {
        "fastapi/uvicorn-sync db": 0.207,
        "fastapi/uvicorn-sync fortunes": 0.168,
    }


def test_a_malformed_manifest_is_refused() -> None:
    with pytest.raises(CheckInputError, match="manifest"):
        changes_from_manifest({"change": [{"patch": "x.patch"}]})
    with pytest.raises(CheckInputError, match="positive"):
        changes_from_manifest({"change": [{"patch": "x.patch", "cells": {"flask/gunicorn db": 0}}]})


def test_detections_and_false_alarms_are_counted_per_bucket_and_busy_loop(tmp_path: Path) -> None:
    runs = [
        instructions_run(tmp_path, "django-sort-r1-b1", {"django/gunicorn fortunes": (WORSE, 0.009)}),
        instructions_run(tmp_path, "django-sort-r2-b0", {"django/gunicorn fortunes": (SAME, 0.007)}),
        instructions_run(tmp_path, "flask-helper-r1-b1", {"flask/gunicorn db": (UNSURE, 0.031)}),
        instructions_run(tmp_path, "flask-helper-r2-b0", {"flask/gunicorn db": (WORSE, 0.029)}),
        instructions_run(
            tmp_path,
            "fastapi-middleware-r1-b1",
            {"fastapi/uvicorn-sync db": (SAME, 0.01), "fastapi/uvicorn-sync fortunes": (WORSE, 0.17)},
        ),
        instructions_run(tmp_path, "unchanged-r1-b1", all_unchanged()),
        instructions_run(tmp_path, "unchanged-r2-b0", all_unchanged(worse="flask/gunicorn db")),
    ]
    [rates] = corpus_rates(CHANGES, runs)
    assert rates.mechanism == INSTRUCTIONS
    buckets = dict(rates.buckets)
    assert buckets[0.01] == Tally(runs=2, hits=1, busy_runs=1, busy_hits=1)
    assert buckets[0.02] == Tally(runs=2, hits=1, busy_runs=1, busy_hits=0)  # the inconclusive run: missed
    assert buckets[0.20] == Tally(runs=1, hits=1, busy_runs=1, busy_hits=1)  # two cells, one run
    assert buckets[0.05] == buckets[0.10] == Tally()
    assert rates.unchanged == Tally(runs=2, hits=1, busy_runs=1, busy_hits=0)
    assert (rates.unchanged.quiet_runs, rates.unchanged.quiet_hits) == (1, 1)
    assert rates.not_judged == (
        ("flask-helper-r1-b1", "nothing judged (exit 2); flask/gunicorn db inconclusive"),
    )
    patches = {patch.patch: patch for patch in rates.patches}
    assert (patches["django-sort"].runs, patches["django-sort"].detected) == (2, 1)
    assert patches["django-sort"].cells[0].median_change == pytest.approx(0.008)
    middleware = patches["fastapi-middleware"]
    assert [(cell.label, cell.bucket, cell.measured) for cell in middleware.cells] == [
        ("fastapi/uvicorn-sync db", 0.20, 1),
        ("fastapi/uvicorn-sync fortunes", 0.20, 1),
    ]


def test_changes_at_or_above_the_checks_minimum_effect_are_counted_apart(tmp_path: Path) -> None:
    # The instructions check's minimum effect is 2% (its JSON's settings): the 0.8% patch is under it, the 3%
    # patch and the middleware's two cells (27%, 16.8%) above; a wall-clock check's is 10%.
    runs = [
        instructions_run(tmp_path, "django-sort-r1-b0", {"django/gunicorn fortunes": (WORSE, 0.009)}),
        instructions_run(tmp_path, "flask-helper-r1-b1", {"flask/gunicorn db": (WORSE, 0.03)}),
        instructions_run(tmp_path, "flask-helper-r2-b0", {"flask/gunicorn db": (SAME, 0.015)}),
        instructions_run(
            tmp_path,
            "fastapi-middleware-r1-b0",
            {"fastapi/uvicorn-sync db": (SAME, 0.01), "fastapi/uvicorn-sync fortunes": (WORSE, 0.17)},
        ),
        run_without_verdicts(
            parse_run_name("flask-helper-r3-b1"),
            exit_code=EXIT_FAILED,
            check_seconds=None,
            mechanisms_seen=[INSTRUCTIONS],
        ),
        judged_run(
            parse_run_name("flask-helper-wallclock-r1-b0"),
            read(write_wallclock(tmp_path / "w.json", {"flask/gunicorn db": 0.3})),
        ),
    ]
    assert runs[0].min_effect == 0.02 and runs[-1].min_effect == 0.10
    rates = {rate.mechanism: rate for rate in corpus_rates(CHANGES, runs)}
    instructions, wallclock = rates[INSTRUCTIONS], rates[WALLCLOCK]
    assert instructions.min_effects == (0.02,)
    # flask-helper r1 hit, r2 missed, r3 no verdicts (missed, held to the others' 2%), the middleware hit
    assert instructions.beyond_effect == Tally(runs=4, hits=2, busy_runs=2, busy_hits=1)
    assert wallclock.min_effects == (0.10,)
    assert wallclock.beyond_effect == Tally()  # the 3% patch is under the wall-clock's 10%


def test_a_check_that_could_not_judge_is_missed_and_listed(tmp_path: Path) -> None:
    runs = [
        instructions_run(tmp_path, "flask-helper-r1-b0", {"flask/gunicorn db": (UNSURE, 0.03)}),
        instructions_run(tmp_path, "fastapi-middleware-r1-b0", {"fastapi/uvicorn-sync db": (WORSE, 0.2)}),
    ]
    assert runs[0].exit_code == EXIT_NOT_JUDGED
    [rates] = corpus_rates(CHANGES, runs)
    assert dict(rates.not_judged) == {
        "flask-helper-r1-b0": "nothing judged (exit 2); flask/gunicorn db inconclusive",
        "fastapi-middleware-r1-b0": "fastapi/uvicorn-sync fortunes not measured",
    }
    assert dict(rates.buckets)[0.02] == Tally(runs=1, hits=0)
    assert dict(rates.buckets)[0.20] == Tally(runs=1, hits=1)  # its measured cell was judged worse


def test_a_check_without_verdicts_counts_as_a_miss(tmp_path: Path) -> None:
    judged = instructions_run(tmp_path, "django-sort-r1-b0", {"django/gunicorn fortunes": (WORSE, 0.01)})
    crashed = run_without_verdicts(
        parse_run_name("django-sort-r2-b1"),
        exit_code=EXIT_FAILED,
        check_seconds=12.0,
        mechanisms_seen=[INSTRUCTIONS],
    )
    [rates] = corpus_rates(CHANGES, [judged, crashed])
    assert dict(rates.buckets)[0.01] == Tally(runs=2, hits=1, busy_runs=1, busy_hits=0)
    assert rates.not_judged == (("django-sort-r2-b1", "no verdicts (exit 1)"),)
    with pytest.raises(CheckInputError, match="which mechanism"):
        run_without_verdicts(
            parse_run_name("django-sort-r3-b1"),
            exit_code=1,
            check_seconds=None,
            mechanisms_seen=[INSTRUCTIONS, WALLCLOCK],
        )


def test_each_mechanism_is_counted_apart(tmp_path: Path) -> None:
    wall = judged_run(
        parse_run_name("flask-helper-wallclock-r1-b1"),
        read(
            write_wallclock(tmp_path / "w.json", {"flask/gunicorn db": 0.3, "django/gunicorn fortunes": 0.0})
        ),
    )
    assert wall.mechanism == WALLCLOCK and wall.cells["flask/gunicorn db"].verdict == "worse"
    assert wall.cells["flask/gunicorn db"].change == pytest.approx(0.3, abs=0.03)  # CPU per request, not rps
    counted = instructions_run(tmp_path, "flask-helper-r1-b0", {"flask/gunicorn db": (SAME, 0.01)})
    rates = {rate.mechanism: rate for rate in corpus_rates(CHANGES, [counted, wall])}
    assert dict(rates[WALLCLOCK].buckets)[0.02] == Tally(runs=1, hits=1, busy_runs=1, busy_hits=1)
    assert dict(rates[INSTRUCTIONS].buckets)[0.02] == Tally(runs=1, hits=0)


def test_a_name_and_a_json_that_disagree_are_refused(tmp_path: Path) -> None:
    data = read(write_instructions(tmp_path / "i.json", {"flask/gunicorn db": (SAME, 0.0)}))
    with pytest.raises(CheckInputError, match="the name says wallclock"):
        judged_run(parse_run_name("flask-helper-wallclock-r1-b0"), data)
    with pytest.raises(CheckInputError, match="not an A/B check"):
        judged_run(parse_run_name("flask-helper-r1-b0"), {**data, "mode": "baseline"})
    with pytest.raises(CheckInputError, match="not the JSON"):
        judged_run(parse_run_name("flask-helper-r1-b0"), {"mode": "instructions"})


def test_runs_of_patches_not_in_the_manifest_are_an_error_naming_them(tmp_path: Path) -> None:
    runs = [
        instructions_run(tmp_path, "renamed-patch-r1-b0", {"flask/gunicorn db": (SAME, 0.0)}),
        instructions_run(tmp_path, "flask-helper-r1-b0", {"flask/gunicorn db": (SAME, 0.0)}),
    ]
    with pytest.raises(CheckInputError, match="not in the manifest: renamed-patch"):
        corpus_rates(CHANGES, runs)


def test_the_check_time_is_the_median_of_the_unchanged_runs(tmp_path: Path) -> None:
    runs = [
        judged_run(
            parse_run_name(f"unchanged-r{index}-b0"),
            read(write_instructions(tmp_path / f"u{index}.json", all_unchanged())),
            check_seconds=seconds,
        )
        for index, seconds in enumerate((250.0, 270.0, 900.0))
    ]
    stopped = run_without_verdicts(
        parse_run_name("unchanged-r4-b0"), exit_code=2, check_seconds=10.0, mechanisms_seen=[INSTRUCTIONS]
    )
    [rates] = corpus_rates(CHANGES, [*runs, stopped])
    assert rates.check_seconds == 270.0  # the check that stopped early is not a check's time


def test_a_campaign_log_gives_the_exit_code_and_wall_time() -> None:
    assert log_outcome("table...\nPASS\nrc 1 wall 254\n") == (1, 254.0)
    assert log_outcome("counting B flask/gunicorn: db\n") is None  # still running
