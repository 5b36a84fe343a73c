"""The report of a saved run: aggregation, the comparison table, charts, and the HTML page (build.py)."""
