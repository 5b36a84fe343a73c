"""bench/run/measure.py: the window's samplers, here the database's process tree."""

from __future__ import annotations

import os
import shutil

import pytest

from bench.run.database import postgres_cluster
from bench.run.measure import CellMeasurement, WindowSampler


@pytest.mark.skipif(shutil.which("pg_ctl") is None, reason="PostgreSQL server binaries are not on PATH")
def test_the_window_samples_the_clusters_whole_tree() -> None:
    import psycopg

    with postgres_cluster() as cluster:
        pid = cluster.postmaster_pid
        assert pid is not None
        sampler = WindowSampler(
            server_pid=None, database_pid=pid, generator_pid=os.getpid(), server_cpus={0}, load_cpus={0}
        )
        measurement = CellMeasurement()
        sampler.start()
        # A backend forked after the window started, busy in it (the apps' pools keep theirs open)
        with psycopg.connect(cluster.url("postgres")) as connection:
            connection.execute("SELECT count(*) FROM generate_series(1, 2000000)").fetchone()
            sampler.stop(measurement)
    assert measurement.database is not None and measurement.server is None
    assert measurement.database.cpu_s > 0
    # the postmaster, its background processes and the backend
    assert measurement.database.processes >= 5
