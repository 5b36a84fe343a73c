"""bench/gate/ab.py without load: the interleaved schedule, the rows it writes, the worktree, the tree
guard."""

from __future__ import annotations

import math
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bench.config import ROOT
from bench.errors import CheckInputError
from bench.gate import ab
from bench.gate.ab import (
    AbCell,
    AbSettings,
    AbStep,
    ab_schedule,
    git_worktree,
    restart_for_round,
    run_schedule,
    runner_measurer,
    side_a_python,
    verify_tree,
)
from bench.gate.decisions import Verdict
from bench.gate.samples import VARIANT_A, VARIANT_B
from bench.gate.settings import GateSettings
from bench.gate.verdicts import check_run
from bench.results import RESULTS_FILE, ResultRow
from bench.run.profiles import Profile
from tests.bench.synthetic_gate import trial_rows, write_run

CELLS = [
    AbCell(app, "server", scenario, 32) for app in ("fastapi", "flask") for scenario in ("json", "db", "api")
]


def test_every_round_measures_each_cell_once_per_side_back_to_back() -> None:
    schedule = ab_schedule(CELLS, pairs=4, seed=1)
    assert len(schedule) == len(CELLS) * 4 * 2
    assert Counter((step.cell, step.variant) for step in schedule) == {
        (cell, variant): 4 for cell in CELLS for variant in (VARIANT_A, VARIANT_B)
    }
    for first, second in zip(schedule[::2], schedule[1::2], strict=True):
        assert first.cell == second.cell and first.trial == second.trial
        assert {first.variant, second.variant} == {VARIANT_A, VARIANT_B}


def test_which_side_goes_first_alternates_between_rounds_and_cells() -> None:
    schedule = ab_schedule(CELLS, pairs=4, seed=1)
    firsts = {(step.cell, step.trial): step.variant for step in schedule[::2]}
    for cell in CELLS:
        assert [firsts[(cell, trial)] for trial in range(1, 5)] in (
            ["A", "B", "A", "B"],
            ["B", "A", "B", "A"],
        )
    assert Counter(firsts[(cell, 1)] for cell in CELLS) == {VARIANT_A: 3, VARIANT_B: 3}


def test_the_cell_order_is_shuffled_and_reproducible() -> None:
    schedule = ab_schedule(CELLS, pairs=3, seed=7)
    assert schedule == ab_schedule(CELLS, pairs=3, seed=7)
    rounds = [[step.cell for step in schedule[::2] if step.trial == trial] for trial in (1, 2, 3)]
    assert len({tuple(order) for order in rounds}) > 1


