"""Migration 0023: every existing use case gets a key from its title, numbered where titles repeat."""

from __future__ import annotations

from sqlalchemy import MetaData, inspect, select

from portal.core.db import make_engine
from portal.core.migrations import upgrade_to_head
from tests.core.migration_steps import insert, upgrade_to


def test_existing_use_cases_get_unique_keys_from_their_titles(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    upgrade_to(engine, "0022")
    tables = MetaData()
    tables.reflect(engine)
    with engine.begin() as connection:
        owner = insert(connection, tables.tables["portal_user"], email="o@example.com")
        for title in ("Invoice matching", "Invoice  matching!", "   ", "Réponses clients"):
            insert(connection, tables.tables["use_case"], title=title, proposed_by_id=owner, models=[], prompts=[],
                   templates=[])
    upgrade_to_head(engine)
    tables = MetaData()
    tables.reflect(engine)
    use_case = tables.tables["use_case"]
    with engine.connect() as connection:
        keys = connection.execute(select(use_case.c.key).order_by(use_case.c.id)).scalars().all()
    assert keys == ["invoice-matching", "invoice-matching-2", "use-case", "r-ponses-clients"]
    assert any(index["unique"] and index["column_names"] == ["key"] for index in
               inspect(engine).get_indexes("use_case"))
    engine.dispose()
