"""What the regression gate judges and how strictly: its metrics, and [tool.bench.check] with its defaults.

This module alone reads [tool.bench.check] of pyproject.toml; the defaults of every key are the fields of
GateSettings (the decision) and AbDefaults (what `bench check --ab` measures).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from bench.columns import CPU_MS_PER_REQUEST, RPS
from bench.config import read_tool_config
from bench.errors import ConfigError
from bench.gate.intervals import IndependentMethod, PairedMethod


@dataclass(frozen=True)
class Metric:
    name: str
    higher_is_better: bool
    unit: str


# cpu_ms_per_request first: CPU per request is normalised by the load and drifts less between sessions.
METRICS: dict[str, Metric] = {
    CPU_MS_PER_REQUEST: Metric(CPU_MS_PER_REQUEST, higher_is_better=False, unit="ms"),
    RPS: Metric(RPS, higher_is_better=True, unit="req/s"),
}
# Against a stored baseline raw throughput moves 30-50% with the machine's slow stretches, so only the
# CPU-normalised metric decides. In A/B too: on a saturated server rps is about 1 / CPU per request, so gating
# both would double the comparisons the false-alarm correction divides by (wider intervals, fewer detections)
# for little new information. rps is judged and shown beside it; `--metric rps` makes it gate as well.
GATE_METRICS_BASELINE: tuple[str, ...] = (CPU_MS_PER_REQUEST,)
GATE_METRICS_PAIRED: tuple[str, ...] = (CPU_MS_PER_REQUEST,)


@dataclass(frozen=True)
class GateSettings:
    """The knobs of the decision; [tool.bench.check] in pyproject.toml may set each of them."""

    min_effect: float = (
        0.10  # the smallest slowdown that counts as a regression (10% more CPU, 1/1.1 the rps)
    )
    false_alarm_rate: float = 0.05  # of the whole check, when nothing changed
    confidence: float | None = None  # per comparison; None: from false_alarm_rate and the comparison count
    max_cv: float = 0.10  # a sample noisier than this is inconclusive
    min_samples: int = 3  # valid trials per side against a baseline
    min_pairs: int = 5  # valid A/B pairs
    independent_method: IndependentMethod = IndependentMethod.MANN_WHITNEY
    paired_method: PairedMethod = PairedMethod.T
    gate_metrics: tuple[str, ...] | None = None  # None: GATE_METRICS_BASELINE or GATE_METRICS_PAIRED
    fail_on_new_errors: bool = True  # a cell that errors now and did not before fails the check
    fail_on_inconclusive: bool = False
    resamples: int = 10_000  # bootstrap methods
    seed: int = 0  # bootstrap methods: the same data give the same verdict

    def __post_init__(self) -> None:
        if not 0 < self.min_effect < 1:
            raise ConfigError(f"min_effect must be in (0, 1), not {self.min_effect}")
        if not 0 < self.false_alarm_rate < 0.5:
            raise ConfigError(f"false_alarm_rate must be in (0, 0.5), not {self.false_alarm_rate}")
        if self.confidence is not None and not 0.5 < self.confidence < 1:
            raise ConfigError(f"confidence must be in (0.5, 1), not {self.confidence}")
        if self.max_cv <= 0 or self.min_samples < 2 or self.min_pairs < 2:
            raise ConfigError("max_cv must be > 0, min_samples and min_pairs at least 2")
        unknown = set(self.gate_metrics or ()) - set(METRICS)
        if unknown:
            raise ConfigError(f"unknown gate metric(s) {sorted(unknown)}; known: {', '.join(METRICS)}")

    def gated(self, *, paired: bool) -> tuple[str, ...]:
        if self.gate_metrics is not None:
            return self.gate_metrics
        return GATE_METRICS_PAIRED if paired else GATE_METRICS_BASELINE


def gate_settings_from_config(table: Mapping[str, Any], **overrides: Any) -> GateSettings:
    """Return GateSettings from a [tool.bench.check] table, then overrides (None values are ignored)."""
    known = {f.name for f in fields(GateSettings)}
    values = {key: value for key, value in table.items() if key in known}
    values.update({key: value for key, value in overrides.items() if value is not None})
    unknown = set(overrides) - known
    if unknown:
        raise ConfigError(f"unknown check setting(s): {', '.join(sorted(unknown))}")
    for key, kind in (("independent_method", IndependentMethod), ("paired_method", PairedMethod)):
        if key in values:
            try:
                values[key] = kind(values[key])
            except ValueError:
                choices = ", ".join(member.value for member in kind)
                raise ConfigError(f"{key} {values[key]!r} is not one of: {choices}") from None
    if values.get("gate_metrics") is not None:
        values["gate_metrics"] = tuple(values["gate_metrics"])
    return GateSettings(**values)


CHECK_SECTION = "check"


@dataclass(frozen=True)
class AbDefaults:
    """What `bench check --ab REF` measures unless its command line says otherwise."""

    profile: str = "ci"  # the profile of the A/B matrix (ab_profile)
    pairs: int = 8  # interleaved A/B pairs per cell (ab_pairs); a flagged pair still leaves min_pairs


AB_KEYS = {"ab_profile": "profile", "ab_pairs": "pairs"}  # [tool.bench.check] key -> AbDefaults field


@dataclass(frozen=True)
class InstructionDefaults:
    """How `bench check --mode instructions` counts and judges (bench/gate/instructions/)."""

    # Instruction counts of one process move about 0.3% between windows here, but two processes of the same
    # code can differ by more: an unchanged tree (HEAD against HEAD~1, a README commit) gave FastAPI fortunes
    # +1.06% [+0.62%, +1.50%] on 2026-12-07, a false alarm at 1%. Hence 2%, the top of the 1-2% range.
    min_effect: float = 0.02
    # Five windows: the medians and their spread stay put when one window holds an old-generation garbage
    # collection (a quarter more instructions in one Django /db window of 50 requests here).
    windows: int = 5  # counted windows per side and cell
    requests: int = 60  # sequential requests per window (about 3.5 s of Flask /db under callgrind)
    warmup: int = (
        50  # uncounted requests per cell before its first window (after 20, the first was 1% dearer)
    )
    top_functions: int = 8  # grown functions listed per cell judged worse

    def __post_init__(self) -> None:
        if not 0 < self.min_effect < 1:
            raise ConfigError(f"instructions_min_effect must be in (0, 1), not {self.min_effect}")
        if self.windows < 2 or self.requests < 1 or self.warmup < 0 or self.top_functions < 0:
            raise ConfigError(
                "instructions_windows must be at least 2, instructions_requests at least 1, "
                "instructions_warmup and instructions_top_functions 0 or more"
            )


# [tool.bench.check] key -> InstructionDefaults field
INSTRUCTION_KEYS = {f"instructions_{field.name}": field.name for field in fields(InstructionDefaults)}


def check_table() -> dict[str, Any]:
    """Return [tool.bench.check] of pyproject.toml, after checking its keys."""
    table = read_tool_config(CHECK_SECTION)
    known = {f.name for f in fields(GateSettings)} | set(AB_KEYS) | set(INSTRUCTION_KEYS)
    unknown = set(table) - known
    if unknown:
        raise ConfigError(
            f"[tool.bench.{CHECK_SECTION}]: unknown key(s) {', '.join(sorted(unknown))} "
            f"(known: {', '.join(sorted(known))})"
        )
    return table


def gate_settings(**overrides: Any) -> GateSettings:
    """Return the decision settings: [tool.bench.check], then the command line's overrides (None: unset)."""
    table = {
        key: value
        for key, value in check_table().items()
        if key not in AB_KEYS and key not in INSTRUCTION_KEYS
    }
    return gate_settings_from_config(table, **overrides)


def ab_defaults() -> AbDefaults:
    """Return what `bench check --ab` measures by default: AbDefaults, as [tool.bench.check] sets it."""
    table = check_table()
    values = {field: table[key] for key, field in AB_KEYS.items() if key in table}
    defaults = AbDefaults(**values)
    if not isinstance(defaults.pairs, int) or defaults.pairs < 2 or not isinstance(defaults.profile, str):
        raise ConfigError(f"[tool.bench.{CHECK_SECTION}]: ab_pairs must be a whole number of at least 2")
    return defaults


def instruction_defaults(**overrides: Any) -> InstructionDefaults:
    """Return how instructions are counted and judged: InstructionDefaults, [tool.bench.check], overrides."""
    table = check_table()
    values = {field: table[key] for key, field in INSTRUCTION_KEYS.items() if key in table}
    values.update({key: value for key, value in overrides.items() if value is not None})
    return InstructionDefaults(**values)
