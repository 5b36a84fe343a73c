"""CPU profiles of a run's cells (issue 22): one extra, uncounted trial per profiled cell with py-spy sampling
every process of the server; its collapsed stacks go to the run folder, its figures to profiles.jsonl.

pyspy.py starts and stops the profiler and says why it could not attach; session.py chooses the cells and
turns a profiled trial into its record. The report (bench.report.layers) splits the stacks by layer.
"""
