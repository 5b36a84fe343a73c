"""bench/gate/verdicts.py, `bench check` and `bench baseline` on synthetic run folders: exit codes, --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.cli import main
from bench.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from bench.results import ResultRow
from tests.bench.synthetic_gate import ab_rows, metadata, noisy, trial_rows, write_run


def two_cells(cpu_fastapi: list[float], cpu_flask: list[float], **flags: object) -> list[ResultRow]:
    return [
        *trial_rows(cpu_ms=cpu_fastapi, **flags),  # type: ignore[arg-type]
        *trial_rows(app="flask", server="gunicorn", cpu_ms=cpu_flask),
    ]


@pytest.fixture
def baseline_file(tmp_path: Path) -> Path:
    run = write_run(tmp_path / "base-run", two_cells(noisy(0.5, 6, seed=1), noisy(0.8, 6, seed=2)))
    path = tmp_path / "baselines" / "quick.json"
    assert main(["baseline", "save", str(run), "--out", str(path)]) == EXIT_OK
    return path


def check(run: Path, baseline: Path, *extra: str) -> int:
    return main(["check", str(run), "--baseline", str(baseline), *extra])


def test_an_unchanged_run_passes(
    tmp_path: Path, baseline_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = write_run(tmp_path / "run", two_cells(noisy(0.5, 6, seed=3), noisy(0.8, 6, seed=4)))
    assert check(run, baseline_file) == EXIT_OK
    output = capsys.readouterr().out
    assert "PASS" in output and "unchanged" in output


def test_a_regression_fails_and_json_says_which(tmp_path: Path, baseline_file: Path) -> None:
    run = write_run(tmp_path / "run", two_cells(noisy(0.6, 6, seed=3), noisy(0.8, 6, seed=4)))
    report_path = tmp_path / "out" / "check.json"
    assert check(run, baseline_file, "--json", str(report_path)) == EXIT_FAILURE
    report = json.loads(report_path.read_text())
    assert report["failed"] and report["regressions"] == 1 and report["mode"] == "baseline"
    worse = [c for c in report["comparisons"] if c["verdict"] == "worse" and c["gating"]]
    assert [(c["cell"]["app"], c["metric"]) for c in worse] == [("fastapi", "cpu_ms_per_request")]
    assert worse[0]["change"] == pytest.approx(0.2, abs=0.03)
    assert report["baseline_file"] == str(baseline_file)
    assert {
        c["cell"]["app"]: c["verdict"] for c in report["comparisons"] if c["metric"] == "cpu_ms_per_request"
    } == {
        "fastapi": "worse",
        "flask": "unchanged",
    }


def test_the_minimum_effect_is_configurable(tmp_path: Path, baseline_file: Path) -> None:
    run = write_run(tmp_path / "run", two_cells(noisy(0.6, 6, seed=3), noisy(0.8, 6, seed=4)))
    assert check(run, baseline_file, "--min-effect", "50%") == EXIT_OK  # +20% is now below the bar


def test_new_errors_fail_the_check(
    tmp_path: Path, baseline_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = write_run(
        tmp_path / "run", two_cells(noisy(0.5, 6, seed=3), noisy(0.8, 6, seed=4), errors=(1, 2, 3, 4, 5, 6))
    )
    assert check(run, baseline_file) == EXIT_FAILURE
    assert "new errors" in capsys.readouterr().out


def test_a_missing_run_is_unusable_input(tmp_path: Path, baseline_file: Path) -> None:
    assert check(tmp_path / "nowhere", baseline_file) == EXIT_USAGE


def test_a_missing_baseline_is_unusable_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = write_run(tmp_path / "run", two_cells(noisy(0.5, 6), noisy(0.8, 6)))
    assert check(run, tmp_path / "none.json") == EXIT_USAGE
    assert "bench baseline save" in capsys.readouterr().err


def test_a_baseline_from_another_machine_is_refused(
    tmp_path: Path, baseline_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = two_cells(noisy(0.5, 6, seed=3), noisy(0.8, 6, seed=4))
    run = write_run(tmp_path / "run", rows, metadata(**{"machine.cpu_model": "Bigger CPU"}))
    assert check(run, baseline_file) == EXIT_USAGE
    assert "machine.cpu_model" in capsys.readouterr().err
    assert check(run, baseline_file, "--force") == EXIT_OK
    assert "WARNING, forced past an environment difference" in capsys.readouterr().out


def test_no_overlapping_cells_is_unusable_input(tmp_path: Path, baseline_file: Path) -> None:
    run = write_run(tmp_path / "run", trial_rows(scenario="db", cpu_ms=noisy(0.5, 6)))
    assert check(run, baseline_file) == EXIT_USAGE


def test_nothing_judged_is_unusable_input(
    tmp_path: Path, baseline_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run = write_run(tmp_path / "run", two_cells([0.5], [0.8]))  # one trial a cell: nothing can be judged
    assert check(run, baseline_file) == EXIT_USAGE
    assert "NOTHING JUDGED" in capsys.readouterr().out


def test_an_ab_run_is_judged_pair_by_pair(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = noisy(0.5, 6, cv=0.01, seed=5)
    ab = {
        "ref": "main",
        "inject_cpu_us": 50,
        "inject_apps": ["fastapi"],
        "variants": {"A": "main", "B": "tree"},
    }
    slower = write_run(tmp_path / "ab", ab_rows(a_cpu_ms=a, b_cpu_ms=[v * 1.2 for v in a]), metadata(ab=ab))
    report_path = tmp_path / "ab.json"
    assert main(["check", str(slower), "--json", str(report_path)]) == EXIT_FAILURE
    assert "B burns 50 µs of extra CPU per request in fastapi" in capsys.readouterr().out
    report = json.loads(report_path.read_text())
    assert report["mode"] == "ab" and report["baseline_file"] is None and report["ab"] == ab
    same = write_run(tmp_path / "ab-same", ab_rows(a_cpu_ms=a, b_cpu_ms=noisy(0.5, 6, cv=0.01, seed=5)))
    assert main(["check", str(same)]) == EXIT_OK


def test_bad_settings_are_usage_errors(tmp_path: Path, baseline_file: Path) -> None:
    run = write_run(tmp_path / "run", two_cells(noisy(0.5, 6), noisy(0.8, 6)))
    assert check(run, baseline_file, "--method", "t-test") == EXIT_USAGE
    with pytest.raises(SystemExit):
        check(run, baseline_file, "--min-effect", "150%")
    with pytest.raises(SystemExit):
        check(run, baseline_file, "--no-such-option")


def test_baseline_show_prints_the_cells(baseline_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["baseline", "show", str(baseline_file)]) == EXIT_OK
    output = capsys.readouterr().out
    assert "fastapi/uvicorn json u32" in output and "Synthetic CPU" in output


def test_baseline_save_of_a_missing_run_is_a_usage_error(tmp_path: Path) -> None:
    assert (
        main(["baseline", "save", str(tmp_path / "nowhere"), "--out", str(tmp_path / "b.json")]) == EXIT_USAGE
    )
