"""The gate's detection and false-alarm rates from a campaign over the corpus of real changes. Pure.

A campaign (docs/gate.md) runs `bench check --ab HEAD --json DIR/<name>-r<round>-b<busy>.json` round after
round: once per corpus patch applied to the working tree, judged on the patch's own cells (`--apps
--scenarios`), and once on an unchanged tree with every cell (name "unchanged"); b1 beside a busy loop on one
core, b0 quiet. A name may carry the mechanism before the round (`<name>-wallclock-r3-b1`); the JSON's "mode"
says it anyway.

From tests/gate_corpus/manifest.toml (each patch's cells and their expected size) and the judged runs:
- a patch's run is detected when any of the patch's cells is judged worse; one that could not judge (the
  check's exit 2, a patch cell inconclusive or missing, no JSON at all) counts as not detected, and is listed;
- each patch cell goes to the size bucket (1, 2, 5, 10, 20%) nearest its expected size on a log scale; a
  bucket counts each run of a patch once (detected when one of its cells in that bucket is judged worse);
- an unchanged run is a false alarm when the check failed (a cell judged worse);
- beside the buckets, the runs of patches with a cell at or above the check's own minimum effect (its
  JSON's settings: 2% in instructions mode by default, 10% in the wall-clock A/B), detected when one of
  those cells is judged worse: what a gate's "detects changes of its minimum effect" promise is measured
  by, since a bucket holds sizes on both sides of it (2% holds 1.71% and 2.96%).
Each mechanism (instructions, wallclock) is counted apart, each count also split busy / quiet.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench.errors import CheckInputError

INSTRUCTIONS, WALLCLOCK = "instructions", "wallclock"
MECHANISMS = (INSTRUCTIONS, WALLCLOCK)
# The "mode" each kind of `bench check` JSON records: the instruction counts' report, or the wall-clock A/B's
# GateReport ("baseline" is a stored-baseline check, which a campaign over the corpus does not make).
JSON_MODES = {"instructions": INSTRUCTIONS, "ab": WALLCLOCK}
UNCHANGED = "unchanged"
SIZE_BUCKETS = (0.01, 0.02, 0.05, 0.10, 0.20)
EXIT_PASSED, EXIT_FAILED, EXIT_NOT_JUDGED = 0, 1, 2  # `bench check`'s exit codes
WORSE, INCONCLUSIVE = "worse", "inconclusive"

_RUN_NAME = re.compile(
    rf"^(?P<change>.+?)(?:-(?P<mechanism>{'|'.join(MECHANISMS)}))?-r(?P<round>\d+)-b(?P<busy>[01])$"
)
_LOG_OUTCOME = re.compile(r"^rc (?P<rc>\d+) wall (?P<wall>\d+(?:\.\d+)?)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class RunName:
    """What a campaign file's name says: the patch stem (or "unchanged"), the round, beside a busy loop."""

    stem: str  # the file name without its suffix, as listed
    change: str
    round: int
    busy: bool
    mechanism: str | None  # when the name carries one


def parse_run_name(stem: str) -> RunName:
    """Return what a campaign file's name (without .json or .log) says, or raise CheckInputError."""
    match = _RUN_NAME.match(stem)
    if not match:
        raise CheckInputError(
            f"{stem!r} is not a campaign run's name: "
            f"<patch stem or {UNCHANGED}>[-<mechanism>]-r<round>-b<0|1>"
        )
    return RunName(
        stem=stem,
        change=match["change"],
        round=int(match["round"]),
        busy=match["busy"] == "1",
        mechanism=match["mechanism"],
    )


def log_outcome(text: str) -> tuple[int, float] | None:
    """Return the exit code and wall seconds of a campaign log's last "rc N wall S" line (None: running)."""
    found = list(_LOG_OUTCOME.finditer(text))
    if not found:
        return None
    return int(found[-1]["rc"]), float(found[-1]["wall"])


@dataclass(frozen=True)
class CellOutcome:
    verdict: str
    change: float | None  # B / A - 1 of the gated figure


