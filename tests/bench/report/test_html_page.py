"""bench/report/html.py and its templates: what the run's data says is escaped by the engine, the charts' SVG
is not, and the page stays one file that runs nothing and requests nothing."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from bench.report import aggregate as a
from bench.report.build import build_content, write_report
from bench.report.charts import Chart
from bench.report.html import STYLE_PATH, TEMPLATES_DIR, render_html
from tests.bench.report.synthetic_sweep import with_sweeps
from tests.bench.synthetic_run import METADATA, flag, synthetic_rows, write_apps, write_run

SCRIPT = "<script>alert('run data')</script>"
ESCAPED_SCRIPT = "&lt;script&gt;"
# The SVG namespaces are the only URLs a page may name: they are identifiers, never requested.
EXTERNAL_URL = re.compile(r'(?<!xmlns=")(?<!xmlns:xlink=")https?://')
# A link, a source or a CSS url() that is not a fragment of the page itself (such as the SVG's clip paths):
# relative and protocol-relative URLs would be requests too.
LINK_OUT = re.compile(r"""(?:(?:src|href)\s*=\s*|url\(\s*)(?!["']?#)""", re.IGNORECASE)


@pytest.fixture
def apps_dir(tmp_path: Path) -> Path:
    return write_apps(tmp_path / "apps")


def assert_self_contained(page: str) -> None:
    assert "<script" not in page.lower(), "the page runs nothing"
    assert EXTERNAL_URL.findall(page) == [], "the page names no URL"
    assert LINK_OUT.findall(page) == [], "every link and source points into the page"
    assert "<link" not in page.lower() and "@import" not in page, "the stylesheet is inline"


def test_the_runs_data_is_escaped(tmp_path: Path, apps_dir: Path) -> None:
    rows = flag(synthetic_rows(scenarios=("json", "db")), app="flask", scenario="db", error=f"died {SCRIPT}")
    metadata = json.loads(json.dumps(METADATA))
    metadata["command_line"] = f'python -m bench run --apps "{SCRIPT}" & more'
    run_dir = write_run(tmp_path / "reports" / "run", rows, metadata=metadata)

    page = write_report(run_dir, apps_dir=apps_dir).html.read_text(encoding="utf-8")

    assert_self_contained(page)
    assert ESCAPED_SCRIPT in page
    text = html.unescape(page)
    assert f"died {SCRIPT}" in text, "the warning's message, as it was recorded"
    assert f'--apps "{SCRIPT}" & more' in text, "the metadata's command line, as it was recorded"
    assert page.count("<svg ") >= 4, "the charts are inline SVG, not escaped text"


def test_only_the_charts_svg_passes_unescaped(tmp_path: Path, apps_dir: Path) -> None:
    run_dir = write_run(tmp_path / "reports" / "run", synthetic_rows(scenarios=("json",)))
    content = build_content(run_dir, apps_dir=apps_dir)
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect id="mark"/></svg>'
    content = replace(
        content,
        run_id=f"run {SCRIPT}",
        notes=[f"a note {SCRIPT}"],
        warnings=[a.CellWarning("flask", "gunicorn", "json", 32, "noisy", f"a warning {SCRIPT}")],
        charts=[Chart('x" onload="alert(1)', f"title {SCRIPT}", f"caption {SCRIPT}", svg)],
    )

    page = render_html(content)

    assert_self_contained(page)
    assert svg in page, "the SVG is embedded as it is"
    assert 'id="chart-x&#34; onload=&#34;alert(1)"' in page, "attributes are escaped too"
    text = html.unescape(page)
    for shown in ("a note", "a warning", "title", "caption", "run"):
        assert f"{shown} {SCRIPT}" in text
    assert page.count(ESCAPED_SCRIPT) >= 7, "title, header, footer, note, warning, chart title and caption"


def test_the_stylesheet_is_inlined(tmp_path: Path, apps_dir: Path) -> None:
    assert STYLE_PATH.parent == TEMPLATES_DIR and STYLE_PATH.is_file()
    run_dir = write_run(tmp_path / "reports" / "run", synthetic_rows(scenarios=("json",), trials=1))

    page = render_html(build_content(run_dir, apps_dir=apps_dir))

    style = STYLE_PATH.read_text(encoding="utf-8")
    assert "--ink:" in style
    (inlined,) = re.findall(r"<style>\n(.*?)</style>", page, flags=re.DOTALL)
    assert inlined == style, "the stylesheet, byte for byte, not escaped"
    assert_self_contained(page)


def test_the_open_loop_section_escapes_the_runs_data_and_stays_self_contained(
    tmp_path: Path, apps_dir: Path
) -> None:
    rows = [
        replace(row, wrk_error=f"wrk died {SCRIPT}") for row in with_sweeps(synthetic_rows(scenarios=("db",)))
    ]
    run_dir = write_run(tmp_path / "reports" / "run", rows)

    page = write_report(run_dir, apps_dir=apps_dir).html.read_text(encoding="utf-8")

    assert_self_contained(page)
    section = page[page.index('<section id="latency">') :]
    assert f"wrk died {ESCAPED_SCRIPT}" in section, "wrk's error, escaped"
    assert f"wrk died {SCRIPT}" in html.unescape(section)
    assert section.count("<svg ") == 1, "the latency chart is inline SVG, not escaped text"


def test_apps_the_run_cannot_tell_apart_share_a_place_in_alphabetical_order() -> None:
    import pandas as pd

    from bench.report import aggregate as a
    from bench.report.html import _score_line
    from bench.report.score import CPU_SCORE, EVERY_SCENARIO, Score
    from bench.report.ties import PairVerdict, Standing

    ranking = pd.DataFrame(
        {
            "app": ["flask", "fastapi", "django"],
            a.RANK: [1, 2, 3],
            a.SCORE: [0.93, 0.92, 0.80],
            a.SCORED_SCENARIOS: ["db, api"] * 3,
        }
    )
    standing = Standing(
        groups=[["fastapi", "flask"], ["django"]],
        unjudged={},
        verdicts=[
            PairVerdict("flask", "fastapi", 1.01, 0.97, 1.05),
            PairVerdict("flask", "django", 1.16, 1.1, 1.2),
        ],
    )
    line = _score_line(Score(CPU_SCORE, EVERY_SCENARIO, ranking), standing, recommended={"flask": "gunicorn"})
    assert line.ranking == [(1, "fastapi", "92%"), (1, "flask (gunicorn)", "93%"), (2, "django", "80%")]
    assert line.scenarios == "db, api"
