"""The report's open-loop latency family: the target a sweep is judged at (targets), one trial's figures
(trials), a cell's trials together (cells), the charts (charts) and the report section (section)."""
