"""Open-loop load with Locust: requests start at planned times, whatever the server's speed.

A scheduler hands out tickets (a step and a planned start time) at the step's rate; a pool of users of the
scenario's own User class each takes a ticket, runs one task, and takes the next. Arrivals therefore do not
slow down when the server does: while every user is busy the tickets queue, and their wait counts in their
latency, which is measured from the planned start (bench.run.loadgen.sweep). The scenario's think time is
replaced by the schedule.
"""

from __future__ import annotations

import bisect
import logging
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, NamedTuple

import gevent
from gevent.queue import Queue
from locust import User
from locust.env import Environment

from bench.run.loadgen.sweep import (
    LATE_START_MS,
    PlannedStep,
    StepRecorder,
    corrected_latency_ms,
    pool_size,
)

log = logging.getLogger(__name__)


def max_rate(steps: list[PlannedStep]) -> float:
    return max((step.rate_rps for step in steps), default=0.0)


TICKET = "open_loop_ticket"  # the key of a request's ticket in Locust's request context
SPAWN_TIMEOUT_S = 30.0
MAX_EMPTY_TASKS = 100  # tasks in a row that sent no request before a ticket is given up


class Ticket(NamedTuple):
    """One planned request: the step it belongs to, when it should start (perf_counter seconds), and whether
    a user was free to take it when it was due."""

    step: int
    planned: float
    user_was_free: bool


class ArrivalSchedule:
    """Hands out the tickets of a list of steps at their rates and records what the requests measured."""

    def __init__(self, steps: list[PlannedStep], *, timeout_s: float) -> None:
        self.steps = steps
        self.recorders = [StepRecorder(step, timeout_ms=timeout_s * 1000) for step in steps]
        self.tickets: Queue[Ticket] = Queue()
        self.idle_users = 0
        self.starts: list[float] = []  # perf_counter time each step started
        self.cpu_util: list[float | None] = []
        self.outstanding = 0
        # Locust stamps a request's start with time.time(); tickets are planned in perf_counter time.
        self._wall_minus_perf = time.time() - time.perf_counter()

    def take(self) -> Ticket:
        """Block until a ticket is due; count a late start when a user was free and it still came late."""
        self.idle_users += 1
        try:
            ticket: Ticket = self.tickets.get()
        finally:
            self.idle_users -= 1
        late_ms = (time.perf_counter() - ticket.planned) * 1000
        if ticket.user_was_free and late_ms > LATE_START_MS:
            self.recorders[ticket.step].late_starts += 1
        return ticket

    def run(self) -> None:
        """Release every step's tickets at its planned times (blocks until the last one is out)."""
        start = time.perf_counter()
        for index, step in enumerate(self.steps):
            self.starts.append(start)
            cpu_before = time.process_time()
            for offset in step.due_s():
                planned = start + offset
                gevent.sleep(max(0.0, planned - time.perf_counter()))
                free = self.idle_users - self.tickets.qsize() > 0
                if not free:
                    self.recorders[index].waited_for_user += 1
                self.outstanding += 1
                self.tickets.put(Ticket(index, planned, free))
            end = start + step.duration_s
            gevent.sleep(max(0.0, end - time.perf_counter()))
            self.cpu_util.append((time.process_time() - cpu_before) / max(1e-9, time.perf_counter() - start))
            start = end

    def drop(self, ticket: Ticket) -> None:
        """Give up a ticket whose user found no task that sends a request."""
        self.recorders[ticket.step].unsent += 1
        self.outstanding -= 1

    def wait_for_outstanding(self, timeout_s: float) -> None:
        """Wait until every released ticket's request completed, at most timeout_s."""
        deadline = time.perf_counter() + timeout_s
        while self.outstanding > 0 and time.perf_counter() < deadline:
            gevent.sleep(0.05)

    def on_request(
        self,
        *,
        context: dict[str, Any],
        start_time: float,
        response_time: float | None,
        exception: BaseException | None = None,
        **_: Any,
    ) -> None:
        """Record one request (Locust's request event)."""
        entry = context.get(TICKET)
        if entry is None:
            return  # a request outside the sweep (a login in on_start)
        ticket, first = entry
        now = time.perf_counter()
        during = bisect.bisect_right(self.starts, now) - 1
        if during >= 0 and now < self.starts[during] + self.steps[during].duration_s:
            self.recorders[during].completed_in_step += 1
        response_ms = response_time or 0.0
        sent = start_time - self._wall_minus_perf
        corrected = (
            corrected_latency_ms(planned_s=ticket.planned, sent_s=sent, response_ms=response_ms)
            if first
            else response_ms  # a later request of the same task starts when the one before it ends
        )
        self.recorders[ticket.step].record(
            planned_offset_s=ticket.planned - self.starts[ticket.step],
            corrected_ms=corrected,
            uncorrected_ms=response_ms,
            exception=exception,
        )
        if first:
            self.outstanding -= 1

    def results(self) -> list[dict[str, Any]]:
        """Return every step's SweepStep as a dict."""
        return [
            asdict(
                recorder.result(
                    generator_cpu_util=self.cpu_util[index] if index < len(self.cpu_util) else None
                )
            )
            for index, recorder in enumerate(self.recorders)
        ]


