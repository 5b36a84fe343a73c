"""py-spy as the runner uses it: the command, one recorder per profiled window, and why it failed.

py-spy reads the server's memory with ptrace: as root, or with CAP_SYS_PTRACE, or with
kernel.yama.ptrace_scope = 0 for a process of the same user. Where it cannot, the run goes on without
profiles and says how to allow it (ATTACH_HINT).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.processes import die_with_parent

log = logging.getLogger(__name__)

PYSPY = "py-spy"
# py-spy writes its file on SIGINT; a profile of a few seconds takes well under this to write.
STOP_TIMEOUT_S = 30.0
STDERR_TAIL_CHARS = 600

NOT_INSTALLED = "py-spy is not installed (`make setup` installs it from the lock)"
ATTACH_HINT = (
    "py-spy needs ptrace permission on the server's processes: run the bench as root, give it "
    "CAP_SYS_PTRACE (docker run --cap-add SYS_PTRACE ...; Kubernetes: securityContext.capabilities.add "
    "[SYS_PTRACE]), or allow ptrace of your own processes with `sysctl kernel.yama.ptrace_scope=0`"
)
# py-spy's last words on a profile it wrote: how many stacks it read, and how many reads failed.
_SUMMARY = re.compile(r"Samples: (?P<samples>\d+) Errors: (?P<errors>\d+)")
# What py-spy and the kernel say when ptrace is refused.
PERMISSION_WORDS = ("permission denied", "operation not permitted", "ptrace", "eperm")


def find_pyspy() -> Path | None:
    """Return the py-spy executable: PATH's, else the one installed beside this interpreter (.venv/bin)."""
    found = shutil.which(PYSPY) or shutil.which(PYSPY, path=str(Path(sys.executable).parent))
    return Path(found) if found else None


def record_command(*, executable: Path, pid: int, output: Path, rate_hz: int, native: bool) -> list[str]:
    """Return the py-spy command that samples a process and its children until SIGINT, in raw format
    (collapsed stacks), full file names (the report tells packages apart by their path), one frame per
    function (line numbers would split a function's samples), idle threads left out."""
    command = [
        str(executable),
        "record",
        "--pid",
        str(pid),
        "--subprocesses",
        "--format",
        "raw",
        "--full-filenames",
        "--function",
        "--rate",
        str(rate_hz),
        "--output",
        str(output),
    ]
    # --gil: only the thread holding the GIL, i.e. running Python (threads waiting on a lock, a socket or
    # the GIL itself would otherwise count as busy); --native unwinds C frames too, but pauses the process.
    return [*command, "--gil", "--native" if native else "--nonblocking"]


def summary_counts(said: str) -> tuple[int, int] | None:
    """Return (stacks read, failed reads) of py-spy's summary line ("... Samples: 355 Errors: 363"; the last
    one when there are several), None when it wrote none (pure)."""
    found = list(_SUMMARY.finditer(said))
    return (int(found[-1]["samples"]), int(found[-1]["errors"])) if found else None


def failed_reads(said: str) -> int:
    """Return the failed reads of py-spy's summary line, 0 when it wrote none (pure)."""
    counts = summary_counts(said)
    return counts[1] if counts else 0


@dataclass(frozen=True)
class AttachFailure:
    """Why py-spy gave no profile, and how to allow it ("" when the cause is not a permission)."""

    reason: str
    hint: str = ""


def attach_failure(*, returncode: int | None, stderr: str, wrote_output: bool) -> AttachFailure | None:
    """Return why a py-spy run gave no profile, or None when it gave one (pure: from its exit and output)."""
    if wrote_output and returncode in (0, None, -signal.SIGINT):
        return None
    lines = [line.strip() for line in stderr.splitlines() if line.strip() and not line.startswith("py-spy>")]
    said = "; ".join(lines)[-STDERR_TAIL_CHARS:] or "no message"
    reason = f"py-spy exited with code {returncode}: {said}"
    if any(word in stderr.lower() for word in PERMISSION_WORDS):
        return AttachFailure(reason, ATTACH_HINT)
    if summary_counts(stderr) == (0, 0):
        reason = "py-spy read no stack of the server's processes (Samples: 0 Errors: 0)"
    elif not wrote_output and returncode in (0, -signal.SIGINT):
        reason = f"py-spy wrote no profile ({said})"
    return AttachFailure(reason)


class PySpyRecorder:
    """One py-spy run over a measured window: start(server_pid) as the window opens, stop() as it closes.

    py-spy runs pinned to the load CPUs, so that its own work does not take the server's CPU; what it costs
    the server is the pause of each sample (--native pauses the process, --nonblocking does not).
    """

    def __init__(
        self,
        *,
        executable: Path,
        output: Path,
        log_path: Path,
        rate_hz: int,
        native: bool,
        cpus: Sequence[int] = (),
    ) -> None:
        self.executable, self.output, self.log_path = executable, output, log_path
        self.rate_hz, self.native, self.cpus = rate_hz, native, set(cpus)
        self.process: subprocess.Popen[bytes] | None = None
        self.failure: AttachFailure | None = AttachFailure("the window never opened")
        self.failed_samples = 0  # py-spy's failed reads, known after stop()

    def start(self, server_pid: int | None) -> None:
        if server_pid is None:
            self.failure = AttachFailure("no server process of ours to profile")
            return
        command = record_command(
            executable=self.executable,
            pid=server_pid,
            output=self.output,
            rate_hz=self.rate_hz,
            native=self.native,
        )
        cpus = self.cpus

        def prepare_child() -> None:
            die_with_parent()
            if cpus:
                os.sched_setaffinity(0, cpus)

        self.output.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log_file:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=prepare_child,
            )
        self.failure = None

    def stop(self) -> None:
        """Ask py-spy to write its profile (SIGINT) and wait for it; failure says why there is none."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        wrote = self.output.is_file() and self.output.stat().st_size > 0
        said = self._said()
        self.failure = attach_failure(returncode=process.returncode, stderr=said, wrote_output=wrote)
        self.failed_samples = failed_reads(said)
        self.process = None

    def cancel(self) -> None:
        """Stop py-spy without a profile when the window never ended (harmless after stop())."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None
        self.failure = AttachFailure("the profiled window did not end")

    def _said(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""
