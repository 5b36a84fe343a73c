"""The layer table of CPU profiles: layer -> module prefixes, from layers.toml and an app's [layers]."""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.errors import ConfigError

LAYERS_FILE = Path(__file__).with_name("layers.toml")
OTHER_COLOUR = "#dddddd"


@dataclass(frozen=True)
class LayerTable:
    """Which layer a module belongs to: its longest matching prefix's."""

    order: tuple[str, ...]
    rest: str
    prefixes: Mapping[str, str]  # module prefix -> layer
    labels: Mapping[str, str] = field(default_factory=dict)
    idle_functions: frozenset[str] = frozenset()
    colours: Mapping[str, str] = field(default_factory=dict)

    def layer_of(self, module: str) -> str | None:
        """Return the layer of a module (None: no layer names it, so an outer frame decides)."""
        parts = module.split(".")
        for end in range(len(parts), 0, -1):
            layer = self.prefixes.get(".".join(parts[:end]))
            if layer is not None:
                return layer
        return None

    def label(self, layer: str) -> str:
        return self.labels.get(layer, layer)

    def colour(self, layer: str) -> str:
        return self.colours.get(layer, OTHER_COLOUR)

    def with_app(self, layers: Mapping[str, Sequence[str]]) -> LayerTable:
        """Return the table with an app's own prefixes over it (its app.toml's [layers])."""
        unknown = sorted(set(layers) - set(self.order))
        if unknown:
            raise ConfigError(
                f"[layers]: unknown layer(s) {', '.join(unknown)} (known: {', '.join(self.order)})"
            )
        prefixes = dict(self.prefixes)
        prefixes.update({prefix: layer for layer, items in layers.items() for prefix in items})
        return dataclasses.replace(self, prefixes=prefixes)


def parse_layer_table(data: Mapping[str, object]) -> LayerTable:
    """Return the table of a parsed layers.toml."""
    order = data.get("order")
    rest = data.get("rest")
    table = data.get("prefixes")
    if not isinstance(order, list) or not isinstance(rest, str) or rest not in order:
        raise ConfigError(f"{LAYERS_FILE.name}: order must list the layers, rest name one of them")
    if not isinstance(table, dict):
        raise ConfigError(f"{LAYERS_FILE.name}: [prefixes] must be a table of layer = [prefix, ...]")
    prefixes: dict[str, str] = {}
    for layer, items in table.items():
        if layer not in order:
            raise ConfigError(f"{LAYERS_FILE.name}: [prefixes] names {layer!r}, which is not in order")
        for prefix in items:
            if prefix in prefixes:
                raise ConfigError(f"{LAYERS_FILE.name}: {prefix!r} is in {prefixes[prefix]} and {layer}")
            prefixes[prefix] = layer
    labels = data.get("labels", {})
    colours = data.get("colours", {})
    idle = data.get("idle_functions", [])
    return LayerTable(
        order=tuple(order),
        rest=rest,
        prefixes=prefixes,
        labels=dict(labels) if isinstance(labels, dict) else {},
        idle_functions=frozenset(idle) if isinstance(idle, list) else frozenset(),
        colours=dict(colours) if isinstance(colours, dict) else {},
    )


def load_layer_table(path: Path = LAYERS_FILE) -> LayerTable:
    """Return the shared layer table (layers.toml beside this module)."""
    with path.open("rb") as handle:
        return parse_layer_table(tomllib.load(handle))
