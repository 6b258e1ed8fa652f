"""Catalog tables: one row per model card, and the health probes run against served models."""

from __future__ import annotations

from datetime import date, datetime
from enum import IntEnum, StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from portal.core.audit import utcnow


class ModelStatus(StrEnum):
    """Where a model is in its lifecycle; see catalog.lifecycle for the allowed moves."""

    PROPOSED = "proposed"
    UNDER_REVIEW = "under_review"
    APPROVED = "approved"
    RESTRICTED = "restricted"  # approved, but only for named teams or departments
    DEPRECATED = "deprecated"
    RETIRED = "retired"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


# Statuses in which staff may use a model (the sandbox offers only these).
USABLE_STATUSES = (ModelStatus.APPROVED, ModelStatus.RESTRICTED, ModelStatus.DEPRECATED)


class DataClassification(IntEnum):
    """How sensitive data is; a model cleared for a level is cleared for every level below it."""

    PUBLIC = 1
    INTERNAL = 2
    CONFIDENTIAL = 3
    RESTRICTED = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, value: str | int) -> DataClassification:
        if isinstance(value, int):
            return cls(value)
        return cls[value.strip().upper()]


class Hosting(StrEnum):
    SELF_HOSTED = "self_hosted"  # on the central gateway's GPUs
    THIRD_PARTY_API = "third_party_api"


class Mode(StrEnum):
    CHAT = "chat"
    EMBEDDING = "embedding"


class RiskTier(IntEnum):
    """1 self-service with guardrails, 2 light-touch review, 3 full review."""

    SELF_SERVICE = 1
    LIGHT_REVIEW = 2
    FULL_REVIEW = 3


class CatalogModel(SQLModel, table=True):
    """A model card: identity, capabilities, cost, use and risk, lifecycle, and the request that proposed it."""

    __tablename__ = "catalog_model"

    id: int | None = Field(default=None, primary_key=True)
    # Identity
    name: str = Field(max_length=200, unique=True, index=True)  # the id the gateway serves
    display_name: str = Field(max_length=200)
    provider: str = Field(default="", max_length=100, index=True)
    family: str = Field(default="", max_length=100)
    version: str = Field(default="", max_length=50)
    hosting: str = Field(default=Hosting.SELF_HOSTED.value, max_length=20, index=True)
    owner: str = Field(default="", max_length=200)
    # Capabilities
    mode: str = Field(default=Mode.CHAT.value, max_length=20, index=True)
    modalities_in: str = Field(default="text", max_length=100)  # comma-separated: text,image,audio
    modalities_out: str = Field(default="text", max_length=100)
    max_input_tokens: int | None = Field(default=None, index=True)
    max_output_tokens: int | None = None
    supports_tools: bool = False
    supports_vision: bool = False
    supports_json_output: bool = False
    # Cost, in US dollars per million tokens (for chargeback)
    input_price_per_mtok: float = Field(default=0.0, ge=0)
    output_price_per_mtok: float = Field(default=0.0, ge=0)
    # Use and risk
    license: str = Field(default="", max_length=200)
    intended_uses: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    out_of_scope: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    evaluations: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    risk_tier: int = Field(default=RiskTier.FULL_REVIEW.value, index=True)
    max_classification: int = Field(default=DataClassification.PUBLIC.value, index=True)
    guardrails: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Lifecycle
    status: str = Field(default=ModelStatus.PROPOSED.value, max_length=20, index=True)
    restricted_teams: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    restricted_departments: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    approved_by_id: int | None = Field(default=None, foreign_key="portal_user.id")
    approved_at: datetime | None = None
    next_review_on: date | None = None
    released_on: date | None = None
    deprecated_on: date | None = None
    retired_on: date | None = None
    replacement_name: str = Field(default="", max_length=200)
    body_markdown: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # The request that proposed the model (empty for models registered by the CoE)
    requested_by_id: int | None = Field(default=None, foreign_key="portal_user.id", index=True)
    request_use_case: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    request_justification: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    request_team: str = Field(default="", max_length=120)
    # Gateway sync: None until the first sync
    served: bool | None = Field(default=None, index=True)
    served_checked_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def allowed_classifications(self) -> list[DataClassification]:
        """Every classification this model is cleared for, lowest first."""
        return [c for c in DataClassification if c <= self.max_classification]

    @property
    def input_modalities(self) -> list[str]:
        return [m for m in self.modalities_in.split(",") if m]

    @property
    def output_modalities(self) -> list[str]:
        return [m for m in self.modalities_out.split(",") if m]

    def snapshot(self) -> dict[str, Any]:
        """The lifecycle fields an audit event's before/after shows."""
        return {"status": self.status, "restricted_teams": list(self.restricted_teams),
                "restricted_departments": list(self.restricted_departments),
                "deprecated_on": self.deprecated_on.isoformat() if self.deprecated_on else None,
                "replacement_name": self.replacement_name,
                "retired_on": self.retired_on.isoformat() if self.retired_on else None}


class ProbeResult(SQLModel, table=True):
    """One health probe of a served model: a tiny request, timed."""

    __tablename__ = "catalog_probe"
    __table_args__ = (Index("ix_catalog_probe_model_at", "model_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="catalog_model.id")
    at: datetime = Field(default_factory=utcnow)
    success: bool
    latency_s: float | None = None  # whole request
    time_to_first_token_s: float | None = None
    tokens_per_second: float | None = None
    error: str = Field(default="", max_length=500)
