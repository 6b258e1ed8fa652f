"""What a use case links to, read one way for every check (models, prompts, templates, forks, courses)."""

from __future__ import annotations

from sqlmodel import Session

from portfolio.models import UseCase

# The JSON list on the use case that holds each kind; kinds without one have no links yet.
_FIELDS = {"model": "models", "prompt": "prompts", "template": "templates"}
KINDS = ("model", "prompt", "template", "fork", "course")


def linked(session: Session, use_case_id: int, kind: str) -> list[str]:
    """The names (or ids, as text) a use case links to of one kind, in the order they were given."""
    if kind not in KINDS:
        raise ValueError(f"unknown link kind {kind!r}; one of {', '.join(KINDS)}")
    use_case = session.get(UseCase, use_case_id)
    if use_case is None or kind not in _FIELDS:
        return []
    return list(getattr(use_case, _FIELDS[kind]))
