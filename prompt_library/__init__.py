"""Prompt library: versioned, reviewed, searchable prompts with test cases."""
