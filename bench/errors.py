"""Every error `python -m bench` reports, under one base: main() catches BenchError once and prints it.

Each error's exit code is part of the command line's interface (README, "Exit codes"): 2 for input that cannot
be used (an option, a configuration file, a run folder), 1 for work that failed (a server, a database).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class BenchError(Exception):
    """The base of the bench's errors; the message says what went wrong and what to do."""

    exit_code = EXIT_FAILURE


class UsageError(BenchError):
    """The input cannot be used: an option, a file or a run folder is wrong or missing."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """A configuration file or option is wrong; the message says what to change."""


class UnknownScenarioError(ConfigError):
    """No scenario of that name; the message lists the known ones."""


class RunNotFoundError(UsageError):
    """No saved run at the path or id given: no folder with a results.jsonl, or one without a complete row."""


class CheckInputError(UsageError):
    """The check cannot judge: a file is missing, the baseline is refused, nothing overlaps."""


class BaselineError(UsageError):
    """A baseline cannot be written, read or used; the message says why and what to do."""


class EnvironmentMismatch(BaselineError):
    """The baseline was measured in another environment than the run it would judge."""

    def __init__(self, differences: Sequence[str], *, baseline: Path) -> None:
        self.differences = list(differences)
        listed = "\n".join(f"  - {difference}" for difference in differences)
        super().__init__(
            f"baseline {baseline} was recorded in another environment than this run:\n{listed}\n"
            "Record a new baseline here (`bench baseline save`), or compare with `bench check --ab REF`, "
            "which measures both revisions on this machine; --force compares anyway."
        )


class DatabaseError(BenchError):
    """A database could not be created or started; the message says why."""


class ServerError(BenchError):
    """A server did not start, did not answer, or died; carries the tail of its log."""

    def __init__(self, message: str, *, log_tail: str = "") -> None:
        super().__init__(message if not log_tail else f"{message}\n--- server log (tail) ---\n{log_tail}")
        self.log_tail = log_tail


class ScenarioError(BenchError):
    """The app answered a scenario's set-up step (a login) wrongly: the scenario cannot go on."""
