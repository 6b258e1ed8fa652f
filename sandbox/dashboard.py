"""Usage dashboards: tokens, calls and cost by UTC day and model, team, department or source, summed in SQL."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from portal.core.audit import utcnow
from portal.core.auth import Permission, require
from portal.core.errors import InvalidInput
from portal.core.users import User
from metering.models import CallStatus, UsageEvent

GroupBy = Literal["model", "team", "department", "source"]
ORG_GROUPINGS: tuple[GroupBy, ...] = ("team", "department", "source")  # source: what the calls were made for
MAX_DAYS = 366
TOP = 10


@dataclass(frozen=True)
class UsageTotals:
    """Calls, failures, tokens and dollars over a set of usage events; calls still running count at their
    reserved worst case, and `in_flight`/`in_flight_usd` say how many and how much of the total that is."""

    calls: int = 0
    failures: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    in_flight: int = 0
    in_flight_usd: float = 0.0

    @property
    def tokens(self) -> int:
        return self.tokens_in + self.tokens_out

    def __add__(self, other: UsageTotals) -> UsageTotals:
        return UsageTotals(self.calls + other.calls, self.failures + other.failures, self.tokens_in + other.tokens_in,
                           self.tokens_out + other.tokens_out, self.cost_usd + other.cost_usd,
                           self.in_flight + other.in_flight, self.in_flight_usd + other.in_flight_usd)


@dataclass(frozen=True)
class UsageBucket:
    """The usage of one UTC day for one model, team, department or source (`key`, as stored)."""

    day: date
    key: str
    totals: UsageTotals


@dataclass(frozen=True)
class RankedUsage:
    """A user, team or department with its usage over the window, for the top-by-cost lists."""

    name: str
    totals: UsageTotals


@dataclass(frozen=True)
class UsageReport:
    """Usage since `since` (midnight UTC, `days` days ago counting today), bucketed by day and `group_by`."""

    since: datetime
    days: int
    group_by: GroupBy
    buckets: list[UsageBucket]
    totals: UsageTotals
    top_groups: list[RankedUsage] = field(default_factory=list)
    top_users: list[RankedUsage] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.totals.calls == 0


def window_start(*, days: int, now: datetime | None = None) -> datetime:
    """Midnight UTC of the first day of a window of `days` UTC days that ends today."""
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput(f"A usage window is 1 to {MAX_DAYS} days; {days} is outside that.")
    today = (now or utcnow()).astimezone(UTC).date()
    return datetime.combine(today - timedelta(days=days - 1), time.min, tzinfo=UTC)


def my_usage(*, session: Session, user: User, days: int = 30, now: datetime | None = None) -> UsageReport:
    """The user's own usage by day and model over the last `days` UTC days."""
    since = window_start(days=days, now=now)
    # (user_id, at) is indexed, so this reads only the user's rows in the window.
    where = (UsageEvent.user_id == user.id, col(UsageEvent.at) >= since)
    buckets = _buckets(session, where, col(UsageEvent.model_name))
    return _report(since, days, "model", buckets)


def org_usage(*, session: Session, actor: User, days: int = 30, group_by: GroupBy = "team", team: str = "",
              department: str = "", source: str = "", now: datetime | None = None) -> UsageReport:
    """Everyone's usage by day and team, department or source, optionally of one team, department or source
    (a stored usage source value); reviewers and up."""
    require(actor, Permission.VIEW_TEAM_USAGE)
    if group_by not in ORG_GROUPINGS:
        raise InvalidInput(f"Usage groups by {' or '.join(ORG_GROUPINGS)}, not {group_by!r}.")
    since = window_start(days=days, now=now)
    # A filtered report reads the (team, at) or (department, at) index; an unfiltered one the range of `at`.
    where = [col(UsageEvent.at) >= since]
    if team:
        where.append(UsageEvent.team == team)
    if department:
        where.append(UsageEvent.department == department)
    if source:
        where.append(UsageEvent.source == source)
    group_column = col({"team": UsageEvent.team, "department": UsageEvent.department,
                        "source": UsageEvent.source}[group_by])
    buckets = _buckets(session, tuple(where), group_column)
    report = _report(since, days, group_by, buckets)
    if report.empty:
        return report
    top_groups = _ranked_groups(buckets)
    return UsageReport(since=since, days=days, group_by=group_by, buckets=buckets, totals=report.totals,
                       top_groups=top_groups, top_users=_top_users(session, tuple(where)))


