"""Running: profiles and the schedule of a run, servers and databases, the load generator, the runner.

Nothing in this package imports the report or the gate (make lint enforces it).
"""
