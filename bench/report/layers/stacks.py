"""py-spy's raw output (collapsed stacks) as frames: each frame's function and the module it belongs to.

A line is "frame;frame;...;frame count", outermost frame first. A frame is "function (file:line)" or, with
--function, "function (file:first line)"; a C frame (--native) is "symbol (library or C file)"; with
--subprocesses each stack starts with a "process PID:"command line"" frame, which is no frame of code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

PROCESS_PREFIX = "process "
NATIVE = "native:"
# Where a file's dotted module name starts: after a packages directory, the standard library's directory,
# or at an app's tree (apps/<name>_app/...).
_PACKAGES = re.compile(r".*/(?:site|dist)-packages/")
_STDLIB = re.compile(r".*/lib/python\d+\.\d+/")
_APPS = re.compile(r".*/(?=apps/)")
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


@dataclass(frozen=True)
class Frame:
    function: str
    module: str  # dotted for Python code, "native:<file>" for C frames, "" when unknown
    python: bool  # a Python frame (a .py file), not a C one

    @property
    def name(self) -> str:
        """Return how a report names the frame: function and module."""
        return f"{self.function} ({self.module})" if self.module else self.function


@dataclass(frozen=True)
class Stack:
    frames: tuple[Frame, ...]  # outermost first
    count: int


def module_of(path: str) -> tuple[str, bool]:
    """Return (module, is Python) of a frame's file: "flask.app" for .../site-packages/flask/app.py,
    "json.encoder" for the standard library's, "apps.flask_app.performance" for an app's file,
    "native:libc.so.6" for a C library or source file."""
    if path.endswith(".py"):
        for pattern in (_PACKAGES, _APPS, _STDLIB):
            match = pattern.match(path)
            if match:
                path = path[match.end() :]
                break
        else:
            path = path.rsplit("/", 1)[-1]
        dotted = path.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
        return dotted, True
    if path.startswith("<"):  # <frozen importlib._bootstrap>, <string>
        return "", True
    return NATIVE + path.rsplit("/", 1)[-1], False


def parse_frame(text: str) -> Frame:
    """Return one frame of a collapsed stack."""
    match = _FRAME.match(text)
    if match is None:  # an unresolved address, "0x7f... (libc.so.6)" parses; a bare name does not
        return Frame(text, "", False)
    module, python = module_of(match["file"])
    return Frame(match["function"], module, python)


def parse_stacks(lines: Iterable[str]) -> list[Stack]:
    """Return the stacks of py-spy raw output; lines that are no stack are skipped."""
    stacks = []
    for line in lines:
        text, _, count = line.rstrip("\n").rpartition(" ")
        if not text or not count.isdigit():
            continue
        frames = tuple(parse_frame(part) for part in text.split(";") if not part.startswith(PROCESS_PREFIX))
        if frames:
            stacks.append(Stack(frames, int(count)))
    return stacks
