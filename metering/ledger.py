"""The ledger: a call's worst case is reserved before it is made, atomically, and settled to what it used after.

A reservation is a usage event in status `reserved` carrying the call's worst case (prompt tokens plus the longest
answer allowed, at the model's prices), so every budget sum counts calls still running. It is written in its own
short transaction after taking the budget's lock row: two reservations against one budget are serialised (a row
lock on PostgreSQL, the write lock on SQLite), so parallel calls can never together pass a cap. Settling turns the
reservation into the call's real usage.

Neither runs while the caller holds an open write transaction on SQLite: the metered path is called between the
caller's transactions, never inside one (the write lock would wait on itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlmodel import Session

from catalog.models import CatalogModel
from metering.budgets import BudgetPolicy, Payer, check_budgets, effective_budget
from metering.models import BudgetLock, CallStatus, UsageEvent
from metering.usage import cost_usd
from portal.core.db import session_scope
from portal.core.users import User
from portal.core.features import UsageSource

MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class Reservation:
    """A reserved call: the usage event that holds its worst case until it is settled."""

    event_id: int
    payer: Payer
    model: CatalogModel


@dataclass(frozen=True)
class CallUsage:
    """What a finished call used, as settled."""

    tokens_in: int
    tokens_out: int
    estimated: bool  # the gateway reported no usage: the portal counted the tokens
    latency_s: float | None
    ttft_s: float | None
    status: CallStatus
    error: str = ""


def record_usage(session: Session, *, user: User | Payer, model: CatalogModel, source: UsageSource,
                 tokens_in: int, tokens_out: int, estimated: bool, latency_s: float | None, ttft_s: float | None,
                 status: CallStatus, error: str = "") -> UsageEvent:
    """Add one usage event (it commits with the caller's transaction)."""
    payer = user if isinstance(user, Payer) else Payer.of(user)
    event = UsageEvent(user_id=payer.user_id, principal=payer.principal, team=payer.team,
                       department=payer.department, model_name=model.name, source=source.value,
                       tokens_in=tokens_in, tokens_out=tokens_out, usage_estimated=estimated,
                       cost_usd=cost_usd(model, tokens_in=tokens_in, tokens_out=tokens_out), latency_s=latency_s,
                       time_to_first_token_s=ttft_s, status=status.value, error=error[:MAX_ERROR_CHARS])
    session.add(event)
    return event


def reserve(*, engine: Engine, payer: Payer, model: CatalogModel, source: UsageSource, defaults: BudgetPolicy,
            tokens_in: int, max_tokens_out: int, now: datetime | None = None) -> Reservation:
    """Reserve the call's worst case against the payer's budgets, or raise BudgetExhausted (nothing reserved)."""
    with session_scope(engine) as session:
        policy = effective_budget(session=session, user=payer, defaults=defaults)
        _lock_budgets(session, payer, policy)
        check_budgets(session=session, user=payer, policy=policy, now=now, tokens=tokens_in + max_tokens_out,
                      usd=cost_usd(model, tokens_in=tokens_in, tokens_out=max_tokens_out))
        event = record_usage(session, user=payer, model=model, source=source, tokens_in=tokens_in,
                             tokens_out=max_tokens_out, estimated=True, latency_s=None, ttft_s=None,
                             status=CallStatus.RESERVED)
        if now is not None:
            event.at = now
        session.flush()
        return Reservation(event_id=event.id, payer=payer, model=model)


def settle(*, engine: Engine, reservation: Reservation, usage: CallUsage) -> UsageEvent:
    """Replace the reservation's worst case with what the call used; the event keeps its id and time."""
    with session_scope(engine) as session:
        event = session.get(UsageEvent, reservation.event_id)
        event.tokens_in, event.tokens_out, event.usage_estimated = usage.tokens_in, usage.tokens_out, usage.estimated
        event.cost_usd = cost_usd(reservation.model, tokens_in=usage.tokens_in, tokens_out=usage.tokens_out)
        event.latency_s, event.time_to_first_token_s = usage.latency_s, usage.ttft_s
        event.status, event.error = usage.status.value, usage.error[:MAX_ERROR_CHARS]
        session.add(event)
        session.flush()
        return event


def _lock_budgets(session: Session, payer: Payer, policy: BudgetPolicy) -> None:
    """Take the lock rows of the budgets this call draws on (none when no limit applies); always the person's
    first, so two calls never wait on each other in opposite order."""
    keys = []
    if policy.daily_tokens_per_user or (policy.monthly_usd_per_team and not payer.team):
        keys.append(f"user:{payer.user_id}")
    if policy.monthly_usd_per_team and payer.team:
        keys.append(f"team:{payer.team}")
    for key in keys:
        bump = update(BudgetLock).where(BudgetLock.key == key).values(reservations=BudgetLock.reservations + 1)
        if session.exec(bump).rowcount == 0:  # the budget's first reservation: its row is made once
            insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
            session.exec(insert(BudgetLock).values(key=key, reservations=0).on_conflict_do_nothing())
            session.exec(bump)
