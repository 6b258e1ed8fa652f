"""Benchmarks: each prints a ratio against a baseline measured in the same process (`python -m bench`)."""
