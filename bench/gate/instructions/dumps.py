"""Reader of callgrind's dump files: total instructions, and each function's self and inclusive counts. Pure.

The callgrind format (valgrind's docs, "Callgrind Format Specification") names objects (ob=), files (fl=, fi=,
fe=) and functions (fn=) once with a number in brackets and by that number afterwards. A cost line follows the
positions (here one: the line) with the events (Ir, instructions read, first). A line after calls= is the
inclusive cost of that call: it belongs to the caller's inclusive count, not to its own (self) count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bench.errors import CheckInputError

# Compressed names: these keys share one table of names each (the format's "file", "function", "object").
_NAME_TABLE = {
    "ob": "object",
    "cob": "object",
    "fl": "file",
    "fi": "file",
    "fe": "file",
    "cfi": "file",
    "cfl": "file",
    "fn": "function",
    "cfn": "function",
}
_COMPRESSED = re.compile(r"\((\d+)\)\s*(.*)")
# callgrind names a function's recursion levels name'2, name'3 (--separate-recs): one function to a reader.
_RECURSION_LEVEL = re.compile(r"'\d+$")
_SITE_PACKAGES = "site-packages"
_STDLIB_EXTENSIONS = "lib-dynload"
PYTHON_PACKAGE = "python"  # the interpreter (its eval loop runs every line of Python code of every package)


@dataclass(frozen=True, order=True)
class FunctionKey:
    """A function across dumps and processes: its package (from its object file's path) and its name."""

    package: str
    function: str


@dataclass(frozen=True)
class FunctionCost:
    self_instructions: int
    inclusive_instructions: int


@dataclass(frozen=True)
class CallgrindDump:
    """One dump: the total instructions since the counters were zeroed, and per-function counts."""

    total: int
    functions: Mapping[FunctionKey, FunctionCost]


def package_of(object_path: str) -> str:
    """Return the package a shared object belongs to: the site-packages folder, "python", or the library."""
    path = PurePosixPath(object_path)
    parts = path.parts
    if _SITE_PACKAGES in parts:
        index = parts.index(_SITE_PACKAGES)
        if index + 1 < len(parts):
            top = parts[index + 1]
            return top.split(".", 1)[0] if index + 2 == len(parts) else top  # a top-level extension module
    if _STDLIB_EXTENSIONS in parts or path.name.startswith(("python", "libpython")):
        return PYTHON_PACKAGE
    name = path.name
    if not name or name == "???":
        return "?"
    return name.split(".so", 1)[0]


def _name(value: str, table: dict[str, str]) -> str:
    match = _COMPRESSED.fullmatch(value.strip())
    if match is None:
        return value.strip()
    number, name = match.groups()
    if name:
        table[number] = name
        return name
    return table.get(number, f"({number})")


def _first_event(line: str, positions: int) -> int:
    fields = line.split()
    if len(fields) <= positions:
        return 0  # no cost given: zero
    return int(fields[positions])


def parse_dump(lines: Iterable[str]) -> CallgrindDump:
    """Return the total and per-function counts of one callgrind dump (its first event, Ir)."""
    tables: dict[str, dict[str, str]] = {"object": {}, "file": {}, "function": {}}
    positions = 1
    total: int | None = None
    summary: int | None = None
    current: FunctionKey | None = None
    self_counts: dict[FunctionKey, int] = {}
    inclusive_counts: dict[FunctionKey, int] = {}
    object_name = "???"
    call_pending = False
    callee: tuple[str, str] | None = None  # (object, function) of the pending call
    callee_object: str | None = None
    for raw in lines:
        line = raw.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        head = line[0]
        if head.isdigit() or head in "+-*":
            if current is None:
                continue
            cost = _first_event(line, positions)
            if call_pending:
                call_pending = False
                recursive = callee == (object_name, current.function)
                if not recursive:
                    inclusive_counts[current] = inclusive_counts.get(current, 0) + cost
                callee, callee_object = None, None
            else:
                self_counts[current] = self_counts.get(current, 0) + cost
                inclusive_counts[current] = inclusive_counts.get(current, 0) + cost
            continue
        key, _, value = line.partition("=")
        if key in _NAME_TABLE and _:
            name = _name(value, tables[_NAME_TABLE[key]])
            if key == "ob":
                object_name = name
            elif key == "fn":
                current = FunctionKey(
                    package=package_of(object_name), function=_RECURSION_LEVEL.sub("", name)
                )
                callee_object = None
            elif key == "cob":
                callee_object = name
            elif key == "cfn":
                callee = (callee_object or object_name, _RECURSION_LEVEL.sub("", name))
            continue
        if key == "calls" and _:
            call_pending = True
            continue
        label, colon, rest = line.partition(":")
        if not colon:
            continue
        if label == "positions":
            positions = len(rest.split())
        elif label == "events" and rest.split()[:1] != ["Ir"]:
            raise CheckInputError(f"callgrind dump counts {rest.strip()}, not Ir first")
        elif label == "totals":
            total = int(rest.split()[0])
        elif label == "summary":
            summary = int(rest.split()[0])
    functions = {
        key: FunctionCost(self_instructions=self_counts.get(key, 0), inclusive_instructions=inclusive)
        for key, inclusive in inclusive_counts.items()
    }
    found = total if total is not None else summary
    return CallgrindDump(total=found if found is not None else sum(self_counts.values()), functions=functions)


def read_dump(path: Path) -> CallgrindDump:
    """Return the counts of a callgrind dump file."""
    try:
        with path.open(encoding="utf-8", errors="replace") as lines:
            return parse_dump(lines)
    except OSError as exc:
        raise CheckInputError(f"cannot read the callgrind dump {path}: {exc}") from None