@dataclass(frozen=True)
class JudgedRun:
    """One check of the campaign: its name, mechanism, outcome and each cell's verdict."""

    name: RunName
    mechanism: str
    exit_code: int
    cells: Mapping[str, CellOutcome]  # by "app/server scenario", as the manifest names cells
    check_seconds: float | None = None
    has_verdicts: bool = True  # False: the check wrote no JSON (an error before any verdict)
    min_effect: float | None = None  # the check's minimum effect, from its JSON's settings


def cell_label(cell: Mapping[str, object]) -> str:
    """Return a cell's name as the manifest writes it: "app/server scenario"."""
    return f"{cell['app']}/{cell['server']} {cell['scenario']}"


def _severity(verdict: str) -> int:
    return {WORSE: 0, INCONCLUSIVE: 1}.get(verdict, 2)


def _mechanism(name: RunName, data: Mapping[str, object]) -> str:
    mode = str(data.get("mode"))
    if mode not in JSON_MODES:
        raise CheckInputError(
            f"{name.stem}: a check of mode {mode!r}, not an A/B check ({', '.join(JSON_MODES)})"
        )
    mechanism = JSON_MODES[mode]
    if name.mechanism and name.mechanism != mechanism:
        raise CheckInputError(f"{name.stem}: the name says {name.mechanism}, the JSON says {mechanism}")
    return mechanism


def judged_run(name: RunName, data: Mapping[str, object], *, check_seconds: float | None = None) -> JudgedRun:
    """Return a run from the JSON `bench check --json` wrote (either mechanism's shape)."""
    mechanism = _mechanism(name, data)
    cells: dict[str, CellOutcome] = {}
    try:
        if mechanism == INSTRUCTIONS:
            for item in data["cells"]:  # type: ignore[attr-defined]
                cells[cell_label(item["cell"])] = CellOutcome(item["verdict"], item.get("change"))
        else:
            gated: dict[str, list[CellOutcome]] = {}
            for item in data["comparisons"]:  # type: ignore[attr-defined]
                if item["gating"]:
                    gated.setdefault(cell_label(item["cell"]), []).append(
                        CellOutcome(item["verdict"], item.get("change"))
                    )
            # Several gated metrics of one cell (--metric rps): its worst verdict, the first metric's change.
            cells = {
                label: CellOutcome(min((o.verdict for o in outcomes), key=_severity), outcomes[0].change)
                for label, outcomes in gated.items()
            }
        failed, judged = bool(data["failed"]), bool(data["judged"])
        min_effect = data.get("settings", {}).get("min_effect")  # type: ignore[attr-defined]
    except (KeyError, TypeError) as exc:
        raise CheckInputError(f"{name.stem}: not the JSON of `bench check --json` ({exc!r})") from None
    exit_code = EXIT_FAILED if failed else EXIT_PASSED if judged else EXIT_NOT_JUDGED
    return JudgedRun(
        name=name,
        mechanism=mechanism,
        exit_code=exit_code,
        cells=cells,
        check_seconds=check_seconds,
        min_effect=float(min_effect) if isinstance(min_effect, int | float) else None,
    )


def run_without_verdicts(
    name: RunName, *, exit_code: int, check_seconds: float | None, mechanisms_seen: Sequence[str]
) -> JudgedRun:
    """Return a check that ended without a JSON (its log's exit code), under the mechanism its name gives or,
    for a name without one, the one mechanism of mechanisms_seen (the other names without one)."""
    mechanism = name.mechanism or (mechanisms_seen[0] if len(set(mechanisms_seen)) == 1 else None)
    if mechanism is None:
        raise CheckInputError(
            f"{name.stem}: no JSON, and neither its name nor the other runs say which mechanism it ran"
        )
    return JudgedRun(
        name=name,
        mechanism=mechanism,
        exit_code=exit_code if exit_code != EXIT_PASSED else EXIT_NOT_JUDGED,
        cells={},
        check_seconds=check_seconds,
        has_verdicts=False,
    )


