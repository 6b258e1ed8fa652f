"""Migration 0024: the score and priority tables arrive empty beside existing use cases, and leave them intact."""

from __future__ import annotations

import pytest
from sqlalchemy import MetaData, inspect, select
from sqlalchemy.exc import IntegrityError

from portal.core.db import make_engine
from tests.core.migration_steps import downgrade_to, insert, upgrade_to


def test_scores_and_priorities_arrive_beside_existing_use_cases_and_go_without_them(empty_database_url) -> None:
    engine = make_engine(empty_database_url)
    upgrade_to(engine, "0022")
    tables = MetaData()
    tables.reflect(engine)
    with engine.begin() as connection:
        owner = insert(connection, tables.tables["portal_user"], email="o@example.com")
        use_case = insert(connection, tables.tables["use_case"], title="Invoice matching", proposed_by_id=owner,
                          owner_id=owner, models=[], prompts=[], templates=[])
    upgrade_to(engine, "0024")
    tables = MetaData()
    tables.reflect(engine)
    scores = tables.tables["use_case_score"]
    with engine.begin() as connection:
        assert connection.execute(select(scores)).all() == []
        insert(connection, scores, use_case_id=use_case, version=1, value=4, feasibility=3, by_id=owner)
    with pytest.raises(IntegrityError), engine.begin() as connection:  # one row per version of a use case
        insert(connection, scores, use_case_id=use_case, version=1, value=2, feasibility=2, by_id=owner)
    downgrade_to(engine, "0023")
    assert not {"use_case_score", "use_case_priority_decision"} & set(inspect(engine).get_table_names())
    with engine.connect() as connection:
        titles = connection.execute(select(tables.tables["use_case"].c.title)).scalars().all()
    assert titles == ["Invoice matching"]
    engine.dispose()
