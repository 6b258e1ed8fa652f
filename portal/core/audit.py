"""The audit log: typed events recorded in the same transaction as the change they describe."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import JSON, Column, func
from sqlalchemy.orm import defer
from sqlmodel import Field, Session, SQLModel, col, select

from portal.core.auth import HasRole, Permission, require
from portal.core.db import LIKE_ESCAPE, contains_pattern, distinct_values


def utcnow() -> datetime:
    """Now, as an aware UTC datetime (SQLModel stores and returns every timestamp in UTC)."""
    return datetime.now(UTC)


class AuditAction(StrEnum):
    """What happened; features add their own actions to this one list so the log stays filterable."""

    USER_CREATED = "user.created"
    USER_SIGNED_IN = "user.signed_in"
    USER_ROLE_CHANGED = "user.role_changed"
    USER_PROFILE_CHANGED = "user.profile_changed"
    CATALOG_MODEL_REQUESTED = "catalog.model_requested"
    CATALOG_MODEL_REGISTERED = "catalog.model_registered"
    CATALOG_MODEL_TRANSITIONED = "catalog.model_transitioned"
    CATALOG_CARD_EDITED = "catalog.card_edited"
    CATALOG_IMPORTED = "catalog.imported"
    CATALOG_SYNCED = "catalog.synced"
    CATALOG_PROBED = "catalog.probed"
    CATALOG_RISK_CHANGE_PROPOSED = "catalog.risk_change_proposed"
    CATALOG_RISK_CHANGE_DECIDED = "catalog.risk_change_decided"
    CATALOG_EVALUATION_ADDED = "catalog.evaluation_added"
    CATALOG_EVALUATION_EDITED = "catalog.evaluation_edited"
    CATALOG_EVALUATION_REMOVED = "catalog.evaluation_removed"
    SANDBOX_GUARDRAIL_FIRED = "sandbox.guardrail_fired"
    SANDBOX_CONVERSATION_RENAMED = "sandbox.conversation_renamed"
    SANDBOX_CONVERSATION_DELETED = "sandbox.conversation_deleted"
    SANDBOX_CONVERSATION_SHARED = "sandbox.conversation_shared"
    SANDBOX_CONVERSATION_SHARE_REVOKED = "sandbox.conversation_share_revoked"
    SANDBOX_BUDGET_OVERRIDE_SET = "sandbox.budget_override_set"
    SANDBOX_BUDGET_OVERRIDE_CLEARED = "sandbox.budget_override_cleared"
    SANDBOX_DOCUMENT_ADDED = "sandbox.document_added"
    SANDBOX_DOCUMENT_REMOVED = "sandbox.document_removed"
    TRAINING_SYNCED = "training.synced"
    TRAINING_ASSIGNED = "training.assigned"
    TRAINING_ASSIGNMENT_REMOVED = "training.assignment_removed"
    TRAINING_CERTIFICATE_ISSUED = "training.certificate_issued"
    TEMPLATE_REGISTERED = "template.registered"
    TEMPLATE_UPDATED = "template.updated"
    TEMPLATE_TRUST_CHANGED = "template.trust_changed"
    TEMPLATE_DETAILS_EDITED = "template.details_edited"
    TEMPLATE_FORKED = "template.forked"
    TEMPLATE_FORK_UPDATED = "template.fork_updated"
    PROMPT_CREATED = "prompt.created"
    PROMPT_VERSION_SAVED = "prompt.version_saved"
    PROMPT_FORKED = "prompt.forked"
    PROMPT_LABEL_MOVED = "prompt.label_moved"
    PROMPT_REVIEW_REQUESTED = "prompt.review_requested"
    PROMPT_REVIEW_DECIDED = "prompt.review_decided"
    PROMPT_UNPUBLISHED = "prompt.unpublished"
    PROMPT_DELETED = "prompt.deleted"
    PROMPT_TRUST_CHANGED = "prompt.trust_changed"
    PROMPT_TEST_CASES_SAVED = "prompt.test_cases_saved"
    PROMPT_TESTS_RUN = "prompt.tests_run"
    PROMPT_IMPORTED = "prompt.imported"


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


def record_event(
    session: Session,
    *,
    actor: Actor,
    action: AuditAction,
    entity_type: str,
    entity_id: str | int,
    summary: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the session; it commits (or rolls back) with the change it describes."""
    if actor is None:  # every change has a principal: a user, or a named system principal
        raise TypeError("record_event needs the principal who acted, not None")
    event = AuditEvent(
        actor_id=actor.id,  # None for a system principal: it is not a portal_user row
        actor_email=actor.email,
        action=action.value,
        entity_type=entity_type,
        entity_id=str(entity_id),
        summary=summary[:500],
        before=before,
        after=after,
    )
    session.add(event)
    return event


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


def audit_facets(*, session: Session, actor: HasRole) -> tuple[list[str], list[str]]:
    """The distinct actions and entity types in the log, for the filter drop-downs."""
    require(actor, Permission.VIEW_AUDIT_LOG)
    columns = AuditEvent.__table__.c
    return distinct_values(session, columns.action), distinct_values(session, columns.entity_type)


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
