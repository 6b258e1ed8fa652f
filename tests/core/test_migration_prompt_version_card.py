"""Migration 0020: every existing prompt version gets the card its prompt row held, on every backend."""

from __future__ import annotations

from sqlalchemy import MetaData, select

from portal.core.db import make_engine
from portal.core.migrations import upgrade_to_head
from tests.core.migration_steps import insert, upgrade_to


def test_existing_versions_get_their_prompts_card(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    upgrade_to(engine, "0019")
    tables = MetaData()
    tables.reflect(engine)
    card = dict(title="Refund reply", description="For support.", category="Customer support",
                department="Support", tags=["refunds"], classification=3, recommended_models=["fake-small"])
    with engine.begin() as connection:
        owner = insert(connection, tables.tables["portal_user"], email="o@example.com")
        prompt = insert(connection, tables.tables["prompt"], slug="refund-reply", owner_id=owner, latest_version=2,
                        **card)
        for number in (1, 2):
            insert(connection, tables.tables["prompt_version"], prompt_id=prompt, number=number, author_id=owner,
                   messages=[{"role": "user", "template": f"v{number}"}])
    upgrade_to_head(engine)
    tables = MetaData()
    tables.reflect(engine)
    versions = tables.tables["prompt_version"]
    with engine.connect() as connection:
        rows = connection.execute(select(*(versions.c[name] for name in card)).order_by(versions.c.number)).all()
    assert [dict(row._mapping) for row in rows] == [card, card]
    engine.dispose()
