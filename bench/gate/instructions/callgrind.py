"""The edge of the instruction counts: one app worker under callgrind, a sequential client, counted windows.

The server starts under `valgrind --tool=callgrind --instr-atstart=no` (uninstrumented start-up: imports run
about ten times faster than counted ones); its worker's counting is switched on with `callgrind_control -i on`
once it serves, then each window is framed by `callgrind_control -z` (zero) and `-d` (dump), so that start-up,
imports and warm-up never count. One worker with one thread and PYTHONHASHSEED fixed: the figure is the cost
of one request, and hash-seeded set and dict orders would move it between processes.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import httpx
import psutil

from bench.errors import CheckInputError
from bench.gate.instructions.decision import Window
from bench.gate.instructions.dumps import read_dump

log = logging.getLogger(__name__)

VALGRIND = "valgrind"
CALLGRIND_CONTROL = "callgrind_control"
SETARCH = "setarch"
INSTALL_HINT = "install valgrind (Debian and Ubuntu: `apt-get install valgrind`) for instruction counts"
HASH_SEED = "0"  # PYTHONHASHSEED of every counted server
CONTROL_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 60.0  # a request under callgrind takes some 40 ms; its first ones much longer


def missing_tools(*, path: str | None = None) -> list[str]:
    """Return the programs of valgrind's package that are not on PATH (path: another PATH to look on)."""
    return [tool for tool in (VALGRIND, CALLGRIND_CONTROL) if shutil.which(tool, path=path) is None]


def callgrind_prefix(out_file: Path) -> list[str]:
    """Return the command prefix that runs a server under callgrind, counting nothing until told to.

    Under `setarch --addr-no-randomize` where util-linux has it: the same addresses in every process, so
    that nothing ordered by address (id-hashed sets and dicts) differs between the two sides' processes.
    """
    fixed_layout = [SETARCH, "--addr-no-randomize"] if shutil.which(SETARCH) else []
    return [
        *fixed_layout,
        VALGRIND,
        "--tool=callgrind",
        "--instr-atstart=no",
        # Without it valgrind switches its gdbserver off in a forked child (a gunicorn worker), and
        # callgrind_control, which talks to that server, cannot reach the worker.
        "--trace-children=yes",
        f"--callgrind-out-file={out_file}.%p",
        "--quiet",
    ]


def serving_pid(pid: int) -> int:
    """Return the process that serves requests: the one worker a master forked, else the process itself."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error as exc:
        raise CheckInputError(f"the counted server (pid {pid}) is gone: {exc}") from None
    leaves = [child for child in children if not child.children()]
    if len(leaves) > 1:
        raise CheckInputError(f"the counted server (pid {pid}) has {len(leaves)} workers, not one")
    return leaves[0].pid if leaves else pid


def callgrind_control(pid: int, *options: str) -> None:
    """Send a command to the callgrind of pid and wait until it is done."""
    command = [CALLGRIND_CONTROL, *options, str(pid)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=CONTROL_TIMEOUT_S, check=False)
    if result.returncode != 0 or "OK" not in result.stdout:
        raise CheckInputError(f"{' '.join(command)} failed: {(result.stdout + result.stderr).strip()}")


def send_requests(client: httpx.Client, path: str, *, count: int) -> None:
    """Send count GET requests one after the other; raise unless each answers 200."""
    for _ in range(count):
        response = client.get(path)
        if response.status_code != 200:
            raise CheckInputError(f"GET {path} answered {response.status_code} under callgrind")


def _newest_dump(out_file: Path, pid: int, *, seen: set[Path]) -> Path:
    dumps = [path for path in out_file.parent.glob(f"{out_file.name}.{pid}.*") if path not in seen]
    if not dumps:
        raise CheckInputError(f"callgrind wrote no dump for pid {pid} beside {out_file}")
    newest = max(dumps, key=lambda path: int(path.suffix.lstrip(".") or 0))
    seen.add(newest)
    return newest


@contextlib.contextmanager
def counted_client(base_url: str) -> Iterator[httpx.Client]:
    """Yield a keep-alive client for the counted server (one connection, sequential requests)."""
    with httpx.Client(base_url=base_url, timeout=REQUEST_TIMEOUT_S) as client:
        yield client


def count_windows(
    client: httpx.Client,
    *,
    pid: int,
    out_file: Path,
    path: str,
    warmup: int,
    windows: int,
    requests: int,
    seen: set[Path],
) -> list[Window]:
    """Return `windows` counted windows of `requests` GETs of path each, after `warmup` uncounted ones."""
    send_requests(client, path, count=warmup)
    counted = []
    for _ in range(windows):
        callgrind_control(pid, "--zero")
        send_requests(client, path, count=requests)
        callgrind_control(pid, "--dump")
        dump = _newest_dump(out_file, pid, seen=seen)
        counted.append(Window(requests=requests, dump=read_dump(dump)))
        dump.unlink()  # tens of MB each: the figures are kept, the file is not
    return counted


def start_counting(pid: int) -> None:
    """Switch the worker's instruction counting on (it started with counting off)."""
    callgrind_control(pid, "--instr=on")


def describe_missing(missing: Sequence[str]) -> str:
    return f"{', '.join(missing)} not on PATH: {INSTALL_HINT}"
