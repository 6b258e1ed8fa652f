"""Guardrails: personal and secret data found before it reaches a model, then warned about, redacted or blocked."""
