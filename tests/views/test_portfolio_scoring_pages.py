"""Prioritisation on the pages: the value × feasibility chart and the table's columns, and the reviewers' forms."""

from __future__ import annotations

import io
import json

import pyarrow as pa
from sqlmodel import Session, select

from portal.core.db import session_scope
from portfolio.scoring import decide_priority, score_use_case
from portfolio.scoring_models import PriorityDecision, UseCaseScore
from tests.views.support import errors, unescaped
from tests.views.test_pages import texts
from tests.views.test_portfolio_pages import BOARD, USE_CASE, submitted, user

CHART = "Value × feasibility"


def scored(portal_db, use_case_id: int, value: int, feasibility: int, *, version: int = 0,
           reviewer: str = "ravi.reviewer@example.com", priority: int | None = None) -> None:
    with session_scope(portal_db) as session:
        score_use_case(session=session, actor=user(portal_db, reviewer), use_case_id=use_case_id, value=value,
                       feasibility=feasibility, value_reason="Saves clerk hours", feasibility_reason="Data is ready",
                       seen_version=version)
        if priority is not None:
            decide_priority(session=session, actor=user(portal_db, reviewer), use_case_id=use_case_id,
                            priority=priority, note="Decided at the CoE board", seen_version=0)


def chart_rows(at) -> list[dict]:
    """The points the page's chart draws, as records."""
    [chart] = at.get("vega_lite_chart")
    return pa.ipc.open_stream(io.BytesIO(chart.proto.data.data)).read_all().to_pylist()


