"""Usage and cost: what a call cost, what a person or payer has used, and who used a model (dependents)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from catalog.models import CatalogModel
from catalog.service import Dependent
from metering.models import CallStatus, UsageEvent
from portal.core.audit import utcnow

TOKENS_PER_MILLION = 1_000_000


def cost_usd(model: CatalogModel, *, tokens_in: int, tokens_out: int) -> float:
    """What a call cost at the catalog's prices per million tokens."""
    return (tokens_in * model.input_price_per_mtok + tokens_out * model.output_price_per_mtok) / TOKENS_PER_MILLION


def tokens_used_since(*, session: Session, user_id: int, since: datetime) -> int:
    """Tokens in and out the user has used (or reserved for calls still running) since the given moment."""
    return tokens_and_in_flight_since(session=session, user_id=user_id, since=since)[0]


def tokens_and_in_flight_since(*, session: Session, user_id: int, since: datetime) -> tuple[int, int]:
    """The user's tokens since the moment, and the part of them reserved for calls still running (one query)."""
    tokens = UsageEvent.tokens_in + UsageEvent.tokens_out
    total, in_flight = session.exec(select(func.coalesce(func.sum(tokens), 0), _in_flight(tokens, 0))
                                    .where(UsageEvent.user_id == user_id, col(UsageEvent.at) >= since)).one()
    return int(total), int(in_flight)


def payer_spend_since(*, session: Session, user_id: int, team: str, since: datetime) -> float:
    """Dollars spent from a payer's monthly budget: the team's, or the person's own calls when they have no team."""
    return payer_spend_and_in_flight_since(session=session, user_id=user_id, team=team, since=since)[0]


def payer_spend_and_in_flight_since(*, session: Session, user_id: int, team: str, since: datetime
                                    ) -> tuple[float, float]:
    """A payer's spend since the moment, and the part of it reserved for calls still running (one query)."""
    whose = (UsageEvent.team == team,) if team else (UsageEvent.user_id == user_id, UsageEvent.team == "")
    total, in_flight = session.exec(select(func.coalesce(func.sum(UsageEvent.cost_usd), 0.0),
                                           _in_flight(UsageEvent.cost_usd, 0.0))
                                    .where(*whose, col(UsageEvent.at) >= since)).one()
    return float(total), float(in_flight)


def _in_flight(measure, zero):
    """The sum of `measure` over reservations: calls still running, at their worst case."""
    return func.coalesce(func.sum(case((UsageEvent.status == CallStatus.RESERVED.value, measure), else_=zero)), zero)


DEPENDENTS_WINDOW = timedelta(days=90)


def usage_dependents(*, session: Session, model_name: str) -> list[Dependent]:
    """Who used the model through the portal in the last 90 days: people and teams, counted in SQL."""
    since = utcnow() - DEPENDENTS_WINDOW
    # The portal's own probes (paid for by a system principal) depend on nothing: only people count.
    window = (UsageEvent.model_name == model_name, col(UsageEvent.at) >= since, UsageEvent.principal == "")
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
