"""Alembic environment: the schema of every installed feature (portal.tables) so autogenerate sees all of it."""

from alembic import context

from portal.core.db import make_engine
from portal.tables import include_object, metadata

config = context.config
target_metadata = metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    # render_as_batch: SQLite can only alter tables by copying them.
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      compare_type=True, include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
