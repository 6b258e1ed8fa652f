"""Calls still running (reservations) count at their worst case in the spend shown and the budget left."""

from __future__ import annotations

from metering.budgets import BudgetPolicy, Payer, budget_standing
from metering.ledger import CallUsage, reserve, settle
from metering.models import CallStatus
from sandbox.models import SANDBOX_CHAT
from sandbox.dashboard import my_usage, org_usage

BUDGETS = BudgetPolicy(daily_tokens_per_user=10_000, monthly_usd_per_team=50.0)
PROMPT, LONGEST = 100, 2_000  # tokens: the prompt and the longest answer allowed


def running_call(session, user, model):
    """A call reserved at its worst case and not settled yet."""
    return reserve(engine=session.get_bind(), payer=Payer.of(user), model=model, source=SANDBOX_CHAT,
                   defaults=BUDGETS, tokens_in=PROMPT, max_tokens_out=LONGEST)


def test_a_running_call_counts_at_its_worst_case_until_settled(session, make_user, make_model) -> None:
    me = make_user()
    model = make_model(input_price_per_mtok=1000.0, output_price_per_mtok=2000.0)  # worst case: $0.10 + $4.00
    reservation = running_call(session, me, model)

    standing = budget_standing(session=session, user=me, defaults=BUDGETS)
    assert (standing.tokens_used, standing.tokens_in_flight, standing.tokens_left) == (2_100, 2_100, 7_900)
    assert (round(standing.spent, 6), round(standing.spent_in_flight, 6), round(standing.usd_left, 6)) == (4.1, 4.1,
                                                                                                          45.9)
    totals = my_usage(session=session, user=me, days=1).totals
    assert (totals.calls, totals.in_flight, totals.tokens_out, round(totals.cost_usd, 6),
            round(totals.in_flight_usd, 6)) == (1, 1, LONGEST, 4.1, 4.1)
    org = org_usage(session=session, actor=make_user("admin"), days=1).totals
    assert (org.in_flight, round(org.in_flight_usd, 6), round(org.cost_usd, 6)) == (1, 4.1, 4.1)

    settle(engine=session.get_bind(), reservation=reservation, usage=CallUsage(
        tokens_in=PROMPT, tokens_out=10, estimated=False, latency_s=0.1, ttft_s=0.05, status=CallStatus.OK))
    session.expire_all()
    standing = budget_standing(session=session, user=me, defaults=BUDGETS)
    assert (standing.tokens_used, standing.tokens_in_flight, round(standing.spent, 6)) == (110, 0, 0.12)
    assert my_usage(session=session, user=me, days=1).totals.in_flight == 0


def test_a_teammates_running_call_draws_on_the_teams_month(session, make_user, make_model) -> None:
    me, teammate = make_user(team="Campaigns"), make_user(team="Campaigns")
    running_call(session, teammate, make_model(input_price_per_mtok=1000.0, output_price_per_mtok=1000.0))
    standing = budget_standing(session=session, user=me, defaults=BUDGETS)
    assert (standing.team, standing.tokens_used) == ("Campaigns", 0)  # the day's quota is the person's own
    assert (round(standing.spent_in_flight, 6), round(standing.usd_left, 6)) == (2.1, 47.9)