def changes_from_manifest(manifest: Mapping[str, object]) -> dict[str, dict[str, float]]:
    """Return each patch's stem -> {cell label: expected size} from manifest.toml's data."""
    changes: dict[str, dict[str, float]] = {}
    try:
        for change in manifest["change"]:  # type: ignore[attr-defined]
            stem = str(change["patch"]).removesuffix(".patch")
            cells = {str(label): float(size) for label, size in change["cells"].items()}
            if not cells or any(size <= 0 for size in cells.values()):
                raise CheckInputError(f"manifest: {stem} needs cells with positive expected sizes")
            changes[stem] = cells
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise CheckInputError(f"manifest: not a list of [[change]] with patch and cells ({exc!r})") from None
    return changes


def size_bucket(expected: float) -> float:
    """Return the bucket nearest the expected size on a log scale (0.8% -> 1%, 3% -> 2%, 7.9% -> 10%)."""
    return min(SIZE_BUCKETS, key=lambda bucket: abs(math.log(expected / bucket)))


@dataclass(frozen=True)
class Tally:
    """Runs and hits (detections, or false alarms), and how many of each were beside a busy loop."""

    runs: int = 0
    hits: int = 0
    busy_runs: int = 0
    busy_hits: int = 0

    @property
    def quiet_runs(self) -> int:
        return self.runs - self.busy_runs

    @property
    def quiet_hits(self) -> int:
        return self.hits - self.busy_hits

    def beside(self, *, busy: bool) -> tuple[int, int]:
        """Return (hits, runs) of the runs beside a busy loop, or of the quiet ones."""
        return (self.busy_hits, self.busy_runs) if busy else (self.quiet_hits, self.quiet_runs)

    def add(self, *, hit: bool, busy: bool) -> Tally:
        return Tally(
            runs=self.runs + 1,
            hits=self.hits + hit,
            busy_runs=self.busy_runs + busy,
            busy_hits=self.busy_hits + (hit and busy),
        )


@dataclass(frozen=True)
class PatchCell:
    label: str
    expected: float
    bucket: float
    median_change: float | None  # over the runs that measured the cell
    measured: int  # runs with a change for the cell


@dataclass(frozen=True)
class PatchRates:
    patch: str
    runs: int
    detected: int
    cells: tuple[PatchCell, ...]


@dataclass(frozen=True)
class MechanismRates:
    """One mechanism's figures over the campaign."""

    mechanism: str
    buckets: tuple[tuple[float, Tally], ...]  # every size bucket, in order, runs or none
    unchanged: Tally  # hits: false alarms
    beyond_effect: Tally  # runs of patches with a cell at or above the check's minimum effect: detections
    min_effects: tuple[float, ...]  # the minimum effects the runs' checks used (one, unless settings changed)
    patches: tuple[PatchRates, ...]  # every patch of the manifest, smallest expected size first
    not_judged: tuple[tuple[str, str], ...]  # (run's file stem, why), in the order of the names
    check_seconds: float | None  # median wall time of the judged unchanged runs (every cell: `make check`)


def _why_not_judged(run: JudgedRun, labels: Sequence[str]) -> str | None:
    if not run.has_verdicts:
        return f"no verdicts (exit {run.exit_code})"
    missing = [label for label in labels if label not in run.cells]
    unsure = [label for label in labels if label in run.cells and run.cells[label].verdict == INCONCLUSIVE]
    reasons = [f"{label} inconclusive" for label in unsure] + [f"{label} not measured" for label in missing]
    if run.exit_code == EXIT_NOT_JUDGED:
        reasons.insert(0, "nothing judged (exit 2)")
    return "; ".join(reasons) or None


def _detected(run: JudgedRun, labels: Sequence[str]) -> bool:
    return any(label in run.cells and run.cells[label].verdict == WORSE for label in labels)


def _patch_rates(patch: str, expected: Mapping[str, float], runs: Sequence[JudgedRun]) -> PatchRates:
    cells = []
    for label, size in expected.items():
        changes = [
            change for run in runs if (change := getattr(run.cells.get(label), "change", None)) is not None
        ]
        cells.append(
            PatchCell(
                label=label,
                expected=size,
                bucket=size_bucket(size),
                median_change=statistics.median(changes) if changes else None,
                measured=len(changes),
            )
        )
    return PatchRates(
        patch=patch,
        runs=len(runs),
        detected=sum(_detected(run, list(expected)) for run in runs),
        cells=tuple(cells),
    )