def _sums(*extra):
    """The aggregate columns every query selects, after any grouping columns; the cost comes last.

    A reservation (a call still running) already holds its worst case in its tokens and cost, so it is summed
    with the rest; it is also counted apart, so a page can say how much of the spend is still in flight."""
    failed = func.sum(case((UsageEvent.status == CallStatus.FAILED.value, 1), else_=0))
    running = UsageEvent.status == CallStatus.RESERVED.value
    in_flight, in_flight_usd = func.sum(case((running, 1), else_=0)), func.sum(case((running, UsageEvent.cost_usd),
                                                                                   else_=0.0))
    return (*extra, func.count(), failed, in_flight, in_flight_usd, func.sum(UsageEvent.tokens_in),
            func.sum(UsageEvent.tokens_out), func.sum(UsageEvent.cost_usd))


def _totals(calls, failures, in_flight, in_flight_usd, tokens_in, tokens_out, cost) -> UsageTotals:
    return UsageTotals(int(calls), int(failures or 0), int(tokens_in or 0), int(tokens_out or 0), float(cost or 0.0),
                       int(in_flight or 0), float(in_flight_usd or 0.0))


def _utc_day(session: Session):
    """The UTC calendar day of an event, as SQL: SQLite stores UTC text, PostgreSQL an aware timestamp."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", UsageEvent.at))
    return func.date(UsageEvent.at)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _buckets(session: Session, where: tuple, group_column) -> list[UsageBucket]:
    day = _utc_day(session)
    rows = session.exec(select(*_sums(day, group_column)).where(*where)
                        .group_by(day, group_column).order_by(day, group_column)).all()
    return [UsageBucket(day=_as_date(d), key=key or "(none)", totals=_totals(*sums)) for d, key, *sums in rows]


def _report(since: datetime, days: int, group_by: GroupBy, buckets: list[UsageBucket]) -> UsageReport:
    # Summing the already-aggregated buckets (days x groups) is cheaper than another pass over the events.
    totals = sum((b.totals for b in buckets), UsageTotals())
    return UsageReport(since=since, days=days, group_by=group_by, buckets=buckets, totals=totals)


def _ranked_groups(buckets: list[UsageBucket]) -> list[RankedUsage]:
    by_key: dict[str, UsageTotals] = defaultdict(UsageTotals)
    for bucket in buckets:
        by_key[bucket.key] += bucket.totals
    ranked = sorted(by_key.items(), key=lambda item: (-item[1].cost_usd, item[0]))
    return [RankedUsage(name=name, totals=totals) for name, totals in ranked[:TOP]]


def _top_users(session: Session, where: tuple) -> list[RankedUsage]:
    """The top payers by cost: people by e-mail, system principals (the probes) by name."""
    cost = func.sum(UsageEvent.cost_usd)
    per_payer = (select(*_sums(UsageEvent.user_id, UsageEvent.principal)).where(*where)
                 .group_by(UsageEvent.user_id, UsageEvent.principal)
                 .order_by(cost.desc(), UsageEvent.user_id, UsageEvent.principal).limit(TOP).subquery())
    name = func.coalesce(User.email, per_payer.c.principal)
    rows = session.exec(select(name, *list(per_payer.c)[2:])
                        .select_from(per_payer).outerjoin(User, col(User.id) == per_payer.c.user_id)
                        .order_by(list(per_payer.c)[-1].desc(), name)).all()
    return [RankedUsage(name=payer, totals=_totals(*sums)) for payer, *sums in rows]
