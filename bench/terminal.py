"""The terminal: rich consoles for stdout and stderr, and the log handler, that never wrap a pipe's lines.

On a terminal rich fits text to its width. Into a pipe or a file (CI logs, `2>err.txt`, a test) rich would
wrap at 80 columns, splitting a message, a path or a command over lines; there every line stays whole.
"""

from __future__ import annotations

import logging

from rich.console import Console
from rich.logging import RichHandler

# Tables printed into a pipe are laid out for this width; text is never wrapped at all.
PIPE_WIDTH = 200
LOG_FORMAT = "%(levelname)s %(message)s"


def make_console(*, stderr: bool) -> Console:
    """Return a console on stderr or stdout: fitted to a terminal, unwrapped into anything else."""
    console = Console(stderr=stderr)
    if console.is_terminal:
        return console
    return Console(stderr=stderr, soft_wrap=True, width=PIPE_WIDTH)


def log_handler(console: Console) -> logging.Handler:
    """Return rich's log handler on a terminal, a plain one-line-per-record handler anywhere else."""
    if console.is_terminal:
        return RichHandler(console=console, show_path=False)
    handler = logging.StreamHandler(console.file)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    return handler
