"""Admins' budget overrides: who may set them, what they change, and a turn blocked or allowed by them."""

from __future__ import annotations

import pytest
from sqlmodel import select

from catalog.models import DataClassification
from portal.core.audit import AuditEvent
from portal.core.auth import Role
from portal.core.errors import InvalidInput, NotFound, PermissionDenied
from metering.budgets import effective_budget
from metering.overrides import clear_budget_override, list_budget_overrides, set_budget_override, user_budget_key
from sandbox.chat import SandboxPolicy, TurnRequest, prepare_turn
from metering.models import BudgetOverride, UsageEvent
from metering.budgets import BudgetExhausted, BudgetPolicy
from tests.sandbox.support import POLICY

DEFAULTS = BudgetPolicy(daily_tokens_per_user=1000, monthly_usd_per_team=50.0)
TIGHT = SandboxPolicy(budgets=BudgetPolicy(daily_tokens_per_user=10, monthly_usd_per_team=0),
                      max_message_chars=2000, guardrail_actions=POLICY.guardrail_actions)


def test_without_overrides_the_defaults_apply(session, make_user) -> None:
    assert effective_budget(session=session, user=make_user(), defaults=DEFAULTS) == DEFAULTS


def test_a_user_override_sets_the_daily_quota_and_a_team_override_the_monthly_cap(session, make_user) -> None:
    admin, user = make_user(Role.ADMIN, team="Platform"), make_user(team="Data Platform")
    teammate, other = make_user(team="Data Platform"), make_user(team="Brand")
    set_budget_override(session=session, actor=admin, scope="user", key=str(user.id), daily_tokens=5000)
    set_budget_override(session=session, actor=admin, scope="team", key="Data Platform", monthly_usd=0)
    session.commit()
    assert effective_budget(session=session, user=user, defaults=DEFAULTS) == BudgetPolicy(5000, 0)
    assert effective_budget(session=session, user=teammate, defaults=DEFAULTS) == BudgetPolicy(1000, 0)
    assert effective_budget(session=session, user=other, defaults=DEFAULTS) == DEFAULTS
    assert [(r.override.scope, r.who) for r in list_budget_overrides(session=session, actor=admin)] == [
        ("user", user.email), ("team", "Data Platform")]


def test_setting_again_changes_it_and_the_audit_log_has_before_and_after(session, make_user) -> None:
    admin, user = make_user(Role.ADMIN), make_user()
    key = user_budget_key(session=session, email=f"  {user.email.upper()} ")
    set_budget_override(session=session, actor=admin, scope="user", key=key, daily_tokens=5000)
    set_budget_override(session=session, actor=admin, scope="user", key=key, daily_tokens=7000,
                        base_revision=1)
    clear_budget_override(session=session, actor=admin, scope="user", key=key, base_revision=2)
    session.commit()
    assert session.exec(select(BudgetOverride)).all() == []
    events = session.exec(select(AuditEvent).where(AuditEvent.entity_type == "budget_override")
                          .order_by(AuditEvent.id)).all()
    assert [(e.action, e.entity_id, e.before, e.after) for e in events] == [
        ("sandbox.budget_override_set", f"user:{key}", None, {"daily_tokens": 5000, "monthly_usd": None}),
        ("sandbox.budget_override_set", f"user:{key}", {"daily_tokens": 5000, "monthly_usd": None},
         {"daily_tokens": 7000, "monthly_usd": None}),
        ("sandbox.budget_override_cleared", f"user:{key}", {"daily_tokens": 7000, "monthly_usd": None}, None),
    ]
    assert all(e.actor_email == admin.email for e in events)


@pytest.mark.parametrize(("role", "allowed"), [(Role.VIEWER, False), (Role.CONTRIBUTOR, False),
                                               (Role.REVIEWER, False), (Role.ADMIN, True)])
