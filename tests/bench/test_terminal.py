"""bench/terminal.py: consoles and log lines that stay whole in a pipe."""

from __future__ import annotations

import logging

import pytest

from bench.terminal import log_handler, make_console

LONG = " ".join(f"word{n}" for n in range(120))  # about 840 characters


@pytest.mark.parametrize("stderr", [True, False])
def test_a_console_into_a_pipe_prints_a_long_line_whole(
    stderr: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    console = make_console(stderr=stderr)
    assert not console.is_terminal
    console.print(f"[red]error:[/] {LONG}")
    captured = capsys.readouterr()
    assert (captured.err if stderr else captured.out) == f"error: {LONG}\n"


def test_log_records_into_a_pipe_are_one_line_each(capsys: pytest.CaptureFixture[str]) -> None:
    logger = logging.getLogger("bench.test-terminal")
    handler = log_handler(make_console(stderr=True))
    logger.addHandler(handler)
    try:
        logger.warning("%s", LONG)
    finally:
        logger.removeHandler(handler)
    assert capsys.readouterr().err == f"WARNING {LONG}\n"
