"""Usage, cost and budgets: every gateway call is recorded; a spent budget stops the next call before it is made."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from catalog.models import CatalogModel
from catalog.service import Dependent
from portal.core.audit import utcnow
from portal.core.errors import PortalError
from portal.core.users import User
from sandbox.models import CallStatus, UsageEvent, UsageSource

TOKENS_PER_MILLION = 1_000_000


class BudgetExhausted(PortalError):
    """A quota or spend cap is used up; the message says which, what is left and when it resets."""


@dataclass(frozen=True)
class BudgetPolicy:
    """The limits in force: a daily token quota per user and a monthly spend cap per team (0 = none)."""

    daily_tokens_per_user: int
    monthly_usd_per_team: float


def cost_usd(model: CatalogModel, *, tokens_in: int, tokens_out: int) -> float:
    """What a call cost at the catalog's prices per million tokens."""
    return (tokens_in * model.input_price_per_mtok + tokens_out * model.output_price_per_mtok) / TOKENS_PER_MILLION


def record_usage(session: Session, *, user: User, model: CatalogModel, source: UsageSource, tokens_in: int,
                 tokens_out: int, estimated: bool, latency_s: float | None, ttft_s: float | None,
                 status: CallStatus, error: str = "") -> UsageEvent:
    """Add one usage event for a gateway call (it commits with the caller's transaction)."""
    event = UsageEvent(user_id=user.id, team=user.team, department=user.department, model_name=model.name,
                       source=source.value, tokens_in=tokens_in, tokens_out=tokens_out, usage_estimated=estimated,
                       cost_usd=cost_usd(model, tokens_in=tokens_in, tokens_out=tokens_out), latency_s=latency_s,
                       time_to_first_token_s=ttft_s, status=status.value, error=error[:500])
    session.add(event)
    return event


def check_budgets(*, session: Session, user: User, policy: BudgetPolicy, now: datetime | None = None) -> None:
    """Raise BudgetExhausted when the user's daily tokens or the team's monthly spend are used up."""
    now = now or utcnow()
    day_start = datetime.combine(now.date(), time.min, tzinfo=UTC)
    if policy.daily_tokens_per_user:
        used = tokens_used_since(session=session, user_id=user.id, since=day_start)
        if used >= policy.daily_tokens_per_user:
            resets = day_start + timedelta(days=1)
            raise BudgetExhausted(
                f"Your daily sandbox quota of {policy.daily_tokens_per_user:,} tokens is used up "
                f"({used:,} used, 0 left). It resets at 00:00 UTC, in {_until(now, resets)}.")
    if policy.monthly_usd_per_team and user.team:
        month_start = datetime(now.year, now.month, 1, tzinfo=UTC)
        spent = team_spend_since(session=session, team=user.team, since=month_start)
        if spent >= policy.monthly_usd_per_team:
            resets = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)
            raise BudgetExhausted(
                f"Team {user.team}'s monthly budget of ${policy.monthly_usd_per_team:,.2f} is spent "
                f"(${spent:,.2f} used, $0.00 left). It resets on {resets:%Y-%m-%d}; a portal admin can raise it.")


def tokens_used_since(*, session: Session, user_id: int, since: datetime) -> int:
    """Tokens in and out the user has used since the given moment."""
    total = session.exec(select(func.coalesce(func.sum(UsageEvent.tokens_in + UsageEvent.tokens_out), 0))
                         .where(UsageEvent.user_id == user_id, col(UsageEvent.at) >= since)).one()
    return int(total)


def team_spend_since(*, session: Session, team: str, since: datetime) -> float:
    """Dollars the team has spent since the given moment."""
    total = session.exec(select(func.coalesce(func.sum(UsageEvent.cost_usd), 0.0))
                         .where(UsageEvent.team == team, col(UsageEvent.at) >= since)).one()
    return float(total)


def _until(now: datetime, then: datetime) -> str:
    minutes = max(1, int((then - now).total_seconds() // 60))
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


DEPENDENTS_WINDOW = timedelta(days=90)


def usage_dependents(*, session: Session, model_name: str) -> list[Dependent]:
    """Who used the model through the portal in the last 90 days: people and teams, counted in SQL."""
    since = utcnow() - DEPENDENTS_WINDOW
    window = (UsageEvent.model_name == model_name, col(UsageEvent.at) >= since)
    calls, people = session.exec(select(func.count(), func.count(func.distinct(UsageEvent.user_id)))
                                 .where(*window)).one()
    if not calls:
        return []
    teams = session.exec(select(UsageEvent.team, func.count(func.distinct(UsageEvent.user_id)))
                         .where(*window, UsageEvent.team != "").group_by(UsageEvent.team)
                         .order_by(func.count(func.distinct(UsageEvent.user_id)).desc(), UsageEvent.team)).all()
    found = [Dependent(kind="sandbox usage", name=f"{people} people, {calls} calls in the last 90 days")]
    found += [Dependent(kind="team", name=team, detail=f"{count} people") for team, count in teams]
    return found
