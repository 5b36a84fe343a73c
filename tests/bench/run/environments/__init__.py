"""Tests of bench/run/environments/ (a package: its module names repeat those of bench/run/)."""
