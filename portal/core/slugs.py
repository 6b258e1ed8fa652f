"""Short names made from titles (a prompt's slug, a use case's key), numbered past the ones already taken."""

from __future__ import annotations

from sqlmodel import Session, col, select


def first_free(session: Session, column, base: str) -> str:
    """`base`, or `base-2`, `base-3`, … : the first that no row holds in `column` (one query)."""
    taken = set(session.exec(select(column).where(col(column).startswith(base))).all())
    name, n = base, 2
    while name in taken:
        name, n = f"{base}-{n}", n + 1
    return name
