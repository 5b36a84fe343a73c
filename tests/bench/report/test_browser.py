"""index.html in a real headless browser (Debian's chromium driven by Playwright): it renders with JavaScript
off, logs no console error, requests nothing beyond the file itself, and shows its table and charts.

The screenshot lands in pytest's temporary folder (report.png); `--basetemp DIR` puts it where you can see it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Request, Route, sync_playwright

from bench.report.build import write_report
from tests.bench.synthetic_run import flag, synthetic_rows, write_apps, write_run

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_SCHEMES = ("file://", "data:")


def ensure_chromium() -> Path:
    """Return the chromium binary, installing Debian's package first when it is missing and we are root."""
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0:
        pytest.fail(
            f"{CHROMIUM} is missing and this test is not root, so it cannot install it: "
            "run `sudo apt-get update && sudo apt-get install -y chromium`"
        )
    apt = shutil.which("apt-get")
    if apt is None:
        pytest.fail(f"{CHROMIUM} is missing and there is no apt-get to install it: install chromium by hand")
    for command in ([apt, "update"], [apt, "install", "-y", "chromium"]):
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            pytest.fail(f"`{' '.join(command)}` failed:\n{completed.stderr[-2000:]}")
    if not CHROMIUM.exists():
        pytest.fail(f"apt-get installed chromium but {CHROMIUM} is still missing")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = ensure_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(executable), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="module")
def report_page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report of a synthetic run with two user counts, an earlier run, and flagged and missing cells."""
    base = tmp_path_factory.mktemp("browser")
    apps_dir = write_apps(base / "apps")
    reports = base / "reports"
    write_run(reports / "20241201-120000", synthetic_rows(seed=1, trials=2))
    rows = synthetic_rows(users=(16, 64))
    rows = flag(rows, app="fastapi", scenario="plaintext", generator_bound=True, generator_cpu_util=0.97)
    rows = flag(rows, app="flask", scenario="io", trials=[1], error="server died mid-run (exit code -9)")
    rows = [
        row for row in rows if not (row.app == "django" and row.scenario == "fortunes" and row.users == 16)
    ]
    run_dir = write_run(reports / "20250101-120000", rows)
    return write_report(run_dir, apps_dir=apps_dir).html


def test_report_has_no_script(report_page: Path) -> None:
    assert "<script" not in report_page.read_text(encoding="utf-8").lower()


def test_report_renders_offline_without_errors(
    browser: Browser, report_page: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    page: Page = context.new_page()
    console_errors: list[str] = []
    page.on(
        "console", lambda message: console_errors.append(message.text) if message.type == "error" else None
    )
    page.on("pageerror", lambda error: console_errors.append(str(error)))
    leaving: list[str] = []

    def keep_local(route: Route, request: Request) -> None:
        if request.url.startswith(LOCAL_SCHEMES):
            route.continue_()
        else:
            leaving.append(request.url)
            route.abort()

    page.route("**/*", keep_local)
    page.goto(report_page.as_uri(), wait_until="load")

    assert page.locator("table.comparison").is_visible()
    assert page.locator("table.comparison tbody tr").count() >= 10
    assert page.locator("#warnings").is_visible()
    charts = page.locator("figure svg")
    assert charts.count() >= 5, "throughput, latency, users, CPU, memory and history charts expected"
    for index in range(charts.count()):
        chart = charts.nth(index)
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        assert box is not None and box["width"] > 400 and box["height"] > 150, (
            f"chart {index} is too small: {box}"
        )
    screenshot = tmp_path_factory.getbasetemp() / "report.png"
    page.screenshot(path=str(screenshot), full_page=True)
    context.close()

    assert console_errors == []
    assert leaving == [], f"the report requested resources off the machine: {leaving}"
    assert screenshot.stat().st_size > 10_000
