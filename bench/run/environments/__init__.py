"""Versions as an axis: each framework release and Python in an environment of its own, built by uv.

plan (pure) lays out the environments a versions profile names; pythons finds the interpreters; build resolves
and installs one environment into a cache outside the checkout and records its packages; correctness runs
the contract subset of the profile's endpoints on it; measure interleaves every environment's cells in one
run. docs/versions.md tells the method.
"""
