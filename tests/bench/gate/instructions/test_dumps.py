"""bench/gate/instructions/dumps.py on a small dump in callgrind's format (compressed names, calls into other
objects, a recursive call, relative positions) and on the package each object path belongs to."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.errors import CheckInputError
from bench.gate.instructions.dumps import FunctionKey, package_of, parse_dump, read_dump

WINDOW = Path(__file__).with_name("window.callgrind")
EVAL = FunctionKey("python", "_PyEval_EvalFrameDefault")
ESCAPE = FunctionKey("markupsafe", "escape_unicode")
STEP = FunctionKey("libsqlite3", "sqlite3_step")
MEMCPY = FunctionKey("libc", "__memcpy_avx_unaligned_erms")
SCAN = FunctionKey("python", "scanstring_unicode")


def test_the_total_is_the_dumps_totals_line() -> None:
    assert read_dump(WINDOW).total == 1000


def test_self_counts_leave_out_the_calls_and_add_up_to_the_total() -> None:
    functions = read_dump(WINDOW).functions
    assert functions[EVAL].self_instructions == 310  # 300 + 10 on the relative line
    assert functions[STEP].self_instructions == 250
    assert functions[MEMCPY].self_instructions == 150
    assert sum(cost.self_instructions for cost in functions.values()) == 1000


def test_inclusive_counts_add_the_callees_but_not_a_recursive_call() -> None:
    functions = read_dump(WINDOW).functions
    assert functions[EVAL].inclusive_instructions == 310 + 120 + 400  # the recursive 50 counted once
    assert functions[STEP].inclusive_instructions == 400
    assert functions[ESCAPE].inclusive_instructions == 120


def test_compressed_names_are_resolved_by_their_number() -> None:
    assert set(read_dump(WINDOW).functions) == {EVAL, ESCAPE, STEP, MEMCPY, SCAN}


def test_without_a_totals_line_the_summary_gives_the_total() -> None:
    lines = [line for line in WINDOW.read_text().splitlines() if not line.startswith("totals")]
    assert parse_dump(lines).total == 1000


def test_a_dump_of_other_events_is_refused() -> None:
    with pytest.raises(CheckInputError, match="not Ir first"):
        parse_dump(["events: Dr Dw", "fn=(1) main", "0 5 6"])


def test_a_missing_dump_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(CheckInputError, match="cannot read"):
        read_dump(tmp_path / "callgrind.out.1")


@pytest.mark.parametrize(
    ("path", "package"),
    [
        (
            "/work/.venv/lib/python3.11/site-packages/sqlalchemy/cyextension/resultproxy.cpython-311.so",
            "sqlalchemy",
        ),
        (
            "/work/.venv/lib/python3.11/site-packages/_cffi_backend.cpython-311-x86_64-linux-gnu.so",
            "_cffi_backend",
        ),
        (
            "/work/.venv/lib/python3.11/site-packages/psycopg_binary.libs/libpq-9b8c.so.5.16",
            "psycopg_binary.libs",
        ),
        ("/root/.pyenv/versions/3.11.7/bin/python3.11", "python"),
        ("/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0", "python"),
        (
            "/root/.pyenv/versions/3.11.7/lib/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so",
            "python",
        ),
        ("/usr/lib/x86_64-linux-gnu/libc.so.6", "libc"),
        ("???", "?"),
    ],
)
def test_package_of_an_object_path(path: str, package: str) -> None:
    assert package_of(path) == package
