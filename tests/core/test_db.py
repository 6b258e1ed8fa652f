"""The database layer: SQLite tuned for a multi-reader portal, clear errors when unreachable."""

import pytest
from sqlalchemy import text

from portal.core.db import DatabaseUnavailable, check_database, make_engine


def test_sqlite_runs_in_wal_with_foreign_keys_and_busy_timeout(isolated_portal) -> None:
    engine = make_engine(f"sqlite:///{isolated_portal / 'var' / 'nested' / 'p.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 5000
    assert (isolated_portal / "var" / "nested" / "p.db").exists()


def test_unreachable_postgres_gives_a_readable_message_without_the_password() -> None:
    engine = make_engine("postgresql+psycopg://portal:s3cret-pw@127.0.0.1:9/portal")
    with pytest.raises(DatabaseUnavailable) as caught:
        check_database(engine)
    message = caught.value.message
    assert message.startswith("Cannot reach the database at postgresql+psycopg://portal:***@127.0.0.1:9/portal")
    assert "s3cret-pw" not in message and "PORTAL_DATABASE_URL" in message
