"""Sandbox tables: conversations, messages and shares, usage events, comparison votes and budget overrides."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.core.audit import utcnow


class UsageSource(StrEnum):
    """What a gateway call was made for; usage and cost reports group by it."""

    SANDBOX_CHAT = "sandbox chat"
    SANDBOX_COMPARE = "sandbox compare"
    SANDBOX_DOCUMENTS = "sandbox documents"
    PROMPT_TEST = "prompt test"
    TRAINING_LAB = "training lab"


class CallStatus(StrEnum):
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
    user_id: int = Field(foreign_key="portal_user.id")
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


class Conversation(SQLModel, table=True):
    """A sandbox chat a user keeps: its model, data classification and settings."""

    __tablename__ = "sandbox_conversation"

    id: int | None = Field(default=None, primary_key=True)
    owner_id: int = Field(foreign_key="portal_user.id", index=True)
    title: str = Field(default="New conversation", max_length=200)
    model_name: str = Field(max_length=200)
    classification: int = Field(default=1)
    system_prompt: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    temperature: float = 0.7
    top_p: float = 1.0
    max_tokens: int = 512
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, index=True)


class ChatMessage(SQLModel, table=True):
    """One message in a conversation; an assistant message carries its model, usage and timing."""

    __tablename__ = "sandbox_message"

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="sandbox_conversation.id", index=True)
    role: str = Field(max_length=20)  # user | assistant
    content: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    model_name: str = Field(default="", max_length=200)
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    time_to_first_token_s: float | None = None
    tokens_per_second: float | None = None
    incomplete: bool = False  # the answer was cut off; what arrived is kept
    redactions: int = 0  # how many values guardrails replaced before sending
    # An answer from documents: the passages it was given (document key, position, file, page or section).
    citations: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))


class ComparisonVote(SQLModel, table=True):
    """A user's verdict on one side-by-side comparison: hashes of what was sent, never the text itself."""

    __tablename__ = "sandbox_comparison_vote"
    __table_args__ = (UniqueConstraint("comparison_id", name="uq_sandbox_comparison_vote_comparison_id"),)

    id: int | None = Field(default=None, primary_key=True)
    comparison_id: str = Field(max_length=32)  # one vote per comparison, enforced by the database too
    user_id: int = Field(foreign_key="portal_user.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    classification: int
    message_hash: str = Field(max_length=64)  # sha256 of the text sent to the models
    model_a: str = Field(max_length=200, index=True)
    model_b: str = Field(max_length=200, index=True)
    model_c: str = Field(default="", max_length=200, index=True)  # "" when two answers were compared
    system_prompt_hash_a: str = Field(default="", max_length=64)  # "" when there was no system prompt
    system_prompt_hash_b: str = Field(default="", max_length=64)
    system_prompt_hash_c: str = Field(default="", max_length=64)
    prompt_variant: bool = False  # one model with different system prompts: says nothing about the model itself
    winner_side: str = Field(default="", max_length=1)  # "a", "b", "c", or "" for a tie or all bad
    winner: str = Field(max_length=200)  # the winning model's name, "tie" or "none" (all bad)


class ConversationShare(SQLModel, table=True):
    """A conversation its owner lets one colleague read (never continue)."""

    __tablename__ = "sandbox_conversation_share"
    __table_args__ = (UniqueConstraint("conversation_id", "shared_with_user_id",
                                       name="uq_sandbox_conversation_share_conversation_user"),)

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="sandbox_conversation.id", index=True)
    shared_with_user_id: int = Field(foreign_key="portal_user.id", index=True)
    shared_by: int = Field(foreign_key="portal_user.id")
    created_at: datetime = Field(default_factory=utcnow)


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
