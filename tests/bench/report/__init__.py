"""A package, so that its test modules may share names with those of tests/bench/run (test_latency.py)."""
