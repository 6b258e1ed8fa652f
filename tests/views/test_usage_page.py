"""My usage page: every role sees their own usage; reviewers and admins also everyone's by team or department."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import Session

from portal.core.audit import utcnow
from portal.core.auth import Role
from metering.models import CallStatus, UsageEvent
from portal.core.features import UsageSource
from prompt_library.models import PROMPT_TEST
from sandbox.models import SANDBOX_CHAT
from tests.conftest import REPO_ROOT
from tests.views.test_pages import texts

USAGE_PAGE = str(REPO_ROOT / "portal" / "views" / "usage.py")
ORG_TAB = "Teams and departments"


def add_usage(engine, user, *, hours_ago: float, model: str, tokens_in: int, tokens_out: int, cost: float,
              status: CallStatus = CallStatus.OK, source: UsageSource = SANDBOX_CHAT) -> None:
    with Session(engine) as session:
        session.add(UsageEvent(user_id=user.id, team=user.team, department=user.department, model_name=model,
                               source=source.value, tokens_in=tokens_in, tokens_out=tokens_out,
                               cost_usd=cost, status=status.value, at=utcnow() - timedelta(hours=hours_ago)))
        session.commit()


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.fixture
def usage(portal_db, user_with_role):
    """Usage by the viewer (two models, one failure) and the reviewer; none by the admin or contributor."""
    viewer, reviewer = user_with_role("viewer"), user_with_role("reviewer")
    add_usage(portal_db, viewer, hours_ago=0, model="llama", tokens_in=1200, tokens_out=300, cost=1.5)
    add_usage(portal_db, viewer, hours_ago=0, model="qwen", tokens_in=100, tokens_out=0, cost=0.25,
              status=CallStatus.FAILED)
    add_usage(portal_db, reviewer, hours_ago=0, model="llama", tokens_in=2000, tokens_out=1000, cost=2.0)
    add_usage(portal_db, reviewer, hours_ago=24 * 45, model="llama", tokens_in=9, tokens_out=9, cost=9.0)  # too old
    return viewer, reviewer


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_usage_page_runs_for_every_role_through_the_menu(open_portal, user_with_role, usage, role: str) -> None:
    at = open_portal(user_with_role(role))
    at.switch_page("views/usage.py").run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert "My usage" in texts(at)


def test_viewer_sees_own_totals_charts_and_table_but_no_org_section(open_portal, usage) -> None:
    viewer, _ = usage
    at = open_portal(viewer, script=USAGE_PAGE)
    assert not at.exception
    assert metrics(at) == {"Calls": "2", "Failed calls": "1", "Tokens in": "1,300", "Tokens out": "300",
                           "Cost": "$1.75"}
    charts = [json.loads(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert [(c["mark"]["type"], c["encoding"]["color"]["field"], c["encoding"]["y"]["title"]) for c in charts] == [
        ("bar", "model", "tokens"), ("bar", "model", "cost (USD)")]  # stacked by model, per day
    table = at.dataframe[0].value
    assert sorted(zip(table["model"], table["tokens"], table["cost (USD)"])) == [("llama", 1500, 1.5),
                                                                              ("qwen", 100, 0.25)]
    assert not at.tabs and ORG_TAB not in texts(at)
    assert not any(s.key == "usage_group_by" for s in at.selectbox)


def test_someone_without_usage_is_told_so(open_portal, user_with_role, usage) -> None:
    at = open_portal(user_with_role("contributor"), script=USAGE_PAGE)
    assert not at.exception
    assert "You have no usage yet in the last 30 days." in texts(at)
    assert not at.metric


def test_admin_sees_everyones_usage_by_team_and_department(open_portal, user_with_role, usage) -> None:
    viewer, reviewer = usage
    at = open_portal(user_with_role("admin"), script=USAGE_PAGE)
    assert [t.label for t in at.tabs] == ["Mine", ORG_TAB]
    assert "You have no usage yet" in texts(at)  # the admin's own tab

    at.session_state["usage_tab"] = ORG_TAB
    at.run()
    assert not at.exception
    assert metrics(at) == {"Calls": "3", "Failed calls": "1", "Tokens in": "3,300", "Tokens out": "1,300",
                           "Cost": "$3.75"}
    top_users = at.dataframe[2].value  # by day, top groups, top users
    assert list(zip(top_users["name"], top_users["cost (USD)"])) == [(reviewer.email, 2.0), (viewer.email, 1.75)]

    at.selectbox(key="usage_group_by").set_value("department").run()
    groups = at.dataframe[1].value
    expected: dict[str, float] = {}
    for user, cost in ((viewer, 1.75), (reviewer, 2.0)):
        expected[user.department] = expected.get(user.department, 0.0) + cost
    assert dict(zip(groups["name"], groups["cost (USD)"])) == pytest.approx(expected)


def test_everyones_usage_by_source_reads_the_labels_the_manifests_declare(open_portal, portal_db, user_with_role,
                                                                          usage) -> None:
    viewer, _ = usage
    add_usage(portal_db, viewer, hours_ago=0, model="llama", tokens_in=10, tokens_out=0, cost=0.5,
              source=PROMPT_TEST)
    at = open_portal(user_with_role("admin"), script=USAGE_PAGE)
    at.session_state["usage_tab"] = ORG_TAB
    at.run()
    assert at.selectbox(key="usage_source").options == [
        "anything", "Catalog health probes", "Sandbox chat", "Model comparison", "Chat with documents",
        "Prompt tests", "Training labs"]

    at.selectbox(key="usage_group_by").set_value("source").run()
    assert not at.exception
    groups = at.dataframe[1].value
    assert list(zip(groups["name"], groups["cost (USD)"])) == [("Sandbox chat", 3.75), ("Prompt tests", 0.5)]
    assert set(at.dataframe[0].value["source"]) == {"Sandbox chat", "Prompt tests"}

    at.selectbox(key="usage_source").set_value("prompt test").run()
    assert metrics(at)["Cost"] == "$0.50" and metrics(at)["Calls"] == "1"


def test_a_longer_period_includes_older_usage(open_portal, usage) -> None:
    _, reviewer = usage
    at = open_portal(reviewer, script=USAGE_PAGE)
    assert metrics(at)["Cost"] == "$2.00"
    at.selectbox(key="usage_days").set_value(90).run()
    assert metrics(at)["Cost"] == "$11.00"


def test_a_call_still_running_shows_in_the_spend_and_the_budget_left_at_its_worst_case(open_portal, portal_db,
                                                                                       user_with_role,
                                                                                       monkeypatch) -> None:
    monkeypatch.setenv("PORTAL_SANDBOX_DAILY_TOKEN_QUOTA", "10000")
    monkeypatch.setenv("PORTAL_SANDBOX_TEAM_MONTHLY_BUDGET_USD", "20")
    viewer = user_with_role("viewer")
    add_usage(portal_db, viewer, hours_ago=0, model="llama", tokens_in=1000, tokens_out=500, cost=1.5)
    add_usage(portal_db, viewer, hours_ago=0, model="llama", tokens_in=100, tokens_out=2000, cost=4.25,
              status=CallStatus.RESERVED)
    at = open_portal(viewer, script=USAGE_PAGE)
    assert not at.exception and not at.error
    assert metrics(at)["Cost"] == "$5.75" and metrics(at)["Tokens out"] == "2,500"
    captions = [c.value for c in at.caption]
    assert any("1 call(s) are still running" in c and "\\$4.2500 reserved" in c for c in captions), captions
    assert any("Tokens today: 3,600 of 10,000 used, 2,100 of them reserved for calls still running; 6,400 left"
               in c for c in captions), captions
    assert any("\\$5.75 of \\$20.00 spent, \\$4.2500 of it reserved" in c and "\\$14.25 left" in c
               for c in captions), captions
