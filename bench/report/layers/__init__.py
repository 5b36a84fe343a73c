"""Where a cell's CPU goes (issue 22): its profiled trial's collapsed stacks split by layer.

table.py reads the layer table (layers.toml, one app's [layers] over it); stacks.py parses py-spy's raw
output into frames with their modules; attribution.py gives each sample to a layer and counts the hottest
functions (pure); flamegraph.py draws a cell's flame graph as an SVG file; section.py builds the report's
section "Where the time goes" from a run's profiles.jsonl and measured figures.
"""