def open_loop_class(user_class: type[User], schedule: ArrivalSchedule, *, timeout_s: float) -> type[User]:
    """Return a subclass of a scenario's User that runs one task per ticket of the schedule.

    A task that sent nothing (api's update of an own item when the user has none yet) leaves its ticket to
    the next task, so that every planned request is sent; after MAX_EMPTY_TASKS such tasks in a row the ticket
    is dropped.
    """

    def wait_time(self: Any) -> float:
        # Called by Locust between tasks, while the user counts as waiting (so stopping it is immediate).
        if getattr(self, "open_ticket", None) is not None and self.open_first:
            self.open_empty_tasks += 1
            if self.open_empty_tasks < MAX_EMPTY_TASKS:
                return 0.0  # the same ticket again
            schedule.drop(self.open_ticket)
        self.open_ticket = schedule.take()
        self.open_first = True
        self.open_empty_tasks = 0
        return 0.0

    def on_start(self: Any) -> None:
        user_class.on_start(self)
        self.wait()  # the first task waits for its ticket too

    def context(self: Any) -> dict[str, Any]:
        ticket: Ticket | None = getattr(self, "open_ticket", None)
        merged = dict(user_class.context(self))
        if ticket is not None:
            merged[TICKET] = (ticket, self.open_first)
            self.open_first = False
        return merged

    return type(
        f"OpenLoop{user_class.__name__}",
        (user_class,),
        {
            "wait_time": wait_time,
            "on_start": on_start,
            "context": context,
            "network_timeout": timeout_s,
            "connection_timeout": timeout_s,
            "__module__": user_class.__module__,
        },
    )


def run_open_sweep(
    *,
    user_class: type[User],
    host: str,
    steps: list[PlannedStep],
    timeout_s: float,
    max_users: int,
    stop_timeout_s: float,
    add_listeners: Callable[[Environment], None],
) -> tuple[list[dict[str, Any]], int]:
    """Run a sweep of planned steps (arrival times included) against host; return (its SweepStep dicts, the
    number of users of its pool)."""
    users = pool_size(steps, max_users=max_users)
    schedule = ArrivalSchedule(steps, timeout_s=timeout_s)
    env = Environment(
        user_classes=[open_loop_class(user_class, schedule, timeout_s=timeout_s)],
        host=host,
        stop_timeout=stop_timeout_s,
    )
    env.events.request.add_listener(schedule.on_request)  # type: ignore[no-untyped-call]
    add_listeners(env)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=float(users))
    deadline = time.monotonic() + SPAWN_TIMEOUT_S
    while (runner.user_count < users or schedule.idle_users < users) and time.monotonic() < deadline:
        gevent.sleep(0.05)
    log.info("sweep of %s: %d users, %d steps up to %.0f req/s", host, users, len(steps), max_rate(steps))
    try:
        schedule.run()
        schedule.wait_for_outstanding(timeout_s + 0.5)
    finally:
        runner.stop()
        runner.quit()
    return schedule.results(), users
