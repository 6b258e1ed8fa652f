"""Sandbox tables: conversations, messages and shares, and comparison votes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.core.audit import utcnow
from portal.core.features import UsageSource

# What the sandbox's gateway calls are made for, as its usage is stored and reported.
SANDBOX_CHAT = UsageSource("sandbox chat", "Sandbox chat")
SANDBOX_COMPARE = UsageSource("sandbox compare", "Model comparison")
SANDBOX_DOCUMENTS = UsageSource("sandbox documents", "Chat with documents")
SANDBOX_USAGE_SOURCES = (SANDBOX_CHAT, SANDBOX_COMPARE, SANDBOX_DOCUMENTS)


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
