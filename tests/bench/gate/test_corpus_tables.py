"""bench/gate/corpus_tables.py: the corpus campaign's rows and the Markdown docs/gate.md holds."""

from __future__ import annotations

from pathlib import Path

from bench.gate.corpus_rates import MechanismRates, corpus_rates, judged_run, parse_run_name
from bench.gate.corpus_tables import corpus_markdown, mechanism_rows, patch_rows, split_rows, summary_rows
from bench.gate.decisions import Verdict
from tests.bench.synthetic_corpus import CHANGES, read, write_instructions, write_wallclock


def campaign(tmp_path: Path) -> list[MechanismRates]:
    """Return the figures of two instructions runs of a 2% patch (one missed), an unchanged run and one
    wall-clock run."""
    runs = [
        judged_run(
            parse_run_name(stem),
            read(write_instructions(tmp_path / f"{stem}.json", {"flask/gunicorn db": (verdict, change)})),
        )
        for stem, verdict, change in (
            ("flask-helper-r1-b1", Verdict.WORSE, 0.031),
            ("flask-helper-r2-b0", Verdict.INCONCLUSIVE, 0.027),
            ("unchanged-r1-b1", Verdict.UNCHANGED, 0.002),
        )
    ]
    runs.append(
        judged_run(
            parse_run_name("flask-helper-wallclock-r1-b0"),
            read(write_wallclock(tmp_path / "w.json", {"flask/gunicorn db": 0.0})),
            check_seconds=300.0,
        )
    )
    return corpus_rates(CHANGES, runs)


def test_the_summary_has_a_row_per_mechanism(tmp_path: Path) -> None:
    assert summary_rows(campaign(tmp_path)) == [
        ("instructions", "—", "1/2 (50%)", "—", "—", "—", "1/2 (50%) ≥ 2%", "0/1", "—"),
        ("wallclock", "—", "0/1 (0%)", "—", "—", "—", "—", "—", "—"),
    ]


def test_the_split_and_the_mechanism_rows_separate_busy_and_quiet(tmp_path: Path) -> None:
    instructions, _ = campaign(tmp_path)
    assert split_rows([instructions]) == [
        ("instructions", "a busy loop", "—", "1/1 (100%)", "—", "—", "—", "1/1 (100%)", "0/1"),
        ("instructions", "nothing (quiet)", "—", "0/1 (0%)", "—", "—", "—", "0/1 (0%)", "—"),
    ]
    rows = mechanism_rows(instructions)
    assert rows[1] == ("2%", "1/2 (50%)", "1/1 (100%)", "0/1 (0%)")
    assert rows[-2] == ("≥ 2%", "1/2 (50%)", "1/1 (100%)", "0/1 (0%)")
    assert rows[-1] == ("unchanged: false alarms", "0/1 (0%)", "0/1 (0%)", "—")


def test_a_patch_row_gives_its_cells_expected_and_measured_size(tmp_path: Path) -> None:
    rows = {(row[0], row[1]): row for row in patch_rows(campaign(tmp_path)) if row[1]}
    assert rows["instructions", "flask-helper"] == (
        "instructions",
        "flask-helper",
        "flask/gunicorn db",
        "+3.00%",
        "2%",
        "+2.90% (n=2)",
        "2",
        "1/2 (50%)",
    )
    assert rows["instructions", "fastapi-middleware"][6:] == ("0", "—")


def test_the_markdown_holds_the_tables_and_the_runs_not_judged(tmp_path: Path) -> None:
    text = corpus_markdown(campaign(tmp_path))
    lines = text.splitlines()
    assert (
        "| mechanism | 1% | 2% | 5% | 10% | 20% | at or above the min effect | false alarms (unchanged) "
        "| check time (unchanged, median) |" in lines
    )
    assert "| instructions | — | 1/2 (50%) | — | — | — | 1/2 (50%) ≥ 2% | 0/1 | — |" in lines
    assert "| instructions | a busy loop | — | 1/1 (100%) | — | — | — | 1/1 (100%) | 0/1 |" in lines
    assert (
        "- instructions flask-helper-r2-b0: nothing judged (exit 2); flask/gunicorn db inconclusive" in lines
    )
    assert text.endswith("\n")
