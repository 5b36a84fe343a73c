"""The report's section "Where the time goes": per scenario, each profiled cell's measured CPU per request
split by layer, its hottest functions, its flame graph, and what the profiler cost (pure: records, stacks
and measured figures in, formatted data out).

A bar is the profiled trial's CPU per request (user + system time of the server, from /proc): the Python
layers' shares of its user time, and its system time (the kernel: system calls) as a layer of its own. The
samples' time falls short of the user time (C code outside the GIL, and what else py-spy misses), so the
Python layers are scaled to the user time, not absolute. Beside it: how much of the measured CPU the samples
and the system time account for ((sampled + system) / measured, cpu_split.py), and the profiled trial's
throughput and CPU per request against the measured trials' (the profiler's overhead). A record without
user and system time (a run from before they were kept) gets the former bar: the measured trials' median
CPU per request split by the samples' shares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bench.report.layers.attribution import Breakdown, attribute
from bench.report.layers.cpu_split import KERNEL, CpuSplit, split_cpu
from bench.report.layers.flamegraph import render_flamegraph
from bench.report.layers.stacks import Stack
from bench.report.layers.table import LayerTable
from bench.report.rows import ordered_scenarios
from bench.results import ProfileRecord

COSTLIEST_SCENARIO = "api"  # the comparison table's Performance row names each app's costliest layers on it
COSTLIEST_LAYERS = 2
FLAME_PREFIX = "flame-"

# (app, server, scenario, users, db, variant)
CellKey = tuple[str, str, str, int, str, str]


def cell_key(record: ProfileRecord) -> CellKey:
    return (record.app, record.server, record.scenario, record.users, record.db, record.variant)


@dataclass(frozen=True)
class Measured:
    """A cell's measured figures: the medians of its measured (unprofiled) trials."""

    cpu_ms_per_request: float
    rps: float


@dataclass(frozen=True)
class LayerSegment:
    layer: str
    label: str
    colour: str
    ms: float  # CPU-ms per request
    share: float  # of the bar
    width: float  # percent of the scenario's longest bar


@dataclass(frozen=True)
class FunctionLine:
    name: str
    layer: str
    self_share: str
    total_share: str


@dataclass(frozen=True)
class ProfileBar:
    app: str
    server: str
    db: str
    cpu_ms: str  # the measured CPU per request the bar stands for (the profiled trial's, when split)
    segments: tuple[LayerSegment, ...]
    accounted: str  # (sampled + system time) / measured CPU of the profiled trial, with its parts
    overhead: str  # e.g. "req/s -4%, CPU per request +3%" (profiled trial against the measured ones)
    samples: int
    flame_file: str
    functions: tuple[FunctionLine, ...]


@dataclass(frozen=True)
class ScenarioProfiles:
    scenario: str
    bars: tuple[ProfileBar, ...]


@dataclass(frozen=True)
class ProfileSection:
    scenarios: tuple[ScenarioProfiles, ...]
    legend: tuple[tuple[str, str, str], ...]  # (layer, label, colour), in the table's order
    failures: tuple[tuple[str, str, str], ...]  # (cell, why there is no profile, how to allow it)
    settings: str  # e.g. "py-spy at 200 Hz, Python frames, 5 s per profiled trial"


def _percent_change(value: float, reference: float) -> str:
    return f"{value / reference - 1:+.0%}" if reference > 0 else "–"


def flame_name(record: ProfileRecord) -> str:
    """Return the file name of a record's flame graph, beside index.html."""
    return FLAME_PREFIX + record.stacks_file.rsplit("/", 1)[-1].removesuffix(".txt") + ".svg"


def _segment(layer: str, ms: float, *, total: float, table: LayerTable, longest: float) -> LayerSegment:
    return LayerSegment(
        layer=layer,
        label=table.label(layer),
        colour=table.colour(layer),
        ms=ms,
        share=ms / total if total > 0 else 0.0,
        width=100 * ms / longest if longest > 0 else 0.0,
    )


def bar_segments(
    breakdown: Breakdown, split: CpuSplit | None, *, measured_ms: float, table: LayerTable, longest: float
) -> tuple[LayerSegment, ...]:
    """Return a bar's segments. With the profiled trial's user and system time (split): the Python layers'
    shares of the user time, then the system time (the kernel) as a layer of its own. Without (a record from
    before they were kept): the Python layers' shares of the measured trials' CPU per request.

    The layers are shares of the user time, from the stacks py-spy read; its failed reads (about a third
    here, docs/methodology.md) count in the coverage, not in the shares."""
    if split is None:
        parts = [(layer, measured_ms * breakdown.share(layer)) for layer in breakdown.layers]
        total = measured_ms
    else:
        parts = [(layer, split.user_ms * breakdown.share(layer)) for layer in breakdown.layers]
        parts.append((KERNEL, split.system_ms))
        total = split.measured_ms
    return tuple(
        _segment(layer, ms, total=total, table=table, longest=longest) for layer, ms in parts if ms > 0
    )


def record_split(record: ProfileRecord, breakdown: Breakdown) -> CpuSplit | None:
    return split_cpu(
        busy_samples=breakdown.busy,
        rate_hz=record.rate_hz,
        requests=record.requests,
        user_s=record.server_user_s,
        system_s=record.server_system_s,
        failed_samples=record.failed_samples,
    )


