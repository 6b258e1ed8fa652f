"""Database engine and sessions; the same code runs on SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# Pages name Engine and Session from here: the import contract keeps the ORM itself out of portal.views.
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, create_engine, text

from portal.core.errors import PortalError
from portal.core.settings import mask_url_password

SQLITE_BUSY_TIMEOUT_MS = 5000


class DatabaseUnavailable(PortalError):
    """The database cannot be reached or opened."""


def make_engine(database_url: str, *, echo: bool = False) -> Engine:
    """An engine for the URL; SQLite gets WAL, a busy timeout and foreign keys, its folder created."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, connect_args={"connect_timeout": 5})


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers (the pages) run while a writer commits; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose work commits together at the end, or rolls back together on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def check_database(engine: Engine) -> None:
    """Raise DatabaseUnavailable with a readable message when the database cannot be reached."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        url = mask_url_password(engine.url.render_as_string(hide_password=False))
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(
            f"Cannot reach the database at {url}: {reason}. Check PORTAL_DATABASE_URL and that the server runs."
        ) from exc


def distinct_values(session: Session, column: Any) -> list[str]:
    """The distinct non-empty values of an indexed column, sorted.

    A plain SELECT DISTINCT reads every row; this recursive query hops from one value to the next through
    the column's index (a "loose index scan"), so it costs one index probe per distinct value on SQLite
    and PostgreSQL alike.
    """
    table, name = column.table.name, column.name
    query = text(
        f"WITH RECURSIVE hop(value) AS ("
        f" SELECT MIN({name}) FROM {table} WHERE {name} > ''"
        f" UNION ALL"
        f" SELECT (SELECT MIN({name}) FROM {table} WHERE {name} > hop.value) FROM hop WHERE hop.value IS NOT NULL"
        f") SELECT value FROM hop WHERE value IS NOT NULL"
    )
    return [row[0] for row in session.exec(query).all()]


LIKE_ESCAPE = "\\"


def contains_pattern(text_: str) -> str:
    """A LIKE pattern matching values that contain `text_` literally (its % and _ are not wildcards).

    Use with `.like(pattern, escape=LIKE_ESCAPE)` (or ilike).
    """
    escaped = text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
