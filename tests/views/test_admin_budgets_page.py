"""The admin page's Budgets tab (AppTest): set an override for a user or a team, see it, clear it."""

from __future__ import annotations

from portal.core.audit import AuditEvent
from metering.models import BudgetOverride, BudgetScope
from tests.conftest import REPO_ROOT
from tests.views.support import rows
from tests.views.support import unescaped

ADMIN_PAGE = str(REPO_ROOT / "portal" / "views" / "admin.py")


def budgets_tab(open_portal, admin):
    at = open_portal(admin, script=ADMIN_PAGE)
    at.session_state["admin_tab"] = "Budgets"
    at.run()
    assert not at.exception, at.exception
    return at


def save(at):
    at.button(key="FormSubmitter:budget_form-Save override").click().run()
    assert not at.exception, at.exception
    return at


def test_an_admin_sets_and_clears_overrides(open_portal, user_with_role, portal_db) -> None:
    admin, viewer = user_with_role("admin"), user_with_role("viewer")
    at = budgets_tab(open_portal, admin)
    assert at.caption[0].value.startswith("Configured: 200,000 tokens a day per user, \\$500.00 a month per team")

    at.text_input(key="budget_user_email").input(viewer.email)
    at.number_input(key="budget_daily").set_value(5000)
    save(at)
    assert [unescaped(s.value) for s in at.success] == [f"Saved the override for user {viewer.email}."]
    at.radio(key="budget_scope").set_value(BudgetScope.TEAM).run()
    at.text_input(key="budget_team").input("Campaigns")
    at.number_input(key="budget_monthly").set_value(250.0)
    save(at)
    table = at.dataframe[0].value
    assert list(table["for"]) == [f"user {viewer.email}", "team Campaigns"]
    assert {(o.scope, o.key, o.daily_tokens, o.monthly_usd) for o in rows(portal_db, BudgetOverride)} == {
        ("user", str(viewer.id), 5000, None), ("team", "Campaigns", None, 250.0)}

    at.selectbox(key="budget_clear_choice").set_value("team Campaigns")
    at.button(key="budget_clear").click().run()
    assert not at.exception and not at.error
    assert list(at.dataframe[0].value["for"]) == [f"user {viewer.email}"]
    actions = [e.action for e in rows(portal_db, AuditEvent) if e.entity_type == "budget_override"]
    assert actions == ["sandbox.budget_override_set"] * 2 + ["sandbox.budget_override_cleared"]


def test_an_unknown_email_is_refused_and_the_form_keeps_it(open_portal, user_with_role, portal_db) -> None:
    at = budgets_tab(open_portal, user_with_role("admin"))
    at.text_input(key="budget_user_email").input("ghost@example.com")
    save(at)
    assert [e.value for e in at.error] == ["No portal user has the e-mail address 'ghost@example.com'."]
    assert at.text_input(key="budget_user_email").value == "ghost@example.com"
    assert rows(portal_db, BudgetOverride) == []
