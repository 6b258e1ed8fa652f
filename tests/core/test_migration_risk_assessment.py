"""Migration 0025: existing use cases gain a risk-assessment table (one per use case), and it goes back cleanly."""

from __future__ import annotations

import pytest
from sqlalchemy import MetaData, inspect, select
from sqlalchemy.exc import IntegrityError

from portal.core.db import make_engine
from portal.core.migrations import upgrade_to_head
from tests.core.migration_steps import downgrade_to, insert, upgrade_to


def test_use_cases_from_0022_get_one_assessment_each_and_a_downgrade_drops_the_table(empty_database_url) -> None:
    engine = make_engine(empty_database_url)
    upgrade_to(engine, "0022")
    tables = MetaData()
    tables.reflect(engine)
    with engine.begin() as connection:
        owner = insert(connection, tables.tables["portal_user"], email="o@example.com")
        use_case = insert(connection, tables.tables["use_case"], title="Credit limits", proposed_by_id=owner,
                          owner_id=owner, models=[], prompts=[], templates=[])
    upgrade_to_head(engine)
    tables = MetaData()
    tables.reflect(engine)
    assessments = tables.tables["use_case_risk_assessment"]
    with engine.begin() as connection:
        insert(connection, assessments, use_case_id=use_case, updated_by_id=owner, answers={"basis": "Contract"},
               questions_version=1, status="submitted", revision=1)
        assert connection.execute(select(assessments.c.answers)).scalar_one() == {"basis": "Contract"}
    with pytest.raises(IntegrityError), engine.begin() as connection:  # one assessment per use case
        insert(connection, assessments, use_case_id=use_case, updated_by_id=owner, answers={}, questions_version=1,
               status="draft", revision=1)
    downgrade_to(engine, "0024")
    assert "use_case_risk_assessment" not in inspect(engine).get_table_names()
    engine.dispose()
