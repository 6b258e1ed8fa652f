"""Usage and budgets: cost from catalog prices, quotas and caps that say what is left and when it resets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from catalog.models import CatalogModel
from portal.core.auth import Role
from metering.models import CallStatus, UsageEvent
from sandbox.models import SANDBOX_CHAT
from metering.budgets import BudgetExhausted, BudgetPolicy, check_budgets
from metering.ledger import record_usage
from metering.usage import cost_usd

NOW = datetime(2026, 11, 25, 21, 30, tzinfo=UTC)


def test_cost_uses_prices_per_million_tokens() -> None:
    model = CatalogModel(name="m", display_name="m", input_price_per_mtok=0.15, output_price_per_mtok=0.60)
    assert cost_usd(model, tokens_in=2_000, tokens_out=500) == pytest.approx(0.0006)


def add_usage(session, user, *, at: datetime, tokens: int = 0, cost: float = 0.0) -> None:
    session.add(UsageEvent(user_id=user.id, team=user.team, department=user.department, model_name="m",
                           source=SANDBOX_CHAT.value, tokens_in=tokens, cost_usd=cost, at=at))
    session.commit()


def test_record_usage_stores_who_what_and_cost(session, make_user) -> None:
    user = make_user(Role.VIEWER, department="Finance", team="FP&A")
    model = CatalogModel(name="gpt-4o-mini", display_name="x", input_price_per_mtok=0.15, output_price_per_mtok=0.6)
    event = record_usage(session, user=user, model=model, source=SANDBOX_CHAT, tokens_in=1000,
                         tokens_out=1000, estimated=True, latency_s=1.5, ttft_s=0.2, status=CallStatus.OK)
    session.commit()
    assert (event.team, event.department, event.model_name, event.source) == (
        "FP&A", "Finance", "gpt-4o-mini", "sandbox chat")
    assert event.cost_usd == pytest.approx(0.00075) and event.usage_estimated


def test_daily_quota_counts_only_today_and_says_when_it_resets(session, make_user) -> None:
    user = make_user()
    policy = BudgetPolicy(daily_tokens_per_user=1000, monthly_usd_per_team=0)
    add_usage(session, user, at=NOW - timedelta(days=1), tokens=5000)
    add_usage(session, user, at=NOW - timedelta(hours=1), tokens=999)
    check_budgets(session=session, user=user, policy=policy, now=NOW)
    add_usage(session, user, at=NOW - timedelta(minutes=5), tokens=1)
    with pytest.raises(BudgetExhausted) as caught:
        check_budgets(session=session, user=user, policy=policy, now=NOW)
    assert caught.value.message == ("Your daily sandbox quota of 1,000 tokens is used up (1,000 used, 0 left). "
                                    "It resets at 00:00 UTC, in 2 h 30 min.")


def test_team_cap_counts_the_whole_team_this_month(session, make_user) -> None:
    alice, bob = make_user(team="Campaigns"), make_user(team="Campaigns")
    other = make_user(team="Brand")
    policy = BudgetPolicy(daily_tokens_per_user=0, monthly_usd_per_team=10.0)
    add_usage(session, alice, at=NOW - timedelta(days=30), cost=50.0)  # last month
    add_usage(session, alice, at=NOW - timedelta(days=2), cost=6.0)
    add_usage(session, other, at=NOW - timedelta(days=2), cost=60.0)
    check_budgets(session=session, user=bob, policy=policy, now=NOW)
    add_usage(session, bob, at=NOW - timedelta(hours=2), cost=4.0)
    with pytest.raises(BudgetExhausted, match=r"Team Campaigns's monthly budget of \$10.00 is spent \(\$10.00 used, "
                                              r"\$0.00 left\). It resets on 2026-12-01"):
        check_budgets(session=session, user=alice, policy=policy, now=NOW)


def test_december_cap_resets_in_january(session, make_user) -> None:
    user = make_user(team="Ops")
    december = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    add_usage(session, user, at=december - timedelta(hours=1), cost=1.0)
    with pytest.raises(BudgetExhausted, match="resets on 2027-01-01"):
        check_budgets(session=session, user=user, policy=BudgetPolicy(0, 0.5), now=december)


def test_zero_means_no_limit(session, make_user) -> None:
    user = make_user()
    add_usage(session, user, at=NOW, tokens=10**9, cost=10**6)
    check_budgets(session=session, user=user, policy=BudgetPolicy(0, 0), now=NOW)
