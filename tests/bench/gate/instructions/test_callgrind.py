"""bench/gate/instructions/callgrind.py without valgrind: the tools looked up on PATH, the command prefix, and
`bench check`'s choice of mode, which falls back to wall-clock (saying how to install valgrind)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bench.cli.check import MODE_INSTRUCTIONS, MODE_WALLCLOCK, choose_mode
from bench.errors import CheckInputError
from bench.gate.instructions.callgrind import CALLGRIND_CONTROL, VALGRIND, callgrind_prefix, missing_tools


def fake_tools(directory: Path, *names: str) -> str:
    for name in names:
        program = directory / name
        program.write_text("#!/bin/sh\nexit 0\n")
        program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return str(directory)


def test_a_path_without_valgrind_misses_both_tools(tmp_path: Path) -> None:
    assert missing_tools(path=str(tmp_path)) == [VALGRIND, CALLGRIND_CONTROL]


def test_a_path_with_both_tools_misses_none(tmp_path: Path) -> None:
    assert missing_tools(path=fake_tools(tmp_path, VALGRIND, CALLGRIND_CONTROL)) == []


def test_the_prefix_counts_nothing_at_start_and_follows_the_forked_worker(tmp_path: Path) -> None:
    prefix = callgrind_prefix(tmp_path / "callgrind")
    assert VALGRIND in prefix
    assert "--tool=callgrind" in prefix
    assert "--instr-atstart=no" in prefix
    assert "--trace-children=yes" in prefix
    assert f"--callgrind-out-file={tmp_path / 'callgrind'}.%p" in prefix


def test_without_valgrind_the_check_falls_back_to_wallclock_and_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    mode, note = choose_mode(None)
    assert mode == MODE_WALLCLOCK
    assert "apt-get install valgrind" in note
    assert "wall-clock" in note


def test_asking_for_instructions_without_valgrind_is_an_input_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CheckInputError, match="apt-get install valgrind"):
        choose_mode(MODE_INSTRUCTIONS)


def test_with_valgrind_instructions_are_the_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", fake_tools(tmp_path, VALGRIND, CALLGRIND_CONTROL))
    assert choose_mode(None) == (MODE_INSTRUCTIONS, "")
    assert choose_mode(MODE_WALLCLOCK) == (MODE_WALLCLOCK, "")
