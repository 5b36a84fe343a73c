"""The load generator: Locust in a process of its own (`python -m bench.run.loadgen`), and what it says to the
runner. Only `process` and `distributed` import Locust; `protocol` and `latency` are safe to import anywhere.
"""
