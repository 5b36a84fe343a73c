"""Attribution of a profile's samples to layers and functions (pure: stacks and a layer table in, counts out).

A sample belongs to the layer of its innermost frame in a known package (layers.toml): the code of that
package is what the time was spent for, even when a deeper frame (the standard library, a C function) did
the work. Idle samples, those waiting below their last Python frame, are counted apart and left out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bench.report.layers.stacks import Frame, Stack
from bench.report.layers.table import LayerTable

TOP_FUNCTIONS = 10


@dataclass(frozen=True)
class FunctionShare:
    name: str  # function (module)
    layer: str
    self_share: float  # of the busy samples: this function was the innermost frame
    total_share: float  # of the busy samples: this function was anywhere on the stack


@dataclass(frozen=True)
class Breakdown:
    """A profile's busy samples by layer, and its hottest functions."""

    busy: int  # samples that were not idle
    idle: int
    layers: Mapping[str, int] = field(default_factory=dict)  # layer -> busy samples, in the table's order
    functions: Sequence[FunctionShare] = ()  # the hottest by self share

    def share(self, layer: str) -> float:
        """Return a layer's share of the busy samples (0 when there are none)."""
        return self.layers.get(layer, 0) / self.busy if self.busy else 0.0


def is_idle(frames: Sequence[Frame], table: LayerTable) -> bool:
    """Return True when the frames below the last Python frame (C frames) include a waiting function."""
    tail: list[Frame] = []
    for frame in reversed(frames):
        if frame.python:
            break
        tail.append(frame)
    return any(frame.function in table.idle_functions for frame in tail)


def layer_of_stack(frames: Sequence[Frame], table: LayerTable) -> str:
    """Return the layer of a sample: its innermost frame's that belongs to a known package."""
    for frame in reversed(frames):
        if frame.module:
            layer = table.layer_of(frame.module)
            if layer is not None:
                return layer
    return table.rest


def attribute(stacks: Sequence[Stack], table: LayerTable, *, top: int = TOP_FUNCTIONS) -> Breakdown:
    """Return the busy samples of the stacks by layer and the `top` hottest functions by self share."""
    layers: Counter[str] = Counter()
    self_counts: Counter[Frame] = Counter()
    total_counts: Counter[Frame] = Counter()
    busy = idle = 0
    for stack in stacks:
        if is_idle(stack.frames, table):
            idle += stack.count
            continue
        busy += stack.count
        layers[layer_of_stack(stack.frames, table)] += stack.count
        self_counts[stack.frames[-1]] += stack.count
        for frame in set(stack.frames):  # a recursive function counts once per sample
            total_counts[frame] += stack.count
    functions = [
        FunctionShare(
            name=frame.name,
            layer=layer_of_stack([frame], table),
            self_share=count / busy,
            total_share=total_counts[frame] / busy,
        )
        for frame, count in sorted(self_counts.items(), key=lambda item: (-item[1], item[0].name))[:top]
    ]
    return Breakdown(
        busy=busy,
        idle=idle,
        layers={layer: layers[layer] for layer in table.order if layers[layer]},
        functions=functions,
    )
