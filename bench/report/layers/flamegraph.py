"""A cell's flame graph as a standalone SVG (no script: each frame's name and share are in its <title>, which
a browser shows on hover): the root at the top, each frame as wide as its share of the busy samples."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from bench.report.layers.attribution import is_idle, layer_of_stack
from bench.report.layers.stacks import Frame, Stack
from bench.report.layers.table import LayerTable

WIDTH = 1200.0
ROW_HEIGHT = 17
TOP_MARGIN = 40
CHAR_WIDTH = 6.6  # of the 11 px monospace font: how many characters a frame's box can hold
MIN_WIDTH = 0.5  # narrower frames are left out (invisible anyway)


@dataclass
class _Node:
    count: int = 0
    layer: str = ""
    children: dict[Frame, _Node] = field(default_factory=dict)


def _tree(stacks: Sequence[Stack], table: LayerTable) -> _Node:
    root = _Node()
    for stack in stacks:
        if is_idle(stack.frames, table):
            continue
        root.count += stack.count
        node = root
        for depth in range(len(stack.frames)):
            frame = stack.frames[depth]
            child = node.children.get(frame)
            if child is None:
                # a frame's colour: the layer its own stack so far belongs to
                child = node.children[frame] = _Node(layer=layer_of_stack(stack.frames[: depth + 1], table))
            child.count += stack.count
            node = child
    return root


def render_flamegraph(stacks: Sequence[Stack], table: LayerTable, *, title: str) -> str:
    """Return the SVG of the busy samples' flame graph."""
    root = _tree(stacks, table)
    rects: list[str] = []
    depth_reached = 0

    def draw(node: _Node, frame: Frame | None, *, x: float, depth: int) -> None:
        nonlocal depth_reached
        width = WIDTH * node.count / root.count
        if width < MIN_WIDTH:
            return
        if frame is not None:
            depth_reached = max(depth_reached, depth)
            y = TOP_MARGIN + (depth - 1) * ROW_HEIGHT
            colour = table.colour(node.layer)
            share = node.count / root.count
            tip = escape(f"{frame.name}: {share:.1%} of busy samples ({node.count}), layer {node.layer}")
            fits = int(width / CHAR_WIDTH) - 1
            label = (
                frame.function if len(frame.function) <= fits else frame.function[: max(fits - 1, 0)] + "…"
            )
            text = f'<text x="{x + 3:.1f}" y="{y + 12}">{escape(label)}</text>' if fits >= 3 else ""
            rects.append(
                f'<g><title>{tip}</title><rect x="{x:.1f}" y="{y}" width="{width:.1f}" '
                f'height="{ROW_HEIGHT - 1}" fill="{colour}"/>{text}</g>'
            )
        offset = x
        for child_frame, child in sorted(node.children.items(), key=lambda item: item[0].name):
            draw(child, child_frame, x=offset, depth=depth + 1)
            offset += WIDTH * child.count / root.count

    if root.count:
        draw(root, None, x=0.0, depth=0)
    height = TOP_MARGIN + max(depth_reached, 1) * ROW_HEIGHT + 10
    legend = " · ".join(f"{layer}" for layer in table.order)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:.0f}" height="{height}" '
        f'viewBox="0 0 {WIDTH:.0f} {height}" font-family="monospace" font-size="11">\n'
        f'<text x="4" y="16" font-size="14">{escape(title)}</text>\n'
        f'<text x="4" y="32" fill="#555">{root.count} busy samples; hover a frame for its share. '
        f"Colours: the layer ({escape(legend)}).</text>\n" + "\n".join(rects) + "\n</svg>\n"
    )
