"""The report's section "Where the time goes", from a saved synthetic run with profiled trials: bars of
user time by layer and system time (or, for an older record, scaled to the measured CPU per request), the
comparison table's costliest layers on api, flame graphs beside index.html, and the cells without a profile
with the reason and the hint."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from bench.report.build import build_content, write_report
from bench.results import PROFILES_DIR, PROFILES_FILE, ProfileRecord, append_profile
from tests.bench.synthetic_run import SERVERS, synthetic_rows, write_apps, write_run

SITE = "/v/lib/python3.11/site-packages"
ROOT = (
    "Thread.run (/py/lib/python3.11/threading.py:1);"
    f"ThreadWorker.handle ({SITE}/gunicorn/workers/gthread.py:1)"
)
# 60 samples in the ORM, 30 in the framework, 10 in the server: at 100 Hz, 1.0 s of samples
STACKS = (
    f"{ROOT};Flask.wsgi_app ({SITE}/flask/app.py:1);Session.execute ({SITE}/sqlalchemy/orm/session.py:1) 60\n"
    f"{ROOT};Flask.wsgi_app ({SITE}/flask/app.py:1) 30\n"
    f"{ROOT} 10\n"
)


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    rows = synthetic_rows(scenarios=("json", "api"), trials=3)
    run_dir = write_run(tmp_path / "reports" / "run", rows)
    (run_dir / PROFILES_DIR).mkdir()
    # flask's record has its user and system time (1.4 + 0.4 s); django's is from before they were kept
    for app, user_s, system_s in (("flask", 1.4, 0.4), ("django", 0.0, 0.0)):
        name = f"{PROFILES_DIR}/{app}-api.txt"
        (run_dir / name).write_text(STACKS)
        append_profile(
            run_dir / PROFILES_FILE,
            ProfileRecord(
                app=app, server=SERVERS[app], scenario="api", users=64, db="sqlite", rate_hz=100,
                duration_s=5.0, requests=1000, rps=200.0, server_cpu_s=user_s + system_s or 1.0,
                server_user_s=user_s, server_system_s=system_s,
                cpu_ms_per_request=user_s + system_s or 1.0, stacks_file=name,
            ),
        )  # fmt: skip
    append_profile(
        run_dir / PROFILES_FILE,
        ProfileRecord(
            app="fastapi", server=SERVERS["fastapi"], scenario="api", users=64, db="sqlite", rate_hz=100,
            error="py-spy exited with code 1: Permission Denied", hint="give it CAP_SYS_PTRACE",
        ),
    )  # fmt: skip
    return run_dir


def test_bars_are_the_user_time_split_by_the_samples_shares_and_the_kernel(
    run_dir: Path, tmp_path: Path
) -> None:
    content = build_content(run_dir, apps_dir=write_apps(tmp_path / "apps"))
    assert content.profiles is not None
    [api] = content.profiles.scenarios
    flask = next(bar for bar in api.bars if bar.app == "flask")
    # 1,000 requests: 1.4 ms of user time per request split 10/30/60 by the samples, 0.4 ms in the kernel
    assert {s.layer: s.ms for s in flask.segments} == pytest.approx(
        {"server": 0.14, "framework": 0.42, "orm": 0.84, "kernel": 0.4}
    )
    assert sum(s.share for s in flask.segments) == pytest.approx(1.0)
    assert flask.cpu_ms == "1.80"  # the profiled trial's measured CPU per request
    # 100 samples at 100 Hz: 1.0 ms of Python per request; (1.0 + 0.4) / 1.8
    assert flask.accounted == "78%: Python 1.000 read + 0.000 unread of user 1.400, kernel 0.400 ms"
    assert flask.functions[0].name == "Session.execute (sqlalchemy.orm.session)"


def test_a_record_without_user_and_system_time_gets_the_shares_of_the_measured_cpu(
    run_dir: Path, tmp_path: Path
) -> None:
    content = build_content(run_dir, apps_dir=write_apps(tmp_path / "apps"))
    assert content.profiles is not None
    [api] = content.profiles.scenarios
    django = next(bar for bar in api.bars if bar.app == "django")
    measured = content.cells[(content.cells["app"] == "django") & (content.cells["scenario"] == "api")]
    cpu_ms = float(measured["cpu_ms_per_request_any"].iloc[0])
    assert {s.layer: s.ms for s in django.segments} == pytest.approx(
        {"server": 0.1 * cpu_ms, "framework": 0.3 * cpu_ms, "orm": 0.6 * cpu_ms}
    )
    assert django.accounted == "100%"  # 100 samples at 100 Hz against 1.0 s of measured CPU
    assert [bar.app for bar in api.bars] == ["django", "flask"]  # fastapi has no profile
    assert content.profiles.failures == (
        (
            "fastapi/uvicorn api sqlite",
            "py-spy exited with code 1: Permission Denied",
            "give it CAP_SYS_PTRACE",
        ),
    )


def test_the_page_shows_the_section_and_the_flame_graphs_sit_beside_it(run_dir: Path, tmp_path: Path) -> None:
    files = write_report(run_dir, apps_dir=write_apps(tmp_path / "apps"))
    page = html.unescape(files.html.read_text(encoding="utf-8"))
    assert "Where the time goes" in page
    assert "<script" not in page
    assert "api, where its CPU goes (gunicorn): orm" in page  # the comparison table's Performance row
    assert "give it CAP_SYS_PTRACE" in page
    flame = run_dir / "flame-flask-api.svg"
    assert 'href="flame-flask-api.svg"' in page
    svg = flame.read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "Session.execute" in svg and "<script" not in svg
