"""The column registry: the names of results.jsonl's columns, for every part that reads rows.

Each name is checked against ResultRow's fields at import, so that a renamed field fails loudly. Nothing heavy
is imported here (no pandas): the gate's pure decision code reads its columns from this module too.
"""

from __future__ import annotations

from bench.results import CELL_KEYS, ROW_FIELDS


def column(name: str) -> str:
    """Return name, after checking that results.jsonl rows have such a column (so a rename fails loudly)."""
    if name not in ROW_FIELDS:
        raise LookupError(f"results.jsonl rows have no column {name!r}; see bench/results.py")
    return name


APP, SERVER, SCENARIO, USERS, DB = (column(key) for key in CELL_KEYS)
TRIAL = column("trial")
VARIANT = column("variant")
RPS = column("rps")
REQUESTS = column("requests")
FAILURES = column("failures")
FAILURES_BY_KIND = column("failures_by_kind")
LATENCY_P50 = column("latency_p50_ms")
LATENCY_P99 = column("latency_p99_ms")
CPU_MS_PER_REQUEST = column("cpu_ms_per_request")
DB_CPU_MS_PER_REQUEST = column("db_cpu_ms_per_request")
SERVER_CPU_UTIL = column("server_cpu_util")
SERVER_RSS = column("server_rss_mb")
SERVER_PSS = column("server_pss_mb")
WORKERS = column("workers")
GENERATOR_CPU_UTIL = column("generator_cpu_util")
GENERATOR_BOUND = column("generator_bound")
ERROR = column("error")
DATA_CHECK = column("data_check")
STARTED_AT = column("started_at")
STARTUP_S = column("startup_s")
FIRST_REQUEST_MS = column("first_request_ms")
REST_PSS = column("rest_pss_mb")
SWEEP = column("sweep")
UNLOADED_P50 = column("unloaded_p50_ms")
GENERATOR_BEHIND = column("generator_behind")
WRK_RPS = column("wrk_rps")
WRK_P99 = column("wrk_p99_ms")
WRK_ERROR = column("wrk_error")
