"""Usage dashboards: sums by UTC day and model, team or department, the window's edge, and who may see what."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from portal.core.auth import Role
from portal.core.errors import InvalidInput, PermissionDenied
from sandbox.dashboard import my_usage, org_usage, window_start
from metering.models import CallStatus, UsageEvent
from portal.core.features import UsageSource
from prompt_library.models import PROMPT_TEST
from sandbox.models import SANDBOX_CHAT, SANDBOX_COMPARE

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
TODAY, YESTERDAY = date(2026, 11, 26), date(2026, 11, 25)


def add(session, user, *, at: datetime, model: str = "llama", tokens_in: int = 0, tokens_out: int = 0,
        cost: float = 0.0, status: CallStatus = CallStatus.OK, source: UsageSource = SANDBOX_CHAT) -> None:
    session.add(UsageEvent(user_id=user.id, team=user.team, department=user.department, model_name=model,
                           source=source.value, tokens_in=tokens_in, tokens_out=tokens_out,
                           cost_usd=cost, status=status.value, at=at))
    session.commit()


def by_day_and_key(report) -> dict[tuple[date, str], tuple[int, int, int, float, int]]:
    return {(b.day, b.key): (b.totals.calls, b.totals.tokens_in, b.totals.tokens_out,
                             round(b.totals.cost_usd, 6), b.totals.failures) for b in report.buckets}


def test_my_usage_sums_tokens_and_cost_by_utc_day_and_model(session, make_user) -> None:
    me, someone_else = make_user(), make_user()
    add(session, me, at=NOW - timedelta(hours=1), model="llama", tokens_in=100, tokens_out=10, cost=0.5)
    add(session, me, at=NOW - timedelta(hours=2), model="llama", tokens_in=200, tokens_out=20, cost=0.25)
    add(session, me, at=NOW - timedelta(hours=3), model="qwen", tokens_in=7, tokens_out=3, cost=0.125,
        status=CallStatus.FAILED)
    # 23:59 UTC yesterday stays yesterday, whatever time zone the database session has.
    add(session, me, at=datetime(2026, 11, 25, 23, 59, tzinfo=UTC), model="llama", tokens_in=1, cost=1.0)
    add(session, someone_else, at=NOW - timedelta(hours=1), model="llama", tokens_in=9999, cost=99.0)

    report = my_usage(session=session, user=me, days=30, now=NOW)

    assert by_day_and_key(report) == {
        (YESTERDAY, "llama"): (1, 1, 0, 1.0, 0),
        (TODAY, "llama"): (2, 300, 30, 0.75, 0),
        (TODAY, "qwen"): (1, 7, 3, 0.125, 1),
    }
    assert [b.day for b in report.buckets] == [YESTERDAY, TODAY, TODAY]  # oldest first
    totals = report.totals
    assert (totals.calls, totals.failures, totals.tokens_in, totals.tokens_out) == (4, 1, 308, 33)
    assert totals.cost_usd == pytest.approx(1.875) and totals.tokens == 341
    assert report.group_by == "model" and not report.empty


def test_the_window_starts_at_midnight_utc_days_minus_one_days_ago(session, make_user) -> None:
    me = make_user()
    since = window_start(days=7, now=NOW)
    assert since == datetime(2026, 11, 20, tzinfo=UTC)
    add(session, me, at=since, tokens_in=1)
    add(session, me, at=since - timedelta(microseconds=1), tokens_in=1000)
    add(session, me, at=since - timedelta(days=3), tokens_in=1000)

    report = my_usage(session=session, user=me, days=7, now=NOW)

    assert by_day_and_key(report) == {(date(2026, 11, 20), "llama"): (1, 1, 0, 0.0, 0)}
    assert my_usage(session=session, user=me, days=1, now=NOW).empty


@pytest.mark.parametrize("days", [0, -1, 367])
def test_a_window_outside_one_to_366_days_is_refused(session, make_user, days: int) -> None:
    with pytest.raises(InvalidInput, match="1 to 366 days"):
        my_usage(session=session, user=make_user(), days=days, now=NOW)


def test_no_usage_is_an_empty_report(session, make_user) -> None:
    report = my_usage(session=session, user=make_user(), now=NOW)
    assert report.empty and report.buckets == [] and report.totals.cost_usd == 0.0


@pytest.fixture
def org(session, make_user):
    """Three people in two teams and two departments, with usage today and yesterday."""
    ana = make_user(Role.VIEWER, email="ana@example.com", department="Finance", team="FP&A")
    ben = make_user(Role.VIEWER, email="ben@example.com", department="Finance", team="Treasury")
    cy = make_user(Role.CONTRIBUTOR, email="cy@example.com", department="Marketing", team="Campaigns")
    add(session, ana, at=NOW - timedelta(hours=1), tokens_in=100, tokens_out=50, cost=2.0)
    add(session, ana, at=NOW - timedelta(days=1), tokens_in=10, cost=0.5, status=CallStatus.FAILED)
    add(session, ben, at=NOW - timedelta(hours=2), model="qwen", tokens_in=1000, tokens_out=500, cost=3.0)
    add(session, cy, at=NOW - timedelta(hours=3), tokens_in=40, tokens_out=4, cost=0.25)
    add(session, cy, at=NOW - timedelta(days=40), tokens_in=5000, cost=50.0)  # outside 30 days
    return ana, ben, cy


def test_org_usage_by_team(session, make_user, org) -> None:
    report = org_usage(session=session, actor=make_user(Role.REVIEWER), group_by="team", now=NOW)

    assert by_day_and_key(report) == {
        (YESTERDAY, "FP&A"): (1, 10, 0, 0.5, 1),
        (TODAY, "Campaigns"): (1, 40, 4, 0.25, 0),
        (TODAY, "FP&A"): (1, 100, 50, 2.0, 0),
        (TODAY, "Treasury"): (1, 1000, 500, 3.0, 0),
    }
    assert [(g.name, g.totals.cost_usd) for g in report.top_groups] == [
        ("Treasury", 3.0), ("FP&A", 2.5), ("Campaigns", 0.25)]
    assert [(u.name, u.totals.cost_usd, u.totals.calls) for u in report.top_users] == [
        ("ben@example.com", 3.0, 1), ("ana@example.com", 2.5, 2), ("cy@example.com", 0.25, 1)]
    assert (report.totals.calls, report.totals.failures, report.totals.tokens) == (4, 1, 1704)
    assert report.totals.cost_usd == pytest.approx(5.75)


def test_org_usage_by_department_and_filtered_to_one(session, make_user, org) -> None:
    admin = make_user(Role.ADMIN)
    by_department = org_usage(session=session, actor=admin, group_by="department", now=NOW)
    assert [(g.name, g.totals.cost_usd, g.totals.tokens) for g in by_department.top_groups] == [
        ("Finance", 5.5, 1660), ("Marketing", 0.25, 44)]

    finance = org_usage(session=session, actor=admin, group_by="team", department="Finance", now=NOW)
    assert {g.name for g in finance.top_groups} == {"FP&A", "Treasury"}
    assert [u.name for u in finance.top_users] == ["ben@example.com", "ana@example.com"]

    one_team = org_usage(session=session, actor=admin, group_by="department", team="Campaigns", now=NOW, days=90)
    assert by_day_and_key(one_team) == {
        (date(2026, 10, 17), "Marketing"): (1, 5000, 0, 50.0, 0),
        (TODAY, "Marketing"): (1, 40, 4, 0.25, 0),
    }


def test_org_usage_by_source_and_filtered_to_one(session, make_user, org) -> None:
    ana, ben, _ = org
    add(session, ana, at=NOW - timedelta(hours=1), tokens_in=7, cost=1.0, source=PROMPT_TEST)
    add(session, ben, at=NOW - timedelta(hours=1), tokens_in=3, cost=0.5, source=SANDBOX_COMPARE)
    admin = make_user(Role.ADMIN)

    by_source = org_usage(session=session, actor=admin, group_by="source", now=NOW)
    assert [(g.name, g.totals.cost_usd, g.totals.calls) for g in by_source.top_groups] == [
        ("sandbox chat", 5.75, 4), ("prompt test", 1.0, 1), ("sandbox compare", 0.5, 1)]  # the stored values

    prompt_tests = org_usage(session=session, actor=admin, group_by="team", source="prompt test", now=NOW)
    assert by_day_and_key(prompt_tests) == {(TODAY, "FP&A"): (1, 7, 0, 1.0, 0)}
    assert [u.name for u in prompt_tests.top_users] == ["ana@example.com"]


@pytest.mark.parametrize(("role", "allowed"), [(Role.VIEWER, False), (Role.CONTRIBUTOR, False),
                                               (Role.REVIEWER, True), (Role.ADMIN, True)])
def test_only_reviewers_and_admins_see_everyones_usage(session, make_user, org, role: Role, allowed: bool) -> None:
    actor = make_user(role)
    if allowed:
        assert org_usage(session=session, actor=actor, now=NOW).totals.calls == 4
        return
    with pytest.raises(PermissionDenied, match=f"Your role \\({role.value}\\) may not see usage and cost per team"):
        org_usage(session=session, actor=actor, now=NOW)


def test_everyone_sees_their_own_usage(session, make_user, org) -> None:
    ana = org[0]
    assert my_usage(session=session, user=ana, now=NOW).totals.calls == 2


def test_org_usage_groups_only_by_team_or_department(session, make_user) -> None:
    # On purpose outside the Literal the signature declares: an untyped caller (a page, a URL) can still pass
    # it, and the service must refuse it at run time rather than trust the annotation.
    with pytest.raises(InvalidInput, match="team or department"):
        org_usage(session=session, actor=make_user(Role.ADMIN), group_by="model", now=NOW)  # type: ignore[arg-type]
