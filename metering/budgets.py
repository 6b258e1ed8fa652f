"""Budgets: who pays for a call, the limits in force for them, and the check a page can show before a call.

The authoritative check is the reservation (metering.ledger), made atomically when the call starts; the check
here only tells a person early that a budget is already spent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from portal.core.audit import utcnow
from portal.core.auth import SystemPrincipal
from portal.core.errors import PortalError
from portal.core.gateway import Caller
from portal.core.users import User
from metering.models import BudgetOverride, BudgetScope
from metering.usage import (
    payer_spend_and_in_flight_since,
    payer_spend_since,
    tokens_and_in_flight_since,
    tokens_used_since,
)


class BudgetExhausted(PortalError):
    """A quota or spend cap is used up; the message says which, what is left and when it resets."""


@dataclass(frozen=True)
class BudgetPolicy:
    """The limits in force: a daily token quota per user and a monthly spend cap per team (0 = none)."""

    daily_tokens_per_user: int
    monthly_usd_per_team: float


NO_BUDGETS = BudgetPolicy(daily_tokens_per_user=0, monthly_usd_per_team=0)


@dataclass(frozen=True)
class Payer:
    """Who pays for a call: the person, and the team whose monthly budget it comes from — the person alone when
    they have no team, so nobody escapes a cap by having none. `use_case` names the use case when there is one."""

    user_id: int | None
    email: str
    team: str = ""
    department: str = ""
    use_case: str = ""
    principal: str = ""  # a system principal's name when one pays (then there is no user)

    @classmethod
    def of(cls, user: User, *, use_case: str = "") -> Payer:
        return cls(user_id=user.id, email=user.email, team=user.team or "", department=user.department or "",
                   use_case=use_case)

    @classmethod
    def system(cls, principal: SystemPrincipal) -> Payer:
        """A system principal paying for the portal's own calls (probes): recorded as its, no person's budget."""
        return cls(user_id=None, email=principal.name, principal=principal.name)

    @property
    def caller(self) -> Caller:
        """The identity the gateway sees, for its own chargeback."""
        return Caller(email=self.email, team=self.team or None, department=self.department or None)


def effective_budget(*, session: Session, user: User | Payer, defaults: BudgetPolicy) -> BudgetPolicy:
    """The budgets in force for this user: the defaults, with the user's and the team's overrides applied."""
    if isinstance(user, Payer) and user.principal:
        return NO_BUDGETS  # the portal's own calls (probes) draw on no person's or team's budget
    user_id = user.user_id if isinstance(user, Payer) else user.id
    wanted = [and_(col(BudgetOverride.scope) == BudgetScope.USER.value, col(BudgetOverride.key) == str(user_id))]
    if user.team:
        wanted.append(and_(col(BudgetOverride.scope) == BudgetScope.TEAM.value, col(BudgetOverride.key) == user.team))
    daily, monthly = defaults.daily_tokens_per_user, defaults.monthly_usd_per_team
    for override in session.exec(select(BudgetOverride).where(or_(*wanted))).all():
        if override.scope == BudgetScope.USER and override.daily_tokens is not None:
            daily = override.daily_tokens
        if override.scope == BudgetScope.TEAM and override.monthly_usd is not None:
            monthly = override.monthly_usd
    return BudgetPolicy(daily_tokens_per_user=daily, monthly_usd_per_team=monthly)


def day_start(now: datetime) -> datetime:
    return datetime.combine(now.date(), time.min, tzinfo=UTC)


def month_start(now: datetime) -> datetime:
    return datetime(now.year, now.month, 1, tzinfo=UTC)


def check_budgets(*, session: Session, user: User | Payer, policy: BudgetPolicy, now: datetime | None = None,
                  tokens: int = 0, usd: float = 0.0) -> None:
    """Raise BudgetExhausted unless `tokens` and `usd` more still fit the user's day and the payer's month
    (with nothing asked for: unless anything is left at all)."""
    payer = user if isinstance(user, Payer) else Payer.of(user)
    now = now or utcnow()
    if policy.daily_tokens_per_user:
        used = tokens_used_since(session=session, user_id=payer.user_id, since=day_start(now))
        if used + max(tokens, 1) > policy.daily_tokens_per_user:
            raise BudgetExhausted(_quota_message(policy.daily_tokens_per_user, used, tokens, now))
    if policy.monthly_usd_per_team:
        spent = payer_spend_since(session=session, user_id=payer.user_id, team=payer.team,
                                  since=month_start(now))
        if spent + usd > policy.monthly_usd_per_team or spent >= policy.monthly_usd_per_team:
            raise BudgetExhausted(_cap_message(payer, policy.monthly_usd_per_team, spent, usd, now))


@dataclass(frozen=True)
class DailyQuota:
    """A person's tokens today against their daily quota (what the sandbox shows under its settings)."""

    used: int
    quota: int


