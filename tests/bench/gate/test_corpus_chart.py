"""bench/gate/corpus_chart.py: detection against size as an SVG that parses and is the same every time."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from pathlib import Path

from bench.gate.corpus_chart import detection_svg
from bench.gate.corpus_rates import corpus_rates, judged_run, parse_run_name
from bench.gate.decisions import Verdict
from tests.bench.synthetic_corpus import CHANGES, read, write_instructions

SVG = "{http://www.w3.org/2000/svg}"


def test_the_chart_is_an_svg_with_each_point_labelled_by_its_runs(tmp_path: Path) -> None:
    runs = [
        judged_run(
            parse_run_name(f"django-sort-r{round_}-b{round_ % 2}"),
            read(
                write_instructions(tmp_path / f"{round_}.json", {"django/gunicorn fortunes": (verdict, 0.01)})
            ),
        )
        for round_, verdict in enumerate((Verdict.WORSE, Verdict.WORSE, Verdict.UNCHANGED), start=1)
    ]
    rates = corpus_rates(CHANGES, runs)
    svg = detection_svg(rates)
    root = ElementTree.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    texts = {"".join(element.itertext()).strip() for element in root.iter(f"{SVG}text")}
    assert {"n=3", "1%", "20%", "instructions"} <= texts
    assert detection_svg(rates) == svg  # no date, fixed ids: the same figures give the same file