def test_only_admins_manage_overrides(session, make_user, role, allowed) -> None:
    actor, admin = make_user(role), make_user(Role.ADMIN)
    set_budget_override(session=session, actor=admin, scope="team", key="Brand", monthly_usd=10)
    calls = [lambda: set_budget_override(session=session, actor=actor, scope="team", key="Brand", monthly_usd=99,
                                                 base_revision=1),
             lambda: list_budget_overrides(session=session, actor=actor),
             lambda: clear_budget_override(session=session, actor=actor, scope="team", key="Brand",
                                                   base_revision=2)]
    for call in calls:
        if allowed:
            call()
        else:
            with pytest.raises(PermissionDenied, match="needs the admin role"):
                call()


@pytest.mark.parametrize(("scope", "key", "fields", "message"), [
    ("user", "{user}", {"monthly_usd": 5.0}, "A user's override sets their daily token quota"),
    ("team", "Brand", {"daily_tokens": 5}, "A team's override sets its monthly spend cap"),
    ("user", "{user}", {"daily_tokens": -1}, "cannot be negative"),
    ("team", "Brand", {"monthly_usd": -1.0}, "cannot be negative"),
    ("user", "999999", {"daily_tokens": 5}, "No portal user has the id '999999'"),
    ("team", "   ", {"monthly_usd": 5.0}, "A team name needs 1 to 120 characters"),
    ("department", "Brand", {"monthly_usd": 5.0}, "for a user or a team, not 'department'"),
])
def test_invalid_overrides_are_refused(session, make_user, scope, key, fields, message) -> None:
    admin, user = make_user(Role.ADMIN), make_user()
    with pytest.raises(InvalidInput, match=message):
        set_budget_override(session=session, actor=admin, scope=scope, key=key.format(user=user.id), **fields)


def test_clearing_what_is_not_there_says_so(session, make_user) -> None:
    with pytest.raises(NotFound, match="no budget override for team 'Brand'"):
        clear_budget_override(session=session, actor=make_user(Role.ADMIN), scope="team", key="Brand",
                              base_revision=1)


def test_unknown_email_is_refused(session) -> None:
    with pytest.raises(InvalidInput, match="No portal user has the e-mail address 'ghost@example.com'"):
        user_budget_key(session=session, email="ghost@example.com")


def spend(session, user, tokens: int = 0, usd: float = 0.0) -> None:
    session.add(UsageEvent(user_id=user.id, team=user.team, model_name="fake-small", source="sandbox chat",
                           tokens_in=tokens, cost_usd=usd))
    session.commit()


def turn() -> TurnRequest:
    return TurnRequest(message="Hello", model_name="fake-small", classification=DataClassification.INTERNAL)


def test_a_turn_follows_the_users_daily_override(session, make_user, make_model) -> None:
    make_model(name="fake-small", served=True)
    admin, user = make_user(Role.ADMIN), make_user()
    spend(session, user, tokens=20)
    with pytest.raises(BudgetExhausted, match="daily sandbox quota of 10 tokens"):
        prepare_turn(session=session, user=user, policy=TIGHT, request=turn())
    set_budget_override(session=session, actor=admin, scope="user", key=str(user.id), daily_tokens=100)
    session.commit()
    assert not prepare_turn(session=session, user=user, policy=TIGHT, request=turn()).blocked
    set_budget_override(session=session, actor=admin, scope="user", key=str(user.id), daily_tokens=15,
                        base_revision=1)
    session.commit()
    with pytest.raises(BudgetExhausted, match="daily sandbox quota of 15 tokens"):
        prepare_turn(session=session, user=user, policy=TIGHT, request=turn())


def test_a_turn_follows_the_teams_monthly_override(session, make_user, make_model) -> None:
    make_model(name="fake-small", served=True)
    admin, user = make_user(Role.ADMIN), make_user(team="Brand")
    spend(session, user, usd=3.0)
    assert not prepare_turn(session=session, user=user, policy=POLICY, request=turn()).blocked
    set_budget_override(session=session, actor=admin, scope="team", key="Brand", monthly_usd=2.0)
    session.commit()
    with pytest.raises(BudgetExhausted, match=r"Team Brand's monthly budget of \$2.00 is spent"):
        prepare_turn(session=session, user=user, policy=POLICY, request=turn())
