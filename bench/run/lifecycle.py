"""The life of a run folder: reports/<run-id>/ with its logs/, metadata.json kept up to date, reports/latest.

Both the runner (`bench run`) and the A/B gate (`bench check --ab`) record their runs through recorded_run, so
that every run folder says the same things: when it started and finished, and whether it completed, failed
(with the error) or was interrupted (Ctrl-C, SIGTERM, or a crash that left no chance to say more).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.results import LATEST_LINK, METADATA_FILE, RESULTS_FILE, ResultRow, append_row, write_metadata

LOGS_DIR = "logs"
STATUS_RUNNING, STATUS_COMPLETE, STATUS_INTERRUPTED = "running", "complete", "interrupted"


def now_iso() -> str:
    """Return the current UTC time, to the second, as ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def default_run_id(suffix: str) -> str:
    """Return a run id of the local date and time, then suffix: 20261202-143000-default."""
    return f"{datetime.now():%Y%m%d-%H%M%S}-{suffix}"


def new_run_dir(reports_dir: Path, run_id: str) -> Path:
    """Create reports/<run-id>/ (with a suffix when it exists) and point reports/latest at it."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    run_dir = reports_dir / run_id
    suffix = 1
    while run_dir.exists():
        suffix += 1
        run_dir = reports_dir / f"{run_id}-{suffix}"
    run_dir.mkdir()
    latest = reports_dir / LATEST_LINK
    temporary = reports_dir / f".{LATEST_LINK}.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(run_dir.name)
    os.replace(temporary, latest)
    return run_dir


@dataclass(frozen=True)
class RecordedRun:
    """A run folder being written."""

    run_dir: Path
    logs_dir: Path

    def append(self, row: ResultRow) -> None:
        """Append one measured cell to results.jsonl (on disk at once: a run that dies keeps it)."""
        append_row(self.run_dir / RESULTS_FILE, row)


@contextlib.contextmanager
def recorded_run(*, reports_dir: Path, run_id: str, metadata: dict[str, Any]) -> Iterator[RecordedRun]:
    """Create the run folder and yield it; metadata.json says "running" inside the block, then how it ended.

    metadata is written as given plus run_id, started_at, finished_at and status.
    """
    run_dir = new_run_dir(reports_dir, run_id)
    logs_dir = run_dir / LOGS_DIR
    logs_dir.mkdir()
    metadata.update(run_id=run_dir.name, started_at=now_iso(), status=STATUS_RUNNING)
    write_metadata(run_dir / METADATA_FILE, metadata)
    status = STATUS_INTERRUPTED
    try:
        yield RecordedRun(run_dir=run_dir, logs_dir=logs_dir)
        status = STATUS_COMPLETE
    except Exception as exc:
        status = f"failed: {type(exc).__name__}: {exc}"
        raise
    finally:
        metadata.update(finished_at=now_iso(), status=status)
        write_metadata(run_dir / METADATA_FILE, metadata)