def mechanism_rates(
    mechanism: str, changes: Mapping[str, Mapping[str, float]], runs: Sequence[JudgedRun]
) -> MechanismRates:
    """Return one mechanism's figures from its runs (the others' are left out)."""
    mine = sorted((run for run in runs if run.mechanism == mechanism), key=lambda run: run.name.stem)
    buckets = dict.fromkeys(SIZE_BUCKETS, Tally())
    unchanged = beyond_effect = Tally()
    min_effects = tuple(sorted({run.min_effect for run in mine if run.min_effect is not None}))
    not_judged: list[tuple[str, str]] = []
    for run in mine:
        labels = list(run.cells) if run.name.change == UNCHANGED else list(changes[run.name.change])
        why = _why_not_judged(run, labels)
        if why:
            not_judged.append((run.name.stem, why))
        if run.name.change == UNCHANGED:
            unchanged = unchanged.add(hit=run.exit_code == EXIT_FAILED, busy=run.name.busy)
            continue
        by_bucket: dict[float, list[str]] = {}
        for label, size in changes[run.name.change].items():
            by_bucket.setdefault(size_bucket(size), []).append(label)
        for bucket, bucket_labels in by_bucket.items():
            buckets[bucket] = buckets[bucket].add(hit=_detected(run, bucket_labels), busy=run.name.busy)
        # A check that wrote no JSON is held to the minimum effect of the mechanism's other runs (if one).
        effect = run.min_effect or (min_effects[0] if len(min_effects) == 1 else None)
        large = [label for label, size in changes[run.name.change].items() if effect and size >= effect]
        if large:
            beyond_effect = beyond_effect.add(hit=_detected(run, large), busy=run.name.busy)
    # A check that stopped before any verdict took no full check's time.
    seconds = [
        run.check_seconds
        for run in mine
        if run.name.change == UNCHANGED and run.has_verdicts and run.check_seconds is not None
    ]
    return MechanismRates(
        mechanism=mechanism,
        buckets=tuple(buckets.items()),
        unchanged=unchanged,
        beyond_effect=beyond_effect,
        min_effects=min_effects,
        patches=tuple(
            _patch_rates(patch, expected, [run for run in mine if run.name.change == patch])
            for patch, expected in sorted(changes.items(), key=lambda item: (max(item[1].values()), item[0]))
        ),
        not_judged=tuple(not_judged),
        check_seconds=statistics.median(seconds) if seconds else None,
    )


def corpus_rates(
    changes: Mapping[str, Mapping[str, float]], runs: Sequence[JudgedRun]
) -> list[MechanismRates]:
    """Return the figures of each mechanism that has runs; runs of patches not in the manifest: an error."""
    unknown = sorted({run.name.change for run in runs} - set(changes) - {UNCHANGED})
    if unknown:
        raise CheckInputError(
            f"runs of patches not in the manifest: {', '.join(unknown)} (known: {', '.join(changes)})"
        )
    present = {run.mechanism for run in runs}
    return [mechanism_rates(mechanism, changes, runs) for mechanism in MECHANISMS if mechanism in present]


def share(hits: int, runs: int) -> str:
    """Return "k/n (p%)", or "—" without runs."""
    return f"{hits}/{runs} ({hits / runs:.0%})" if runs else "—"


def count(hits: int, runs: int) -> str:
    return f"{hits}/{runs}" if runs else "—"


def bucket_name(bucket: float) -> str:
    return f"{bucket:.0%}"


def effect_name(min_effects: Sequence[float]) -> str:
    """Return "≥ 2%" for the runs' minimum effect ("≥ 2%/3%" when the checks used several)."""
    return "≥ " + ("/".join(f"{effect:.0%}" for effect in min_effects) or "min effect")
