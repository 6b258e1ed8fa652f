"""The audit log: typed events recorded in the same transaction as the change they describe."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar, Protocol

from sqlalchemy import JSON, Column, func
from sqlalchemy.orm import defer
from sqlmodel import Field, Session, SQLModel, col, select

from portal.core.auth import HasRole, Permission, require
from portal.core.db import LIKE_ESCAPE, contains_pattern, distinct_values


def utcnow() -> datetime:
    """Now, as an aware UTC datetime (SQLModel stores and returns every timestamp in UTC)."""
    return datetime.now(UTC)


class AuditEvent(SQLModel, table=True):
    """One recorded change: who did what to which entity, and the before/after summary."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor_id: int | None = Field(default=None, foreign_key="portal_user.id", index=True)
    actor_email: str = Field(default="system", max_length=320, index=True)
    action: str = Field(max_length=80, index=True)
    entity_type: str = Field(max_length=80, index=True)
    entity_id: str = Field(max_length=120)
    summary: str = Field(default="", max_length=500)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class Actor(Protocol):
    """Who acted, as the audit log needs it: a user, or a system principal (whose id is None)."""

    @property
    def id(self) -> int | None: ...

    @property
    def email(self) -> str: ...


JSONDict = dict[str, Any]


class Event:
    """An audit event type: a frozen dataclass of typed facts that names its action and entity type.

    Subclasses set `action` (the string stored and filtered on) and `entity_type` as class constants, and derive
    the entity id, summary and before/after JSON from their fields. A feature lists its event types in its manifest.
    Where the entity id or a side of the JSON is one field as it is, the class names that field instead of a method.
    """

    action: ClassVar[str]
    entity_type: ClassVar[str]
    entity_field: ClassVar[str] = ""  # the field holding the entity's id
    before_field: ClassVar[str] = ""  # the field holding the before JSON, recorded as it is
    after_field: ClassVar[str] = ""

    def entity_id(self) -> str | int:
        if not self.entity_field:
            raise NotImplementedError(f"{type(self).__name__} must say which entity it is about")
        return getattr(self, self.entity_field)

    def summary(self) -> str:
        return ""

    def before(self) -> JSONDict | None:
        return getattr(self, self.before_field) if self.before_field else None

    def after(self) -> JSONDict | None:
        return getattr(self, self.after_field) if self.after_field else None


class Change(Event):
    """An event carrying what changed as it was (an `old` field) and as it is (a `new` field)."""

    before_field: ClassVar[str] = "old"
    after_field: ClassVar[str] = "new"


@dataclass(frozen=True)
class Moved:
    """One value that moved: recorded as `{key: <old field>}` before and `{key: <new field>}` after."""

    key: str
    old: str  # the field holding the value before
    new: str


class ValueChange(Event):
    """An event about one value that moved (a title, a status, a flag); `moved` names its key and fields."""

    moved: ClassVar[Moved]

    def before(self) -> JSONDict:
        return {self.moved.key: getattr(self, self.moved.old)}

    def after(self) -> JSONDict:
        return {self.moved.key: getattr(self, self.moved.new)}


def record(session: Session, actor: Actor, event: Event) -> AuditEvent:
    """Add the event to the session; it commits (or rolls back) with the change it describes."""
    if actor is None:  # every change has a principal: a user, or a named system principal
        raise TypeError("record needs the principal who acted, not None")
    row = AuditEvent(
        actor_id=actor.id,  # None for a system principal: it is not a portal_user row
        actor_email=actor.email,
        action=event.action,
        entity_type=event.entity_type,
        entity_id=str(event.entity_id()),
        summary=event.summary()[:500],
        before=event.before(),
        after=event.after(),
    )
    session.add(row)
    return row


@dataclass(frozen=True)
class AuditFilter:
    """What the admin's audit-log browser filters on; empty fields match everything."""

    actor: str = ""
    entity_type: str = ""
    entity_id: str = ""
    action: str = ""
    since: date | None = None
    until: date | None = None


# Counting every match of an unfiltered log costs a full index scan; past this many the page says "10,000+".
AUDIT_COUNT_CAP = 10_000


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    total: int  # at most AUDIT_COUNT_CAP
    total_is_capped: bool = False  # more events match than `total` says


def browse_audit_log(
    *, session: Session, actor: HasRole, filters: AuditFilter, limit: int = 50, offset: int = 0
) -> AuditPage:
    """One page of audit events, newest first, with how many match (up to the cap); admins only."""
    require(actor, Permission.VIEW_AUDIT_LOG)
    conditions = _conditions(filters)
    matching = select(AuditEvent.id).where(*conditions).limit(AUDIT_COUNT_CAP + 1).subquery()
    total = session.exec(select(func.count()).select_from(matching)).one()
    rows = session.exec(
        select(AuditEvent)
        # The before/after JSON is for one event's detail view, not for the list: skip parsing it.
        .options(defer(AuditEvent.before), defer(AuditEvent.after))
        .where(*conditions)
        .order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return AuditPage(events=list(rows), total=min(total, AUDIT_COUNT_CAP), total_is_capped=total > AUDIT_COUNT_CAP)


def audit_facets(*, session: Session, actor: HasRole,
                 declared: Iterable[type[Event]] = ()) -> tuple[list[str], list[str]]:
    """The actions and entity types for the filter drop-downs: the declared event types', and any in the log."""
    require(actor, Permission.VIEW_AUDIT_LOG)
    declared = list(declared)
    columns = AuditEvent.__table__.c
    # The log may hold actions of event types no installed feature declares any more: they stay filterable.
    actions = {event.action for event in declared} | set(distinct_values(session, columns.action))
    entity_types = {event.entity_type for event in declared} | set(distinct_values(session, columns.entity_type))
    return sorted(actions), sorted(entity_types)


def _conditions(filters: AuditFilter) -> list[Any]:
    conditions: list[Any] = []
    if filters.actor:
        conditions.append(col(AuditEvent.actor_email).ilike(contains_pattern(filters.actor), escape=LIKE_ESCAPE))
    if filters.entity_type:
        conditions.append(AuditEvent.entity_type == filters.entity_type)
    if filters.entity_id:
        conditions.append(AuditEvent.entity_id == filters.entity_id)
    if filters.action:
        conditions.append(AuditEvent.action == filters.action)
    if filters.since:
        conditions.append(col(AuditEvent.at) >= datetime.combine(filters.since, time.min, tzinfo=UTC))
    if filters.until:
        conditions.append(col(AuditEvent.at) < datetime.combine(filters.until + timedelta(days=1), time.min, tzinfo=UTC))
    return conditions
