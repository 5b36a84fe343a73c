"""bench/gate/settings.py: the gate's settings from [tool.bench.check], overrides, and clear errors."""

from __future__ import annotations

import pytest

from bench.columns import CPU_MS_PER_REQUEST
from bench.errors import ConfigError
from bench.gate.settings import GateSettings, gate_settings_from_config


def test_settings_from_config_and_overrides() -> None:
    settings = gate_settings_from_config(
        {"min_effect": 0.05, "paired_method": "wilcoxon"}, max_cv=0.2, min_pairs=None
    )
    assert (settings.min_effect, settings.max_cv, settings.min_pairs) == (0.05, 0.2, 5)
    assert settings.paired_method.value == "wilcoxon"
    with pytest.raises(ConfigError, match="mannwhitney"):
        gate_settings_from_config({"independent_method": "t-test"})
    with pytest.raises(ConfigError, match="gate metric"):
        gate_settings_from_config({}, gate_metrics=["latency_p99_ms"])
    with pytest.raises(ConfigError, match="min_effect"):
        GateSettings(min_effect=10)


def test_the_gated_metrics_differ_by_mode_unless_named() -> None:
    assert GateSettings().gated(paired=True) == (CPU_MS_PER_REQUEST,)
    assert GateSettings().gated(paired=False) == (CPU_MS_PER_REQUEST,)
    named = GateSettings(gate_metrics=("rps", CPU_MS_PER_REQUEST))
    assert named.gated(paired=True) == named.gated(paired=False) == ("rps", CPU_MS_PER_REQUEST)
