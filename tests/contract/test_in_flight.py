"""A threaded variant serves at most {threads} requests at once per worker process, in every app.

The test locks the World table (ACCESS EXCLUSIVE, in a transaction of its own), sends threads + 1 requests to
/db at once, and counts the app's PostgreSQL backends that wait for the lock: each one is a request being
served. It runs its own server of one worker: with several, the kernel decides which worker accepts each
connection, and a gthread or uvicorn worker accepts more connections than it serves, so the count would depend
on that draw. The pool gets more connections than the threads, so that the threads, not the pool, set the
limit seen.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
from stored_rows import world_table
from targets import REQUEST_TIMEOUT_S, AppServer

from apps.serving import DB_POOL_TIMEOUT_S
from bench.run.servers import RunningServer, app_environment, start_server

THREADS = 3  # fewer than the bench's 8 (any count shows the rule), and not the pool's size
POOL_SIZE = THREADS + 2
SETTLE_POLLS = 20  # unchanged counts in a row, after the limit was reached, before the count is taken
POLL_S = 0.05
DEADLINE_S = 60.0

WAITING_BACKENDS = (
    "SELECT count(*) FROM pg_stat_activity "
    "WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
)


@contextmanager
def one_worker_server(
    app_server: AppServer, log_path: Path, *, pool_size: int = POOL_SIZE
) -> Iterator[RunningServer]:
    """Start another server of the target's variant on its seeded database: one worker of THREADS threads."""
    env = app_environment(database_url=app_server.database_url, extra={"BENCH_DB_POOL_SIZE": str(pool_size)})
    server = app_server.target.server
    with start_server(
        app_server.spec, env=env, server=server, workers=1, threads=THREADS, log_path=log_path
    ) as running:
        yield running


def settled_count(monitor: psycopg.Connection, futures: list[Future[httpx.Response]]) -> int:
    """Return the number of backends waiting for the lock once it has reached THREADS and stopped changing."""
    deadline = time.monotonic() + DEADLINE_S
    counts: list[int] = []
    while time.monotonic() < deadline:
        done = [future for future in futures if future.done()]
        assert not done, f"a request answered while the table was locked: {done[0].result()}"
        row = monitor.execute(WAITING_BACKENDS).fetchone()
        assert row is not None
        counts.append(int(row[0]))
        latest = counts[-SETTLE_POLLS:]
        if counts[-1] >= THREADS and len(latest) == SETTLE_POLLS and len(set(latest)) == 1:
            return counts[-1]
        time.sleep(POLL_S)
    raise AssertionError(f"the waiting backends never settled at {THREADS} or more: {counts[-SETTLE_POLLS:]}")


@pytest.mark.postgres_only
def test_a_threaded_worker_serves_threads_requests_at_once(app_server: AppServer, tmp_path: Path) -> None:
    if not app_server.spec.server(app_server.target.server).threads:
        pytest.skip("not a threaded variant: no thread count caps its requests")
    table = world_table(app_server.database_url)
    with (
        one_worker_server(app_server, tmp_path / "server.log") as running,
        psycopg.connect(app_server.database_url, autocommit=True) as monitor,
        psycopg.connect(app_server.database_url) as locker,
        ThreadPoolExecutor(max_workers=THREADS + 1) as pool,
        httpx.Client(base_url=running.base_url, timeout=REQUEST_TIMEOUT_S) as client,
    ):
        locker.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')  # held until the rollback
        try:
            futures = [pool.submit(client.get, "/db") for _ in range(THREADS + 1)]
            served = settled_count(monitor, futures)
        finally:
            locker.rollback()
        statuses = [future.result().status_code for future in futures]
    assert served == THREADS, f"{served} requests were being served at once with {THREADS} threads"
    assert statuses == [200] * (THREADS + 1)


@pytest.mark.postgres_only
def test_more_requests_than_threads_wait_their_turn_without_failing(
    app_server: AppServer, tmp_path: Path
) -> None:
    # Three times as many requests as threads, against the default pool (as many connections as threads),
    # while the table stays locked for longer than a request may wait for a pooled connection. A variant that
    # let the extra requests take threads or connections would fail them with the pool's timeout (FastAPI's
    # def endpoints did: fastapi#3205); admitted THREADS at a time, every one of them is answered.
    if not app_server.spec.server(app_server.target.server).threads:
        pytest.skip("not a threaded variant: no thread count caps its requests")
    table = world_table(app_server.database_url)
    requests = 3 * THREADS
    with (
        one_worker_server(app_server, tmp_path / "server.log", pool_size=THREADS) as running,
        psycopg.connect(app_server.database_url, autocommit=True) as monitor,
        psycopg.connect(app_server.database_url) as locker,
        ThreadPoolExecutor(max_workers=requests) as pool,
        httpx.Client(base_url=running.base_url, timeout=REQUEST_TIMEOUT_S) as client,
    ):
        locker.execute(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE')
        try:
            futures = [pool.submit(client.get, "/db") for _ in range(requests)]
            served = settled_count(monitor, futures)
            # Past the pool's timeout: any request waiting for a connection would have failed by now.
            time.sleep(DB_POOL_TIMEOUT_S + 1)
            assert not any(future.done() for future in futures), (
                "a request answered while the table was locked"
            )
        finally:
            locker.rollback()
        statuses = [future.result().status_code for future in futures]
    assert served == THREADS
    assert statuses == [200] * requests
