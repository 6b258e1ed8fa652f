"""Pages (AppTest) when someone saves while you edit: the shared message shows, the input stays, nothing is lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from metering.models import BudgetOverride, BudgetScope
from metering.overrides import set_budget_override
from portal.core.audit import utcnow
from portal.core.principals import SYSTEM_CLI
from templates.models import TemplateEntry
from templates.registry import edit_template_details
from tests.views.support import errors, rows, shown
from training.assignments import assign_course
from training.models import Assignment
from training.sync import sync_courses

ADMIN, ASSIGN, TEMPLATES = "views/admin.py", "views/training_assign.py", "views/template_admin.py"
SOMEONE_SAVED = "Nothing was saved; your changes are still in the form"


def test_a_budget_override_saved_meanwhile_is_not_overwritten(open_page, user_with_role, portal_db) -> None:
    at = open_page("admin", ADMIN)
    at.session_state["admin_tab"] = "Budgets"
    at.run()
    at.radio(key="budget_scope").set_value(BudgetScope.TEAM).run()
    at.text_input(key="budget_team").input("Campaigns")
    at.number_input(key="budget_monthly").set_value(250.0)
    with Session(portal_db) as other:  # another admin sets the team's cap while this form is open
        set_budget_override(session=other, actor=user_with_role("admin"), scope="team", key="Campaigns",
                            monthly_usd=900.0)
        other.commit()
    at.button(key="FormSubmitter:budget_form-Save override").click().run()
    assert errors(at) == [("Someone saved revision 1 of this budget override while you were filling in the form. "
                           f"{SOMEONE_SAVED}: take the latest budget override, then save again.")]
    assert (at.text_input(key="budget_team").value, at.number_input(key="budget_monthly").value) == (
        "Campaigns", 250.0)
    assert [(o.monthly_usd, o.revision) for o in rows(portal_db, BudgetOverride)] == [(900.0, 1)]
    at.button(key="FormSubmitter:budget_form-Save override").click().run()  # told, they save again on top
    assert not at.error and [(o.monthly_usd, o.revision) for o in rows(portal_db, BudgetOverride)] == [(250.0, 2)]


@pytest.fixture
def courses(portal_db):
    with Session(portal_db) as session:
        sync_courses(session=session, actor=SYSTEM_CLI)
        session.commit()
    return portal_db


def move(engine, coe, days: int, base: int) -> None:
    """A colleague moves the due date from their own page."""
    with Session(engine) as other:
        assign_course(session=other, actor=coe, slug="responsible-ai", target_kind="department", target="Finance",
                      due_on=utcnow().date() + timedelta(days=days), base_revision=base)
        other.commit()


def test_an_assignment_moved_meanwhile_is_neither_moved_back_nor_withdrawn(open_page, user_with_role,
                                                                          courses) -> None:
    coe, today = user_with_role("reviewer"), utcnow().date()
    move(courses, coe, 5, base=0)
    at = open_page("reviewer", ASSIGN)
    at.selectbox(key="assign_course").set_value("responsible-ai")
    at.radio(key="assign_kind").set_value("department")
    at.text_input(key="assign_target").input("Finance")
    at.date_input(key="assign_due").set_value(today + timedelta(days=20))
    move(courses, coe, 9, base=1)  # while this form is open
    at.button(key="FormSubmitter:assign_form-Assign").click().run()
    assert errors(at) == [("Someone saved revision 2 of this assignment while you edited revision 1. "
                           f"{SOMEONE_SAVED}: take the latest assignment, then save again.")]
    assert (at.text_input(key="assign_target").value, at.date_input(key="assign_due").value) == (
        "Finance", today + timedelta(days=20))
    assert [(a.due_on, a.revision) for a in rows(courses, Assignment)] == [(today + timedelta(days=9), 2)]
    at.button(key="FormSubmitter:assign_form-Assign").click().run()  # told, they save again on top of revision 2
    assert not at.error, errors(at)
    assert [(a.due_on, a.revision) for a in rows(courses, Assignment)] == [(today + timedelta(days=20), 3)]

    at.selectbox(key="withdraw_pick").set_value(rows(courses, Assignment)[0].id).run()
    move(courses, coe, 30, base=3)  # moved again before they press Withdraw
    at.button(key="withdraw").click().run()
    assert errors(at) == [("Someone saved revision 4 of this assignment while you edited revision 3. "
                           f"{SOMEONE_SAVED}: take the latest assignment, then save again.")]
    assert [(a.due_on, a.revision) for a in rows(courses, Assignment)] == [(today + timedelta(days=30), 4)]


def test_template_details_saved_meanwhile_are_kept_and_the_editors_text_too(open_page, user_with_role,
                                                                            portal_db) -> None:
    at = open_page("admin", TEMPLATES)
    at.selectbox(key="tpl_details_pick").set_value("batch-summariser").run()
    key = "tpl_details_batch-summariser"
    at.text_input(key=f"{key}_summary").input("My summary")
    with Session(portal_db) as other:  # another admin edits the owner while this form is open
        entry = other.exec(select(TemplateEntry).where(TemplateEntry.name == "batch-summariser")).one()
        details = {f: getattr(entry, f) for f in ("display_name", "summary", "category", "tags", "owner")}
        edit_template_details(session=other, actor=user_with_role("admin"), name=entry.name,
                              base_revision=entry.revision, details={**details, "owner": "Data team"})
        other.commit()
    at.button(key=f"FormSubmitter:{key}_form-Save details").click().run()
    assert errors(at) == [(f"Someone saved revision 2 of this template while you edited revision 1. "
                           f"{SOMEONE_SAVED}: take the latest template, then save again.")]
    assert at.text_input(key=f"{key}_summary").value == "My summary"
    at.button(key=f"{key}_take_latest").click().run()
    assert at.text_input(key=f"{key}_owner").value == "Data team"  # their edit taken in, mine kept
    assert at.text_input(key=f"{key}_summary").value == "My summary"
    at.button(key=f"FormSubmitter:{key}_form-Save details").click().run()
    assert not at.error and "Saved the details of batch\\-summariser." in shown(at)
    [stored] = [e for e in rows(portal_db, TemplateEntry) if e.name == "batch-summariser"]
    assert (stored.summary, stored.owner, stored.revision) == ("My summary", "Data team", 3)
