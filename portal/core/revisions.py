"""Lost-update protection: every editable row carries a revision, and a write names the revision it started from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete as sa_delete
from sqlalchemy import update as sa_update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, select

from portal.core.errors import StaleEdit

# A write is one conditional statement, so it holds on SQLite and PostgreSQL alike: a second writer waits for
# the first one's row (or database) lock, then finds the revision moved on and changes nothing.


def save_if_unchanged(session: Session, row: SQLModel, *, base_revision: int, values: dict[str, Any],
                      noun: str) -> None:
    """Write `values` to the row only if it is still at `base_revision`, and move it to the next revision."""
    table = type(row)
    result = session.execute(
        sa_update(table).where(table.id == row.id, table.revision == base_revision)  # type: ignore[attr-defined]
        .values(**values, revision=base_revision + 1).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise StaleEdit(noun=noun, base=base_revision, latest=current_revision(session, table, row.id))
    session.refresh(row)


def delete_if_unchanged(session: Session, row: SQLModel, *, base_revision: int, noun: str) -> None:
    """Delete the row only if it is still at `base_revision`."""
    table = type(row)
    result = session.execute(
        sa_delete(table).where(table.id == row.id, table.revision == base_revision)  # type: ignore[attr-defined]
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise StaleEdit(noun=noun, base=base_revision, latest=current_revision(session, table, row.id))
    session.expunge(row)


def insert_new(session: Session, row: SQLModel, *, noun: str) -> None:
    """Add a row the editor saw no version of; another editor's insert of the same thing first is told, not a crash."""
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        # Only the table's unique key can fail here: someone added the same thing since the form opened. The
        # transaction is spoilt (PostgreSQL), so the message cannot name their revision; the caller rolls back.
        raise StaleEdit(noun=noun, base=0, latest=None) from None


def current_revision(session: Session, table: type[SQLModel], row_id: int | None) -> int | None:
    """The row's revision now, or None when it is gone."""
    return session.exec(select(table.revision).where(table.id == row_id)).first()  # type: ignore[attr-defined]
