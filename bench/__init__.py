"""Benchmarks: scripts that print figures against the targets of the performance issue."""