def bar_length(record: ProfileRecord, breakdown: Breakdown, measured: Measured) -> float:
    """Return a bar's CPU-ms per request: the profiled trial's user + system time, or (without them) the
    measured trials' median."""
    split = record_split(record, breakdown)
    return split.measured_ms if split is not None else measured.cpu_ms_per_request


def _accounted(record: ProfileRecord, breakdown: Breakdown, split: CpuSplit | None) -> str:
    if split is not None and split.coverage is not None:
        return (
            f"{split.coverage:.0%}: Python {split.sampled_ms:.3f} read + {split.failed_ms:.3f} unread of "
            f"user {split.user_ms:.3f}, kernel {split.system_ms:.3f} ms"
        )
    sampled_s = breakdown.busy / record.rate_hz if record.rate_hz else 0.0
    return f"{sampled_s / record.server_cpu_s:.0%}" if record.server_cpu_s > 0 else "–"


def _bar(
    record: ProfileRecord, breakdown: Breakdown, measured: Measured, *, table: LayerTable, longest: float
) -> ProfileBar:
    split = record_split(record, breakdown)
    profiled_cpu = record.cpu_ms_per_request or 0.0
    return ProfileBar(
        app=record.app,
        server=record.server,
        db=record.db,
        cpu_ms=f"{split.measured_ms if split is not None else measured.cpu_ms_per_request:.2f}",
        segments=bar_segments(
            breakdown, split, measured_ms=measured.cpu_ms_per_request, table=table, longest=longest
        ),
        accounted=_accounted(record, breakdown, split),
        overhead=(
            f"req/s {_percent_change(record.rps, measured.rps)}, "
            f"CPU per request {_percent_change(profiled_cpu, measured.cpu_ms_per_request)}"
        ),
        samples=breakdown.busy,
        flame_file=flame_name(record),
        functions=tuple(
            FunctionLine(f.name, f.layer, f"{f.self_share:.1%}", f"{f.total_share:.1%}")
            for f in breakdown.functions
        ),
    )


def build_profile_section(
    records: Sequence[ProfileRecord],
    *,
    stacks: Mapping[str, Sequence[Stack]],
    measured: Mapping[CellKey, Measured],
    tables: Mapping[str, LayerTable],
) -> ProfileSection | None:
    """Return the section of a run's profiled trials (None when the run profiled none). stacks: by the
    record's stacks_file; measured: the cells' measured figures; tables: each app's layer table."""
    if not records:
        return None
    failures = tuple(
        (f"{r.app}/{r.server} {r.scenario} {r.db}", r.error, r.hint)
        for r in records
        if r.error or not r.stacks_file
    )
    profiled = [
        (record, attribute(stacks[record.stacks_file], tables[record.app]), measured[cell_key(record)])
        for record in records
        if not record.error and record.stacks_file in stacks and cell_key(record) in measured
    ]
    scenarios = []
    for scenario in ordered_scenarios(record.scenario for record, _, _ in profiled):
        of_scenario = [item for item in profiled if item[0].scenario == scenario]
        longest = max(bar_length(*item) for item in of_scenario)
        bars = tuple(
            _bar(record, breakdown, figures, table=tables[record.app], longest=longest)
            for record, breakdown, figures in sorted(of_scenario, key=lambda item: cell_key(item[0]))
        )
        scenarios.append(ScenarioProfiles(scenario, bars))
    first = records[0]
    table = next(iter(tables.values()), None)
    return ProfileSection(
        scenarios=tuple(scenarios),
        legend=tuple((layer, table.label(layer), table.colour(layer)) for layer in (*table.order, KERNEL))
        if table
        else (),
        failures=failures,
        settings=(
            f"py-spy at {first.rate_hz} Hz, {'C and Python' if first.native else 'Python'} frames of the "
            "thread "
            f"holding the GIL, {first.duration_s:.0f} s per profiled trial"
        ),
    )


def costliest_layers(section: ProfileSection | None, *, scenario: str = COSTLIEST_SCENARIO) -> dict[str, str]:
    """Return app -> a line naming its two costliest layers on the scenario (apps without a profile of it
    are left out)."""
    lines: dict[str, str] = {}
    for profiles in section.scenarios if section else ():
        if profiles.scenario != scenario:
            continue
        for bar in profiles.bars:
            top = sorted(bar.segments, key=lambda segment: -segment.ms)[:COSTLIEST_LAYERS]
            named = ", ".join(f"{s.layer} {s.ms:.2f} ms ({s.share:.0%})" for s in top)
            lines.setdefault(bar.app, f"{scenario}, where its CPU goes ({bar.server}): {named}")
    return lines


def flame_graphs(
    records: Sequence[ProfileRecord],
    *,
    stacks: Mapping[str, Sequence[Stack]],
    tables: Mapping[str, LayerTable],
) -> dict[str, str]:
    """Return file name -> SVG of every profiled cell's flame graph."""
    return {
        flame_name(record): render_flamegraph(
            stacks[record.stacks_file],
            tables[record.app],
            title=f"{record.app}/{record.server} {record.scenario} ({record.db}, {record.users} users)",
        )
        for record in records
        if not record.error and record.stacks_file in stacks
    }
