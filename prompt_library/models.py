"""Prompt library tables: prompts, their immutable versions, labels, reviews, ratings, test cases and runs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.core.audit import utcnow
from portal.core.features import UsageSource

PROMPT_TEST = UsageSource("prompt test", "Prompt tests")  # test cases and the judge's verdicts on them
PROMPT_USAGE_SOURCES = (PROMPT_TEST,)


class TemplateFormat(StrEnum):
    """LangChain template syntaxes; jinja2 runs code-like templates, so only prompts an admin trusts get it."""

    F_STRING = "f-string"
    MUSTACHE = "mustache"
    JINJA2 = "jinja2"


class Visibility(StrEnum):
    PRIVATE = "private"  # the owner (and reviewers asked to review it)
    ORGANISATION = "organisation"  # everyone who may browse


class PromptStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"  # publication to the organisation requested
    PUBLISHED = "published"
    ARCHIVED = "archived"  # unpublished; kept for its history until its owner deletes it

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class ReviewKind(StrEnum):
    PUBLISH = "publish"
    PRODUCTION = "production"  # move the production label to the version


class ReviewState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


PRODUCTION, STAGING = "production", "staging"


class Prompt(SQLModel, table=True):
    """A prompt: what it is for, who owns it, where it may be used, and counters for sorting.

    Its card (title … recommended_models) is the one readers see: the approved version's card once a reviewer
    approved one, until then the latest version's. Listing, search and the semantic index read it from here.
    """

    __tablename__ = "prompt"
    # The library's listing counts and pages shared prompts, and a person's own unshared ones, from the index
    # alone (a count over 10,000 prompts: 0.5 ms instead of 1.8 ms for reading every row).
    __table_args__ = (Index("ix_prompt_shared_newest", "status", "visibility", "created_at"),
                      Index("ix_prompt_owner_status", "owner_id", "status", "visibility"))

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=120, unique=True, index=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    category: str = Field(default="", max_length=80, index=True)
    department: str = Field(default="", max_length=120, index=True)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    owner_id: int = Field(foreign_key="portal_user.id")  # indexed first in ix_prompt_owner_status
    visibility: str = Field(default=Visibility.PRIVATE.value, max_length=20)
    status: str = Field(default=PromptStatus.DRAFT.value, max_length=20, index=True)
    classification: int = Field(default=2)  # DataClassification of the data the prompt is meant for
    recommended_models: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    trusted: bool = False  # an admin allowed jinja2 templates
    forked_from_id: int | None = Field(default=None, foreign_key="prompt.id")
    latest_version: int = 0
    # The newest version a reviewer other than its author approved (0: none yet). Readers and applications get
    # this one, so a save after approval changes nothing they see until the new version is reviewed too.
    approved_version: int = 0
    content_hash: str = Field(default="", max_length=64)  # of the latest version; the search index compares it
    # What keyword search reads: the card above and the messages of the version readers get.
    search_text: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    usage_count: int = Field(default=0, index=True)
    rating_count: int = 0
    rating_average: float = Field(default=0.0, index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)


class PromptVersion(SQLModel, table=True):
    """One saved state of a prompt's template and card; never changed after it is written."""

    __tablename__ = "prompt_version"
    __table_args__ = (UniqueConstraint("prompt_id", "number", name="uq_prompt_version_prompt_number"),)

    id: int | None = Field(default=None, primary_key=True)
    prompt_id: int = Field(foreign_key="prompt.id", index=True)
    number: int
    template_format: str = Field(default=TemplateFormat.F_STRING.value, max_length=20)
    messages: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    variables: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    change_note: str = Field(default="", max_length=500)
    content_hash: str = Field(max_length=64)
    author_id: int = Field(foreign_key="portal_user.id")
    created_at: datetime = Field(default_factory=utcnow)
    # The card as saved with this version (prompt_library.card.CARD_FIELDS). Readers see the card of the newest
    # approved version, which approval copies onto the prompt row; editors see and edit the latest one.
    title: str = Field(default="", max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    category: str = Field(default="", max_length=80)
    department: str = Field(default="", max_length=120)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    classification: int = Field(default=2)
    recommended_models: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class PromptLabel(SQLModel, table=True):
    """A named pointer (production, staging, custom) at one version; moving it promotes or rolls back."""

    __tablename__ = "prompt_label"
    __table_args__ = (UniqueConstraint("prompt_id", "name", name="uq_prompt_label_prompt_name"),)

    id: int | None = Field(default=None, primary_key=True)
    prompt_id: int = Field(foreign_key="prompt.id", index=True)
    name: str = Field(max_length=40)
    version_id: int = Field(foreign_key="prompt_version.id")
    moved_by_id: int | None = Field(default=None, foreign_key="portal_user.id")
    moved_at: datetime = Field(default_factory=utcnow)


class PromptReview(SQLModel, table=True):
    """A four-eyes request: publish the prompt, or move production to a version; decided by another person."""

    __tablename__ = "prompt_review"

    id: int | None = Field(default=None, primary_key=True)
    prompt_id: int = Field(foreign_key="prompt.id", index=True)
    version_id: int = Field(foreign_key="prompt_version.id")
    kind: str = Field(max_length=20)
    state: str = Field(default=ReviewState.PENDING.value, max_length=20, index=True)
    requested_by_id: int = Field(foreign_key="portal_user.id")
    requested_at: datetime = Field(default_factory=utcnow)
    reviewer_id: int | None = Field(default=None, foreign_key="portal_user.id")
    decided_at: datetime | None = None
    comment: str = Field(default="", max_length=2000)


class PromptComment(SQLModel, table=True):
    """A comment on a version, from a review or a reader."""

    __tablename__ = "prompt_comment"

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="prompt_version.id", index=True)
    author_id: int = Field(foreign_key="portal_user.id")
    body: str = Field(max_length=2000)
    created_at: datetime = Field(default_factory=utcnow)


