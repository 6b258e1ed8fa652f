"""Detectors for personal and secret data: a precompiled pattern finds candidates, a check confirms each.

One module a kind of data; `registry.DETECTORS` lists them all and `guardrails.text.scan` runs them and settles
overlaps.
"""
