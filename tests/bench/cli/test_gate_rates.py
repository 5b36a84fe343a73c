"""bench/cli/gate_rates.py: `bench gate-rates --corpus DIR` over a campaign's files, and its argument errors.

The series mode (A/B run folders) is tested in tests/bench/gate/test_rates.py.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from bench.cli import main
from bench.errors import EXIT_OK, EXIT_USAGE
from bench.gate.decisions import Verdict
from tests.bench.synthetic_corpus import ALL_CELLS, MANIFEST_TOML, write_instructions, write_wallclock


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.toml"
    path.write_text(MANIFEST_TOML, encoding="utf-8")
    return path


@pytest.fixture
def campaign(tmp_path: Path) -> Path:
    """A campaign's folder: instructions and wall-clock checks, one log with a JSON, one without."""
    out = tmp_path / "out"
    write_instructions(out / "flask-helper-r1-b1.json", {"flask/gunicorn db": (Verdict.WORSE, 0.03)})
    write_instructions(out / "flask-helper-r2-b0.json", {"flask/gunicorn db": (Verdict.WORSE, 0.029)})
    write_instructions(
        out / "unchanged-r1-b1.json", {label: (Verdict.UNCHANGED, 0.001) for label in ALL_CELLS}
    )
    (out / "unchanged-r1-b1.log").write_text("PASS\nrc 0 wall 251\n", encoding="utf-8")
    # A check that ended before any verdict (its JSON never written), and one still running.
    (out / "django-sort-r1-b1.log").write_text("error: no cell counted\nrc 2 wall 40\n", encoding="utf-8")
    (out / "django-sort-r2-b0.log").write_text("counting A django/gunicorn: fortunes\n", encoding="utf-8")
    write_wallclock(out / "flask-helper-wallclock-r1-b0.json", {"flask/gunicorn db": 0.3})
    return out


def test_the_corpus_rates_are_printed_and_written(
    campaign: Path, manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    markdown, chart, data = tmp_path / "gate.md", tmp_path / "charts" / "gate.svg", tmp_path / "rates.json"
    argv = ["gate-rates", "--corpus", str(campaign), "--manifest", str(manifest)]
    argv += ["--markdown", str(markdown), "--chart", str(chart), "--json", str(data)]
    assert main(argv) == EXIT_OK
    printed = capsys.readouterr().out
    assert "instructions: detection by size" in printed and "wallclock: detection by size" in printed
    assert "django-sort-r1-b1: no verdicts (exit 2)" in printed
    assert "django-sort-r2-b0" not in printed  # still running: not counted
    lines = markdown.read_text(encoding="utf-8").splitlines()
    assert "| instructions | 0/1 (0%) | 2/2 (100%) | — | — | — | 2/2 (100%) ≥ 2% | 0/1 | 251 s |" in lines
    assert "| wallclock | — | 1/1 (100%) | — | — | — | — | — | — |" in lines
    assert ElementTree.parse(chart).getroot().tag.endswith("svg")
    figures = {rate["mechanism"]: rate for rate in json.loads(data.read_text(encoding="utf-8"))}
    assert figures["instructions"]["unchanged"] == {"runs": 1, "hits": 0, "busy_runs": 1, "busy_hits": 0}


def test_unknown_patches_in_the_folder_are_an_error_naming_them(
    campaign: Path, manifest: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_instructions(campaign / "old-patch-r1-b0.json", {"flask/gunicorn db": (Verdict.WORSE, 0.03)})
    assert main(["gate-rates", "--corpus", str(campaign), "--manifest", str(manifest)]) == EXIT_USAGE
    assert "not in the manifest: old-patch" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["gate-rates"], "give A/B runs (folders or run ids) or --corpus DIR"),
        (["gate-rates", "some-run", "--corpus", "out"], "not both"),
        (["gate-rates", "some-run", "--markdown", "x.md"], "--markdown and --chart go with --corpus"),
        (["gate-rates", "--corpus", "no-such-folder"], "no-such-folder is not a folder"),
    ],
)
def test_the_runs_and_the_corpus_exclude_each_other(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == EXIT_USAGE
    assert message in capsys.readouterr().err
