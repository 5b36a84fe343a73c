"""A profiled trial's CPU per request split into measured parts (pure: counts and CPU seconds in, ms out).

py-spy with --gil samples the thread holding the GIL by the wall clock, and with --nonblocking it reads the
process's memory while the process runs: a read that catches the interpreter mid-update fails, and py-spy
counts it as an error (its summary line "Samples: N Errors: M"). Here 23-52% of the reads of a busy server
failed, more with a thread pool (docs/methodology.md); they are rounds in which a thread held the GIL whose
stack could not be read, so the profiled time is (read samples + failed reads) / rate. /proc gives the
server's user and system time apart. The CPU per request is then made of: the profiled Python time (the
layers, from the read samples' shares), the kernel's time on the server's behalf (system calls: the system
time), and what user time the profiler did not see at all (C code running without the GIL; user time less
the profiled time, at least 0). The coverage, (profiled + system) / (user + system), says how much of the
measured CPU the direct measurements account for; above 100% the profiler saw more than the user time (a
descheduled GIL holder counted by the wall clock).
"""

from __future__ import annotations

from dataclasses import dataclass

KERNEL = "kernel"  # the system time's layer of a bar


@dataclass(frozen=True)
class CpuSplit:
    """CPU-ms per request of one profiled trial, by where it was measured."""

    sampled_ms: float  # the busy samples' time (stacks read)
    user_ms: float  # the server's user time
    system_ms: float  # the server's system time
    failed_ms: float = 0.0  # the failed reads' time (a GIL holder whose stack could not be read)

    @property
    def measured_ms(self) -> float:
        return self.user_ms + self.system_ms

    @property
    def profiled_ms(self) -> float:
        """The profiler's time: stacks read and reads that failed."""
        return self.sampled_ms + self.failed_ms

    @property
    def unsampled_ms(self) -> float:
        """User time the profiler did not see (0 when it saw more than it)."""
        return max(0.0, self.user_ms - self.profiled_ms)

    @property
    def total_ms(self) -> float:
        """The bar: profiled + unsampled + kernel (the measured CPU, or more when the profiler saw more than
        the user time)."""
        return self.profiled_ms + self.unsampled_ms + self.system_ms

    @property
    def coverage(self) -> float | None:
        """(profiled + system) / measured: the share of the measured CPU the profiler and the system time
        account for (None without a measured CPU)."""
        measured = self.measured_ms
        return (self.profiled_ms + self.system_ms) / measured if measured > 0 else None

    @property
    def failed_share(self) -> float | None:
        """failed / profiled: the share of the profiler's reads that failed (None without any)."""
        return self.failed_ms / self.profiled_ms if self.profiled_ms > 0 else None

    @property
    def sampled_over_user(self) -> float | None:
        """profiled / user (None without user time): near 1 when the Python CPU is the user time."""
        return self.profiled_ms / self.user_ms if self.user_ms > 0 else None


def split_cpu(
    *,
    busy_samples: int,
    rate_hz: int,
    requests: int,
    user_s: float,
    system_s: float,
    failed_samples: int = 0,
) -> CpuSplit | None:
    """Return a profiled trial's split per request (None without requests, a rate, or a user and system time:
    a record from before they were kept). failed_samples: py-spy's failed reads (0 in a record from before
    they were kept)."""
    if requests <= 0 or rate_hz <= 0 or user_s + system_s <= 0:
        return None
    per_request = 1000 / requests
    return CpuSplit(
        sampled_ms=busy_samples / rate_hz * per_request,
        user_ms=user_s * per_request,
        system_ms=system_s * per_request,
        failed_ms=failed_samples / rate_hz * per_request,
    )
