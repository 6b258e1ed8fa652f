"""Migration 0026: a use case's JSON lists of models, prompts and templates become rows of use_case_link, and back."""

from __future__ import annotations

from sqlalchemy import MetaData, inspect, select

from portal.core.db import make_engine
from tests.core.migration_steps import downgrade_to, insert, upgrade_to


def test_the_lists_move_into_the_link_table_and_back(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    upgrade_to(engine, "0022")
    tables = MetaData()
    tables.reflect(engine)
    lists = dict(models=["acme/large", "acme/small"], prompts=["refund-reply", " ", "refund-reply"],
                 templates=["rag-chatbot"])
    with engine.begin() as connection:
        owner = insert(connection, tables.tables["portal_user"], email="o@example.com")
        linked = insert(connection, tables.tables["use_case"], title="Refunds", proposed_by_id=owner, **lists)
        bare = insert(connection, tables.tables["use_case"], title="Minutes", proposed_by_id=owner)
    upgrade_to(engine, "0026")
    tables = MetaData()
    tables.reflect(engine)
    link = tables.tables["use_case_link"]
    with engine.connect() as connection:
        rows = connection.execute(select(link.c.use_case_id, link.c.kind, link.c.ref).order_by(link.c.id)).all()
    assert [tuple(row) for row in rows] == [(linked, "model", "acme/large"), (linked, "model", "acme/small"),
                                            (linked, "prompt", "refund-reply"), (linked, "template", "rag-chatbot")]
    assert not {"models", "prompts", "templates"} & {c["name"] for c in inspect(engine).get_columns("use_case")}
    downgrade_to(engine, "0025")
    tables = MetaData()
    tables.reflect(engine)
    use_case = tables.tables["use_case"]
    with engine.connect() as connection:
        back = connection.execute(select(use_case.c.id, use_case.c.models, use_case.c.prompts, use_case.c.templates)
                                  .order_by(use_case.c.id)).all()
    assert [tuple(row) for row in back] == [(linked, ["acme/large", "acme/small"], ["refund-reply"], ["rag-chatbot"]),
                                            (bare, [], [], [])]
    assert "use_case_link" not in inspect(engine).get_table_names()
    engine.dispose()