class Recorder:
    """A fake progress display."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.done: list[ResultRow] = []

    def cell_started(self, label: str) -> None:
        self.started.append(label)

    def cell_done(self, row: ResultRow) -> None:
        self.done.append(row)


def test_rows_are_written_with_variant_and_round_and_judged_in_pairs(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path / "ab", [])
    drift = iter(1.0 + 0.4 * math.sin(i / 5) ** 2 for i in range(1000))  # slow stretches come and go

    def measure(step: AbStep) -> ResultRow:
        # B burns 20% more CPU per request; the runner's own labels are overwritten by the schedule's.
        cpu = 0.5 * next(drift) * (1.2 if step.variant == VARIANT_B else 1.0)
        return trial_rows(app=step.cell.app, server="server", scenario=step.cell.scenario, cpu_ms=[cpu])[0]

    progress = Recorder()
    schedule = ab_schedule(CELLS[:2], pairs=6, seed=3)
    run_schedule(schedule, measure, results_path=run_dir / RESULTS_FILE, progress=progress)
    assert len(progress.done) == len(schedule) and progress.started[0].startswith(schedule[0].variant)
    assert [(row.variant, row.trial) for row in progress.done] == [(s.variant, s.trial) for s in schedule]
    outcome = check_run(run_dir, settings=GateSettings())
    assert outcome.report.mode == "ab" and outcome.report.failed
    assert {c.verdict for c in outcome.report.comparisons} == {Verdict.WORSE}


def test_every_round_gets_new_server_processes() -> None:
    seen: dict[tuple[str, str, str], int] = {}
    steps = ab_schedule(CELLS, pairs=3, seed=5)
    restarts = [restart_for_round(seen, (s.variant, s.cell.app, s.cell.server), s.trial) for s in steps]
    first_of_round = set()
    expected = []
    for step in steps:
        key = (step.variant, step.cell.app, step.cell.server, step.trial)
        expected.append(step.trial > 1 and key not in first_of_round)
        first_of_round.add(key)
    assert restarts == expected
    assert sum(restarts) == 2 * len({(c.app, c.server) for c in CELLS}) * 2  # rounds 2 and 3, both sides


def test_injection_reaches_only_side_b_of_the_chosen_apps() -> None:
    settings = AbSettings(ref="HEAD", profile=Profile(name="t"), inject_cpu_us=40, inject_apps=("flask",))
    assert settings.injected_env(VARIANT_B, "flask") == {"BENCH_INJECT_CPU_US": "40"}
    assert settings.injected_env(VARIANT_B, "fastapi") == {"BENCH_INJECT_CPU_US": "0"}
    assert settings.injected_env(VARIANT_A, "flask") == {"BENCH_INJECT_CPU_US": "0"}
    everywhere = AbSettings(ref="HEAD", profile=Profile(name="t"), inject_cpu_us=40)
    assert everywhere.injected_env(VARIANT_B, "django") == {"BENCH_INJECT_CPU_US": "40"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "app.txt").write_text("old\n")
    git(repo, "add", "app.txt")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "old")
    (repo / "app.txt").write_text("new, uncommitted\n")
    return repo


def test_the_worktree_holds_the_revision_and_is_removed_after(repo: Path) -> None:
    with git_worktree("HEAD", repo=repo) as (root, commit):
        assert (root / "app.txt").read_text() == "old\n"
        assert commit == git(repo, "rev-parse", "HEAD").strip()
        assert str(root) in git(repo, "worktree", "list")
    assert not root.exists()
    assert str(root) not in git(repo, "worktree", "list")
    assert (repo / "app.txt").read_text() == "new, uncommitted\n"


def test_an_unknown_revision_is_unusable_input(repo: Path) -> None:
    with (
        pytest.raises(CheckInputError, match="not a git revision"),
        git_worktree("no-such-branch", repo=repo),
    ):
        pass


def test_side_a_gets_its_own_environment_only_when_its_lock_differs(repo: Path) -> None:
    (repo / "uv.lock").write_text("locked = 1\n")
    git(repo, "add", "uv.lock")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "lock")
    commit = git(repo, "rev-parse", "HEAD").strip()
    built: list[Path] = []

    def build(root: Path) -> Path:
        built.append(root)
        return root / ".venv" / "bin" / "python"

    assert side_a_python(repo / "A", commit=commit, build=build, repo=repo) is None
    (repo / "uv.lock").write_text("locked = 2\n")  # the working tree upgrades a package
    own = side_a_python(repo / "A", commit=commit, build=build, repo=repo)
    assert own == str(repo / "A" / ".venv" / "bin" / "python")
    assert built == [repo / "A"]


def test_without_uv_side_a_environment_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ab, "find_uv", lambda: None)
    with pytest.raises(CheckInputError, match="uv"):
        ab.build_environment(tmp_path)


def test_a_server_running_outside_its_tree_is_caught(tmp_path: Path) -> None:
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], cwd=tmp_path) as process:
        try:
            verify_tree(process.pid, root=tmp_path, what="side A of flask")
            with pytest.raises(CheckInputError, match="side A of flask's server ran in"):
                verify_tree(process.pid, root=tmp_path / "elsewhere", what="side A of flask")
        finally:
            process.kill()


def test_the_runner_seam_builds_one_runner_per_side_and_environment(tmp_path: Path) -> None:
    # No step is measured: this checks that bench/run/runner.py and bench/run/pool.py still take what ab.py
    # gives.
    settings = AbSettings(
        ref="HEAD",
        profile=Profile(name="t", apps=("fastapi", "flask"), scenarios=("json",)),
        inject_cpu_us=40,
        inject_apps=("fastapi",),
    )
    (tmp_path / "work").mkdir()
    (tmp_path / "logs").mkdir()
    with runner_measurer(
        settings,
        trees={VARIANT_A: ROOT, VARIANT_B: ROOT},
        apps=["fastapi", "flask"],
        workdir=tmp_path / "work",
        logs_dir=tmp_path / "logs",
    ) as measure:
        assert callable(measure)
    assert sorted(path.name for path in (tmp_path / "logs").iterdir()) == ["A1", "B2", "B3"]
