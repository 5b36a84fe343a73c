"""bench/run/usage.py: CPU and memory of process trees, and busy CPUs."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil
import pytest

from bench.run.usage import ProcessTreeSampler, busy_fraction, cpu_busy_times, process_tree


def test_busy_fraction() -> None:
    assert busy_fraction((10.0, 20.0), (13.0, 24.0)) == pytest.approx(0.75)
    assert busy_fraction((1.0, 1.0), (1.0, 1.0)) == 0.0
    busy, total = cpu_busy_times([0])
    assert 0 <= busy <= total


BUSY_CHILDREN = """
import multiprocessing, time
def spin(seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
if __name__ == "__main__":
    workers = [multiprocessing.Process(target=spin, args=(30,)) for _ in range(2)]
    for worker in workers:
        worker.start()
    print("started", flush=True)
    for worker in workers:
        worker.join()
"""


def test_the_sampler_covers_the_whole_process_tree() -> None:
    with subprocess.Popen(
        [sys.executable, "-c", BUSY_CHILDREN], stdout=subprocess.PIPE, text=True
    ) as process:
        try:
            assert process.stdout is not None and process.stdout.readline().strip() == "started"
            assert len(process_tree(process.pid)) == 3
            sampler = ProcessTreeSampler(process.pid, interval_s=0.05)
            sampler.start()
            time.sleep(0.5)
            usage = sampler.stop()
            # Two spinning children: CPU time the idle parent alone could not have used.
            assert usage.cpu_s > 0.1
            assert usage.cpu_s == pytest.approx(usage.user_s + usage.system_s)
            assert usage.user_s > usage.system_s, "spinning in Python is user time"
            assert usage.processes == 3
            assert usage.peak_rss_mb > 1
        finally:
            for child in psutil.Process(process.pid).children(recursive=True):
                child.kill()
            process.kill()


def test_the_sampler_of_a_missing_process_measures_nothing() -> None:
    sampler = ProcessTreeSampler(2**22 + 12345)
    sampler.start()
    usage = sampler.stop()
    assert (usage.cpu_s, usage.processes) == (0.0, 0)