def daily_quota(*, session: Session, user: User, defaults: BudgetPolicy, now: datetime | None = None) -> DailyQuota | None:
    """Today's tokens against the user's quota in force; None when they have no daily quota."""
    quota = effective_budget(session=session, user=user, defaults=defaults).daily_tokens_per_user
    if not quota:
        return None
    used = tokens_used_since(session=session, user_id=user.id, since=day_start(now or utcnow()))
    return DailyQuota(used=used, quota=quota)


@dataclass(frozen=True)
class BudgetStanding:
    """What is left of a person's budgets now; calls still running count at their reserved worst case."""

    quota: int  # tokens a day; 0 = no quota
    tokens_used: int  # today, calls in flight included
    tokens_in_flight: int
    cap: float  # the payer's dollars a month; 0 = no cap
    spent: float  # this month, calls in flight included
    spent_in_flight: float
    team: str  # whose month it is; "" = the person's own

    @property
    def tokens_left(self) -> int:
        return max(0, self.quota - self.tokens_used)

    @property
    def usd_left(self) -> float:
        return max(0.0, self.cap - self.spent)


def budget_standing(*, session: Session, user: User, defaults: BudgetPolicy, now: datetime | None = None
                    ) -> BudgetStanding:
    """The user's day and the payer's month against the budgets in force, reservations included, summed in SQL."""
    now = now or utcnow()
    policy = effective_budget(session=session, user=user, defaults=defaults)
    payer = Payer.of(user)
    used, used_in_flight = tokens_and_in_flight_since(session=session, user_id=payer.user_id, since=day_start(now))
    spent, spent_in_flight = payer_spend_and_in_flight_since(session=session, user_id=payer.user_id, team=payer.team,
                                                             since=month_start(now))
    return BudgetStanding(quota=policy.daily_tokens_per_user, tokens_used=used, tokens_in_flight=used_in_flight,
                          cap=policy.monthly_usd_per_team, spent=spent, spent_in_flight=spent_in_flight,
                          team=payer.team)


def _quota_message(quota: int, used: int, asked: int, now: datetime) -> str:
    left = max(0, quota - used)
    resets = f"It resets at 00:00 UTC, in {_until(now, day_start(now) + timedelta(days=1))}."
    if left == 0:
        return f"Your daily sandbox quota of {quota:,} tokens is used up ({used:,} used, 0 left). {resets}"
    return (f"Your daily sandbox quota of {quota:,} tokens has {left:,} left, and this call could use up to "
            f"{asked:,} (the prompt plus the longest answer allowed). Ask for a shorter answer. {resets}")


def _cap_message(payer: Payer, cap: float, spent: float, asked: float, now: datetime) -> str:
    resets = datetime(now.year + now.month // 12, now.month % 12 + 1, 1, tzinfo=UTC)
    left = max(0.0, cap - spent)
    who = f"Team {payer.team}'s" if payer.team else "Your personal (you belong to no team)"
    if left == 0:
        return (f"{who} monthly budget of ${cap:,.2f} is spent (${spent:,.2f} used, $0.00 left). It resets on "
                f"{resets:%Y-%m-%d}; a portal admin can raise it.")
    return (f"{who} monthly budget of ${cap:,.2f} has ${left:,.4f} left, and this call could cost up to "
            f"${asked:,.4f}. Ask for a shorter answer; it resets on {resets:%Y-%m-%d}.")


def _until(now: datetime, then: datetime) -> str:
    minutes = max(1, int((then - now).total_seconds() // 60))
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
