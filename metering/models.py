"""Metering tables: one usage event per gateway call (reserved, then settled), budget overrides, budget locks."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.core.audit import utcnow
from portal.core.features import UsageSource

# What metering's own calls are made for; each feature declares the sources of its calls in its manifest.
PROBE = UsageSource("probe", "Catalog health probes")  # paid for by the system:probe principal
METERING_USAGE_SOURCES = (PROBE,)


class CallStatus(StrEnum):
    """How a gateway call ended; `reserved` while it runs (its worst case counts against the budgets)."""

    RESERVED = "reserved"
    OK = "ok"
    INTERRUPTED = "interrupted"  # the answer started but did not finish; the part that arrived is kept
    FAILED = "failed"  # no answer (gateway down, 429, 5xx, unknown model, timeout)


class UsageEvent(SQLModel, table=True):
    """One gateway call made by the portal: who, which model, tokens, cost and timing."""

    __tablename__ = "usage_event"
    __table_args__ = (
        Index("ix_usage_event_user_at", "user_id", "at"),
        Index("ix_usage_event_team_at", "team", "at"),
        Index("ix_usage_event_department_at", "department", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    user_id: int | None = Field(default=None, foreign_key="portal_user.id")  # None: a system principal paid
    principal: str = Field(default="", max_length=80)  # the system principal that paid, e.g. "system:probe"
    team: str = Field(default="", max_length=120)
    department: str = Field(default="", max_length=120)
    model_name: str = Field(max_length=200, index=True)
    source: str = Field(max_length=40)
    tokens_in: int = 0
    tokens_out: int = 0
    usage_estimated: bool = False  # the gateway reported no usage; tokens were counted by the portal
    cost_usd: float = 0.0
    latency_s: float | None = None
    time_to_first_token_s: float | None = None
    status: str = Field(default=CallStatus.OK.value, max_length=20)
    error: str = Field(default="", max_length=500)


class BudgetScope(StrEnum):
    """What a budget override applies to: one user's daily token quota, or one team's monthly spend cap."""

    USER = "user"
    TEAM = "team"


class BudgetOverride(SQLModel, table=True):
    """An admin's exception to the configured budgets for one user (key = user id) or one team (key = its name)."""

    __tablename__ = "sandbox_budget_override"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_sandbox_budget_override_scope_key"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=10)
    key: str = Field(max_length=120)
    daily_tokens: int | None = None  # a user's daily token quota; 0 = no quota
    monthly_usd: float | None = None  # a team's monthly spend cap; 0 = no cap
    set_by: int = Field(foreign_key="portal_user.id")
    updated_at: datetime = Field(default_factory=utcnow)
    # Counts saved edits; an edit names the revision it started from, so a stale one is refused, not lost.
    revision: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class BudgetLock(SQLModel, table=True):
    """One row per budget (a user's day, a payer's month): reserving takes its row lock, so two reservations
    against the same budget never both read the spend before either adds to it (SQLite and PostgreSQL alike)."""

    __tablename__ = "budget_lock"

    key: str = Field(primary_key=True, max_length=200)
    reservations: int = 0  # bumped by every reservation: the write that takes the lock
