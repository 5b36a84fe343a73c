"""A profiled trial's CPU per request split into measured parts (pure: counts and CPU seconds in, ms out).

py-spy with --gil samples the thread holding the GIL by the wall clock: the busy samples' time (samples /
rate) is the Python CPU. /proc gives the server's user and system time apart. So the CPU per request is made
of three parts, each from a measurement: the sampled Python time, the kernel's time on the server's behalf
(system calls: socket reads and writes, futex, epoll; the system time), and what user time the samples did not
see (C code running without the GIL: SQLite's steps, libpq, argon2; user time less the sampled time, at least
0). The coverage, (sampled + system) / (user + system), says how much of the measured CPU the two direct
measurements account for; above 100% the samples saw more than the user time (a descheduled GIL holder
counted by the wall clock).
"""

from __future__ import annotations

from dataclasses import dataclass

KERNEL = "kernel"  # the system time's layer of a bar


@dataclass(frozen=True)
class CpuSplit:
    """CPU-ms per request of one profiled trial, by where it was measured."""

    sampled_ms: float  # the busy samples' time
    user_ms: float  # the server's user time
    system_ms: float  # the server's system time

    @property
    def measured_ms(self) -> float:
        return self.user_ms + self.system_ms

    @property
    def unsampled_ms(self) -> float:
        """User time the samples did not see (0 when they saw more than it)."""
        return max(0.0, self.user_ms - self.sampled_ms)

    @property
    def total_ms(self) -> float:
        """The bar: sampled + unsampled + kernel (the measured CPU, or more when the samples saw more than
        the user time)."""
        return self.sampled_ms + self.unsampled_ms + self.system_ms

    @property
    def coverage(self) -> float | None:
        """(sampled + system) / measured: the share of the measured CPU the samples and the system time
        account for (None without a measured CPU)."""
        measured = self.measured_ms
        return (self.sampled_ms + self.system_ms) / measured if measured > 0 else None

    @property
    def sampled_over_user(self) -> float | None:
        """sampled / user (None without user time): near 1 when the Python CPU is the user time."""
        return self.sampled_ms / self.user_ms if self.user_ms > 0 else None


def split_cpu(
    *, busy_samples: int, rate_hz: int, requests: int, user_s: float, system_s: float
) -> CpuSplit | None:
    """Return a profiled trial's split per request (None without requests, a rate, or a user and system time:
    a record from before they were kept)."""
    if requests <= 0 or rate_hz <= 0 or user_s + system_s <= 0:
        return None
    per_request = 1000 / requests
    return CpuSplit(
        sampled_ms=busy_samples / rate_hz * per_request,
        user_ms=user_s * per_request,
        system_ms=system_s * per_request,
    )
