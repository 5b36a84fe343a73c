"""The limits every app serves under, whatever its server: requests in flight, database connections.

The bench passes the run's threads per worker to every app as BENCH_THREADS (the `{threads}` of the server
commands). A threaded variant serves at most that many requests at once per worker process: gunicorn's
gthread worker through `--threads`, FastAPI's `def` endpoints through anyio's thread limiter. Every variant's
database pool holds that many connections per worker (BENCH_DB_POOL_SIZE overrides), so a thread never
waits for a connection, and no variant has more connections than the threaded ones can use.
"""

from __future__ import annotations

# BENCH_THREADS when the app runs outside the bench; the bench's own default is the same.
DEFAULT_THREADS = 8

# How long a request waits for a pooled connection before it fails (SQLAlchemy's pool_timeout, the timeout
# of Django's psycopg pool). Both libraries default to 30 s, which turns a pool that is short under overload
# into 30 s stalls; a few seconds surface it as errors the run counts.
DB_POOL_TIMEOUT_S = 5
