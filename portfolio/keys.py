"""A use case's key: a short name from its first title that never changes, so files can name the use case."""

from __future__ import annotations

import re
from uuid import uuid4

from sqlmodel import Session

from portal.core.slugs import first_free

KEY_PATTERN = r"^[a-z0-9][a-z0-9-]{0,79}$"
MAX_KEY = 80
_UNSAFE = re.compile(r"[^a-z0-9]+")


def key_of(title: str) -> str:
    """The key a title suggests: lower case, words joined by hyphens, at most 72 characters (room for -NN)."""
    return _UNSAFE.sub("-", title.lower()).strip("-")[:72].strip("-") or "use-case"


def random_key() -> str:
    """A key for a row made outside the form (a bulk load): unique without asking the database."""
    return f"use-case-{uuid4().hex[:12]}"


def unique_key(session: Session, title: str) -> str:
    """The title's key, numbered (-2, -3, …) past the keys other use cases already hold."""
    from portfolio.models import UseCase

    return first_free(session, UseCase.key, key_of(title))