def table_with(at, column: str):
    """The page's table that has this column (AppTest does not see a table's key)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_the_chart_places_scored_use_cases_and_lists_the_rest_as_not_scored_yet(open_page, portal_db) -> None:
    chen = user(portal_db, "chen.contributor@example.com")
    invoices = submitted(portal_db, chen, 1, title="Invoice matching")
    credit = submitted(portal_db, chen, 3, title="Credit limit advice", department="Risk")
    submitted(portal_db, chen, 2, title="Refund replies")
    scored(portal_db, invoices, 5, 4)
    scored(portal_db, credit, 2, 1)
    scored(portal_db, credit, 4, 2, version=1, reviewer="rosa.risk@example.com")  # the latest score counts
    at = open_page("viewer", BOARD)
    at.segmented_control(key="pf_view").set_value(CHART).run()
    assert not at.exception and not at.error
    chart = next(c for c in at.get("vega_lite_chart"))
    spec = json.loads(chart.proto.spec)
    assert (spec["mark"]["type"], spec["encoding"]["color"]["field"]) == ("circle", "stage")
    assert {t["field"] for t in spec["encoding"]["tooltip"]} >= {"use case", "value", "feasibility"}
    points = sorted((p["use case"], p["value"], p["feasibility"]) for p in chart_rows(at))
    assert points == [("Credit limit advice", 4, 2), ("Invoice matching", 5, 4)]
    assert all(abs(p["value shown"] - p["value"]) <= 0.2 for p in chart_rows(at))
    shown = texts(at)
    assert "**Not scored yet** (1)" in shown and "- Refund replies" in shown
    at.selectbox(key="pf_f_department").set_value("Risk").run()  # the chart follows the filters
    assert [p["use case"] for p in chart_rows(at)] == ["Credit limit advice"] and "**Not scored yet** (0)" in texts(at)


def test_an_empty_chart_says_nothing_is_scored_yet(open_page, portal_db) -> None:
    submitted(portal_db, user(portal_db, "chen.contributor@example.com"), 1)
    at = open_page("viewer", BOARD)
    at.segmented_control(key="pf_view").set_value(CHART).run()
    assert "No use case here is scored yet" in texts(at) and not at.get("vega_lite_chart")


def test_the_table_shows_scores_and_priority_and_sorts_by_priority(open_page, portal_db) -> None:
    chen = user(portal_db, "chen.contributor@example.com")
    first, second, third = (submitted(portal_db, chen, 1, title=t) for t in ("Alpha", "Beta", "Gamma"))
    scored(portal_db, first, 2, 2, priority=2)
    scored(portal_db, third, 4, 5, priority=1)
    at = open_page("viewer", BOARD)
    at.segmented_control(key="pf_view").set_value("Table").run()
    table = at.dataframe[0].value
    assert list(table["use case"]) == ["Gamma", "Beta", "Alpha"]  # newest first
    assert list(table["priority"].fillna(0)) == [1, 0, 2] and list(table["value"].fillna(0)) == [4, 0, 2]
    at.radio(key="pf_order").set_value("the CoE's priority").run()
    assert list(at.dataframe[0].value["use case"]) == ["Gamma", "Alpha", "Beta"]


def test_a_reviewer_scores_on_the_use_case_page_and_a_bad_score_keeps_the_input(open_page, portal_db) -> None:
    chen = user(portal_db, "chen.contributor@example.com")
    use_case_id = submitted(portal_db, chen, 2)
    owner_view = open_page(chen, USE_CASE, use_case=str(use_case_id))
    assert "Reviewers score and rank use cases; your role may follow them here." in texts(owner_view)
    assert not [f for f in owner_view.text_input if (f.key or "").startswith("uc_score")]
    at = open_page("reviewer", USE_CASE, use_case=str(use_case_id))
    assert "**Not scored yet.**" in texts(at)
    submit = f"FormSubmitter:uc_score_form_{use_case_id}-Save the score"
    at.select_slider(key=f"uc_score_value_{use_case_id}").set_value(4)
    at.text_input(key=f"uc_score_value_reason_{use_case_id}").input("1,200 clerk hours a year")
    at.button(key=submit).click().run()
    assert errors(at) == ["Cannot save the score: say why the feasibility scores as it does (5 to 300 characters, "
                          "not 0). Nothing was saved."]
    assert at.text_input(key=f"uc_score_value_reason_{use_case_id}").value == "1,200 clerk hours a year"
    at.text_input(key=f"uc_score_feasibility_reason_{use_case_id}").input("**Data** is in the ERP")
    at.button(key=submit).click().run()
    assert not at.error, [e.value for e in at.error]
    shown = texts(at)
    assert "Scored: value 4, feasibility 3." in shown
    assert "**Value 4/5:** 1,200 clerk hours a year" in unescaped(shown)
    assert "\\*\\*Data\\*\\* is in the ERP" in shown  # the reviewer's words as plain text
    assert at.text_input(key=f"uc_score_value_reason_{use_case_id}").value == ""  # ready for the next score
    timeline = table_with(at, "summary")
    assert list(timeline["what"])[0] == "scored"


def test_a_score_on_top_of_one_given_meanwhile_is_refused_then_lands(open_page, portal_db) -> None:
    chen = user(portal_db, "chen.contributor@example.com")
    use_case_id = submitted(portal_db, chen, 2)
    at = open_page("reviewer", USE_CASE, use_case=str(use_case_id))
    scored(portal_db, use_case_id, 2, 2, reviewer="rosa.risk@example.com")  # another reviewer, after the page loaded
    at.text_input(key=f"uc_score_value_reason_{use_case_id}").input("Saves a lot")
    at.text_input(key=f"uc_score_feasibility_reason_{use_case_id}").input("Easy to build")
    at.button(key=f"FormSubmitter:uc_score_form_{use_case_id}-Save the score").click().run()
    assert errors(at)[0].startswith("rosa.risk@example.com scored this use case (value 2, feasibility 2) after your "
                                    "page showed it. Nothing was saved")
    assert at.text_input(key=f"uc_score_value_reason_{use_case_id}").value == "Saves a lot"
    at.button(key=f"FormSubmitter:uc_score_form_{use_case_id}-Save the score").click().run()
    assert not at.error, [e.value for e in at.error]
    with Session(portal_db) as session:
        assert [s.value_reason for s in session.exec(select(UseCaseScore).order_by(UseCaseScore.version))] == [
            "Saves clerk hours", "Saves a lot"]


def test_a_reviewer_sets_the_priority_with_a_note_and_the_history_shows_who_and_why(open_page, portal_db) -> None:
    chen = user(portal_db, "chen.contributor@example.com")
    use_case_id = submitted(portal_db, chen, 1)
    at = open_page(user(portal_db, "ravi.reviewer@example.com"), USE_CASE, use_case=str(use_case_id))
    submit = f"FormSubmitter:uc_rank_form_{use_case_id}-Record the decision"
    at.number_input(key=f"uc_rank_{use_case_id}").set_value(2)
    at.button(key=submit).click().run()
    assert errors(at) == ["Cannot record the priority: say why in the decision note (5 to 1000 characters, not 0). "
                          "Nothing was saved."]
    at.text_input(key=f"uc_rank_note_{use_case_id}").input("Next after invoice extraction")
    at.button(key=submit).click().run()
    assert not at.error, [e.value for e in at.error]
    assert "Priority set to 2." in texts(at)
    assert at.text_input(key=f"uc_rank_note_{use_case_id}").value == ""
    assert "priority 2 (1 is first) — Next after invoice extraction" in unescaped(texts(at))
    decisions = table_with(at, "note")
    assert list(zip(decisions["priority"], decisions["note"])) == [(2, "Next after invoice extraction")]
    assert list(decisions["who"]) == ["ravi.reviewer@example.com"]
    with Session(portal_db) as session:
        assert session.exec(select(PriorityDecision)).one().priority == 2
