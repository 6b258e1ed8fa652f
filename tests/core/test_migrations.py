"""Migrations: empty to head on every backend, and the models agree with them."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect
from portal.tables import include_object, metadata

from portal.core.db import make_engine
from portal.core.migrations import pending_migrations, upgrade_to_head


def test_upgrade_from_empty_to_head_matches_the_models(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    assert pending_migrations(engine) != []
    upgrade_to_head(engine)
    assert pending_migrations(engine) == []
    assert {"portal_user", "audit_event", "alembic_version"} <= set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_object": include_object})
        diff = compare_metadata(context, metadata)
    assert diff == [], f"models and migrations disagree; run alembic autogenerate: {diff}"
    upgrade_to_head(engine)  # a second run is a no-op
    engine.dispose()