class PromptRating(SQLModel, table=True):
    __tablename__ = "prompt_rating"
    __table_args__ = (UniqueConstraint("prompt_id", "user_id", name="uq_prompt_rating_prompt_user"),)

    id: int | None = Field(default=None, primary_key=True)
    prompt_id: int = Field(foreign_key="prompt.id", index=True)
    user_id: int = Field(foreign_key="portal_user.id")
    stars: int = Field(ge=1, le=5)
    at: datetime = Field(default_factory=utcnow)


class PromptFavourite(SQLModel, table=True):
    __tablename__ = "prompt_favourite"
    __table_args__ = (UniqueConstraint("prompt_id", "user_id", name="uq_prompt_favourite_prompt_user"),)

    id: int | None = Field(default=None, primary_key=True)
    prompt_id: int = Field(foreign_key="prompt.id", index=True)
    user_id: int = Field(foreign_key="portal_user.id", index=True)
    at: datetime = Field(default_factory=utcnow)


class PromptTestCase(SQLModel, table=True):
    """Variable values plus checks (prompt_library.assertions.OutputCheck, stored as dicts)."""

    __tablename__ = "prompt_test_case"

    id: int | None = Field(default=None, primary_key=True)
    prompt_id: int = Field(foreign_key="prompt.id", index=True)
    name: str = Field(max_length=200)
    variables: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    checks: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class PromptTestRun(SQLModel, table=True):
    """Every test case of one version run on one model: one cell of the version × model matrix."""

    __tablename__ = "prompt_test_run"
    __table_args__ = (Index("ix_prompt_test_run_version_model", "version_id", "model_name"),)

    id: int | None = Field(default=None, primary_key=True)
    prompt_id: int = Field(foreign_key="prompt.id", index=True)
    version_id: int = Field(foreign_key="prompt_version.id")
    model_name: str = Field(max_length=200)
    run_by_id: int = Field(foreign_key="portal_user.id")
    finished_at: datetime = Field(default_factory=utcnow)
    cases: int = 0
    passed: int = 0
    latency_s: float = 0.0  # mean per case
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0
    results: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
