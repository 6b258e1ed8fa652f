"""Steps the migration tests share: move a database to a revision (up or down), and insert a plain row."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import JSON, Boolean, DateTime, Float, Integer

from portal.core.migrations import alembic_config


def upgrade_to(engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade_to(engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def insert(connection, table, **values) -> int:
    """A row with `values`, every other required column filled with a plain value of its type."""
    plain = {Integer: 0, Boolean: False, Float: 0.0, JSON: []}
    for column in table.columns:
        if column.name in values or column.nullable or column.primary_key:
            continue
        kind = next((v for t, v in plain.items() if isinstance(column.type, t)), "")
        values[column.name] = datetime.now(UTC) if isinstance(column.type, DateTime) else kind
    return connection.execute(table.insert().values(**values)).inserted_primary_key[0]
