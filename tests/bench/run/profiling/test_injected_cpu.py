"""A known CPU cost injected into one layer of one app is found there by py-spy and the attribution.

Flask burns BENCH_INJECT_CPU_US of CPU in a before_request hook of its own code (apps/flask_app/__init__.py),
so the profile must put that cost in the "app" layer. A sequential client sends the requests (no load tool);
the server's user and system time over the profiled window are measured as the runner does, and the app
layer's CPU per request as the report's bar has it (its share of the user time per request,
bench/report/layers/cpu_split.py) must come within TOLERANCE of the injected cost. It runs wherever py-spy
may attach (it is skipped, saying why, where ptrace is refused).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bench.config import load_app
from bench.report.layers.attribution import attribute
from bench.report.layers.cpu_split import split_cpu
from bench.report.layers.stacks import parse_stacks
from bench.report.layers.table import load_layer_table
from bench.run.database import sqlite_url
from bench.run.profiling.pyspy import PySpyRecorder, find_pyspy
from bench.run.servers import serve_app
from bench.run.usage import ProcessTreeSampler

INJECTED_US = 3000  # per request: far above the app's own cost (~0.3 ms for /json), so it dominates
REQUESTS = 400  # 1.2 s of injected CPU: about 240 samples at 200 Hz
# The app layer's CPU per request may differ from the injected cost by this share: the samples' own noise
# (about 1/sqrt(240), 6%), the user time the samples miss that the shares are scaled over, and the
# framework's own cost (~10% of 3 ms) on either side of it.
TOLERANCE = 0.25

pytestmark = pytest.mark.slow


def test_injected_cpu_lands_in_the_app_layer(tmp_path: Path) -> None:
    executable = find_pyspy()
    if executable is None:
        pytest.skip("py-spy is not installed (make setup)")
    app = load_app("flask")
    with (
        serve_app(
            app,
            database_url=sqlite_url(tmp_path / "flask.sqlite3"),
            extra_env={"BENCH_INJECT_CPU_US": str(INJECTED_US)},
            log_path=tmp_path / "server.log",
        ) as server,
        httpx.Client(base_url=server.base_url) as client,
    ):
        for _ in range(20):  # warm: imports, first queries
            client.get("/json")
        recorder = PySpyRecorder(
            executable=executable,
            output=tmp_path / "stacks.txt",
            log_path=tmp_path / "py-spy.log",
            rate_hz=200,
            native=False,
        )
        recorder.start(server.pid)
        sampler = ProcessTreeSampler(server.pid)
        sampler.start()
        for _ in range(REQUESTS):
            assert client.get("/json").status_code == 200
        usage = sampler.stop()
        recorder.stop()
    if recorder.failure is not None:
        if recorder.failure.hint:
            pytest.skip(f"py-spy may not attach here: {recorder.failure.reason}")
        pytest.fail(recorder.failure.reason)
    with (tmp_path / "stacks.txt").open() as handle:
        breakdown = attribute(parse_stacks(handle), load_layer_table().with_app(app.layers))
    split = split_cpu(
        busy_samples=breakdown.busy,
        rate_hz=200,
        requests=REQUESTS,
        user_s=usage.user_s,
        system_s=usage.system_s,
        failed_samples=recorder.failed_samples,
    )
    assert split is not None
    app_ms = breakdown.share("app") * split.user_ms
    assert breakdown.busy > 100
    assert app_ms == pytest.approx(INJECTED_US / 1000, rel=TOLERANCE), (
        f"app layer {app_ms:.2f} ms of {split.measured_ms:.2f} ms per request (user {split.user_ms:.2f}, "
        f"system {split.system_ms:.2f}, sampled {split.sampled_ms:.2f}); layers {dict(breakdown.layers)}"
    )
    assert max(breakdown.layers, key=breakdown.layers.__getitem__) == "app"
