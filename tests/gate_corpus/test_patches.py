"""The gate's corpus of real changes: every patch applies cleanly to this tree, and the manifest describes
each one (a kind, the cells it touches with a size, where the size comes from)."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bench.config import APPS_DIR, ROOT

CORPUS = Path(__file__).parent
MANIFEST = CORPUS / "manifest.toml"
KINDS = {"extra query", "middleware", "heavier serializer", "template change", "slower helper"}


def changes() -> list[dict[str, Any]]:
    with MANIFEST.open("rb") as manifest:
        listed: list[dict[str, Any]] = tomllib.load(manifest)["change"]
    return listed


@pytest.mark.parametrize("change", changes(), ids=lambda change: change["patch"])
def test_the_patch_applies_cleanly(change: dict[str, Any]) -> None:
    result = subprocess.run(
        ["git", "apply", "--check", str(CORPUS / change["patch"])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("change", changes(), ids=lambda change: change["patch"])
def test_the_manifest_describes_the_change(change: dict[str, Any]) -> None:
    assert change["kind"] in KINDS
    assert change["source"] in {"measured", "estimated"}
    assert change["cells"]
    for label, size in change["cells"].items():
        app_server, scenario = label.split(" ")
        app = app_server.split("/")[0]
        assert (APPS_DIR / f"{app}_app").is_dir()
        assert scenario in {"db", "fortunes"}  # the ci profile's scenarios
        assert 0 < size < 1


def test_every_patch_is_in_the_manifest_and_every_kind_is_covered() -> None:
    listed = {change["patch"] for change in changes()}
    assert listed == {path.name for path in CORPUS.glob("*.patch")}
    assert {change["kind"] for change in changes()} == KINDS


def test_the_sizes_span_one_to_twenty_percent() -> None:
    sizes = [size for change in changes() for size in change["cells"].values()]
    assert min(sizes) <= 0.01
    assert max(sizes) >= 0.2
