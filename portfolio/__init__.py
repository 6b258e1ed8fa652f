"""The use-case portfolio: every AI use case from idea to production, with risk-tiered governance."""
