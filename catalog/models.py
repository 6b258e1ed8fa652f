"""Catalog tables: one row per model card, and the health probes run against served models."""

from __future__ import annotations

from datetime import date, datetime
from enum import IntEnum, StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, create_model
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Index, Integer
from sqlalchemy import Text as SaText
from sqlalchemy.types import TypeDecorator
from sqlmodel import AutoString, Field, SQLModel
from sqlmodel.main import FieldInfoMetadata

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

    @property
    def label(self) -> str:
        return HOSTING_LABELS[self]

    @property
    def short_label(self) -> str:
        """The label where a narrow table column has no room for the whole one."""
        return "self-hosted" if self is Hosting.SELF_HOSTED else "API"


HOSTING_LABELS = {Hosting.SELF_HOSTED: "self-hosted (gateway GPUs)", Hosting.THIRD_PARTY_API: "third-party API"}


class Mode(StrEnum):
    CHAT = "chat"
    EMBEDDING = "embedding"

    @property
    def label(self) -> str:
        return self.value


class RiskTier(IntEnum):
    """1 self-service with guardrails, 2 light-touch review, 3 full review."""

    SELF_SERVICE = 1
    LIGHT_REVIEW = 2
    FULL_REVIEW = 3

    @property
    def label(self) -> str:
        return f"{self.value} — {RISK_TIER_LABELS[self]}"


RISK_TIER_LABELS = {RiskTier.SELF_SERVICE: "self-service with guardrails", RiskTier.LIGHT_REVIEW: "light-touch review",
                    RiskTier.FULL_REVIEW: "full review"}


class StrEnumColumn(TypeDecorator):
    """A StrEnum kept as its value in a VARCHAR column (sa.Enum would store the member's name instead)."""

    impl = AutoString
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int) -> None:
        super().__init__(length=length)
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Any) -> StrEnum | None:
        return None if value is None else self.enum(value)


class IntEnumColumn(TypeDecorator):
    """An IntEnum kept as its number in an INTEGER column."""

    impl = Integer
    cache_ok = True

    def __init__(self, enum: type[IntEnum]) -> None:
        super().__init__()
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        return None if value is None else int(self.enum(value))

    def process_result_value(self, value: Any, dialect: Any) -> IntEnum | None:
        return None if value is None else self.enum(value)


def _no_nul(value: str | None) -> str | None:
    # PostgreSQL cannot store NUL in text; refusing it when validating keeps "nothing is half-written" true.
    if value is not None and "\x00" in value:
        raise ValueError("contains a NUL character, which cannot be stored")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
GroupName = Annotated[Text, Field(min_length=1, max_length=120)]
Guardrail = Annotated[Text, Field(min_length=1, max_length=500)]
LONG_TEXT = 20_000
MAX_TOKENS = 100_000_000
MAX_PRICE = 10_000


class CatalogModelBase(SQLModel):
    """Every field of a model card as the catalog keeps it; the table, the file and the forms derive from it."""

    # Identity
    name: Text = Field(min_length=1, max_length=200, unique=True, index=True,
                       description="the id the gateway serves the model under")
    display_name: Text = Field(min_length=1, max_length=200, description="the name people see")
    provider: Text = Field(default="", max_length=100, index=True, description="who makes the model")
    family: Text = Field(default="", max_length=100, description="the model family, e.g. Llama 3.1")
    version: Text = Field(default="", max_length=50, description="the model's own version (not the card's revision)")
    hosting: Hosting = Field(default=Hosting.SELF_HOSTED, sa_type=StrEnumColumn(Hosting, 20), index=True,
                             description="where prompts go: the gateway's GPUs or a third-party API")
    owner: Text = Field(default="", max_length=200, description="the team answerable for the model")
    # Capabilities
    mode: Mode = Field(default=Mode.CHAT, sa_type=StrEnumColumn(Mode, 20), index=True, description="chat or embedding")
    modalities_in: Text = Field(default="text", max_length=100, description="input modalities, comma-separated")
    modalities_out: Text = Field(default="text", max_length=100, description="output modalities, comma-separated")
    max_input_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS, index=True, description="context window")
    max_output_tokens: int | None = Field(default=None, ge=1, le=MAX_TOKENS, description="longest answer")
    supports_tools: bool = Field(default=False, description="can call tools (functions)")
    supports_vision: bool = Field(default=False, description="reads images")
    supports_json_output: bool = Field(default=False, description="can be held to JSON output")
    # Cost, in US dollars per million tokens (for chargeback)
    input_price_per_mtok: float = Field(default=0.0, ge=0, le=MAX_PRICE, description="US$ per million input tokens")
    output_price_per_mtok: float = Field(default=0.0, ge=0, le=MAX_PRICE, description="US$ per million output tokens")
    # Use and risk
    license: Text = Field(default="", max_length=200, description="the model's licence")
    intended_uses: Text = Field(default="", max_length=LONG_TEXT, sa_type=SaText, description="Markdown")
    out_of_scope: Text = Field(default="", max_length=LONG_TEXT, sa_type=SaText, description="Markdown")
    evaluations: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON,
                                              description="benchmark results: benchmark, score, ISO date")
    risk_tier: RiskTier = Field(default=RiskTier.FULL_REVIEW, sa_type=IntEnumColumn(RiskTier), index=True,
                                description="how much review its use needs; lowering it is a governed change")
    max_classification: DataClassification = Field(
        default=DataClassification.PUBLIC, sa_type=IntEnumColumn(DataClassification), index=True,
        description="the most sensitive data it is cleared for (and every level below); raising it is governed")
    guardrails: list[Guardrail] = Field(default_factory=list, max_length=100, sa_type=JSON,
                                        description="guardrails that must run in front of it")
    # Lifecycle: changed through catalog.lifecycle (or a reviewed catalog file), never by a plain edit
    status: ModelStatus = Field(default=ModelStatus.PROPOSED, sa_type=StrEnumColumn(ModelStatus, 20), index=True,
                                description="where the model is in its lifecycle")
    restricted_teams: list[GroupName] = Field(default_factory=list, max_length=500, sa_type=JSON,
                                              description="for a restricted model: the teams that may use it")
    restricted_departments: list[GroupName] = Field(default_factory=list, max_length=500, sa_type=JSON,
                                                    description="for a restricted model: the departments too")
    next_review_on: date | None = Field(default=None, description="when the CoE looks at the model again")
    released_on: date | None = Field(default=None, description="when the provider released it")
    deprecated_on: date | None = Field(default=None, description="from when it is deprecated")
    retired_on: date | None = Field(default=None, description="when it was retired")
    replacement_name: Text = Field(default="", max_length=200, description="the model replacing a deprecated one")
    body_markdown: Text = Field(default="", max_length=100_000, sa_type=SaText, description="the card's Markdown body")

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


# What an admin may change with a plain edit; lifecycle fields move only through catalog.lifecycle.
EDITABLE_FIELDS = ("display_name", "provider", "family", "version", "hosting", "owner", "mode", "modalities_in",
                   "modalities_out", "max_input_tokens", "max_output_tokens", "supports_tools", "supports_vision",
                   "supports_json_output", "input_price_per_mtok", "output_price_per_mtok", "license",
                   "intended_uses", "out_of_scope", "risk_tier", "max_classification", "guardrails",
                   "next_review_on", "released_on", "body_markdown")


class CatalogModelCreate(CatalogModelBase):
    """A new card as a person or a file describes it, validated before it becomes a row."""

    model_config = ConfigDict(str_strip_whitespace=True)  # type: ignore[assignment]


def _all_optional(name: str, base: type[SQLModel], fields: tuple[str, ...], doc: str,
                  **shapes: Any) -> type[BaseModel]:
    """A model with the named fields of `base`, each optional and unset by default, constraints kept."""
    definitions: dict[str, Any] = {}
    for field_name in fields:
        info = base.model_fields[field_name]
        # A field given another shape here (a list for a comma-separated column) brings its own constraints.
        constraints = [m for m in info.metadata if not isinstance(m, FieldInfoMetadata)]  # not the column's
        annotation = shapes[field_name] | None if field_name in shapes else info.annotation | None
        if constraints and field_name not in shapes:
            annotation = Annotated[annotation, *constraints]  # type: ignore[valid-type]
        definitions[field_name] = (annotation, PydanticField(default=None, description=info.description))
    config = ConfigDict(str_strip_whitespace=True, extra="forbid")
    return create_model(name, __config__=config, __doc__=doc, **definitions)


# Modalities arrive as a list here and are stored comma-separated.
CatalogModelUpdate = _all_optional("CatalogModelUpdate", CatalogModelBase, EDITABLE_FIELDS,
                                   "A plain edit of a card: only the fields given change.",
                                   modalities_in=list[str], modalities_out=list[str])


class CatalogModel(CatalogModelBase, table=True):
    """A model card row: the card, who approved and requested it, gateway sync, and its edit revision."""

    __tablename__ = "catalog_model"

    id: int | None = Field(default=None, primary_key=True)
    approved_by_id: int | None = Field(default=None, foreign_key="portal_user.id")
    approved_at: datetime | None = None
    # The request that proposed the model (empty for models registered by the CoE)
    requested_by_id: int | None = Field(default=None, foreign_key="portal_user.id", index=True)
    request_use_case: str = Field(default="", sa_type=SaText)
    request_justification: str = Field(default="", sa_type=SaText)
    request_team: str = Field(default="", max_length=120)
    # Gateway sync: None until the first sync
    served: bool | None = Field(default=None, index=True)
    served_checked_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # Counts saved edits; an edit names the revision it started from, so a stale one is refused, not lost.
    revision: int = Field(default=1, sa_column_kwargs={"server_default": "1"})

    def __setattr__(self, name: str, value: Any) -> None:
        # Table rows are built and changed without validation; this keeps the enum fields enum-typed all the same.
        if name in ENUM_OF and value is not None:
            value = ENUM_OF[name](value)
        super().__setattr__(name, value)

    def snapshot(self) -> dict[str, Any]:
        """The lifecycle fields an audit event's before/after shows."""
        return {"status": self.status.value, "restricted_teams": list(self.restricted_teams),
                "restricted_departments": list(self.restricted_departments),
                "deprecated_on": self.deprecated_on.isoformat() if self.deprecated_on else None,
                "replacement_name": self.replacement_name,
                "retired_on": self.retired_on.isoformat() if self.retired_on else None}


ENUM_OF: dict[str, Any] = {"hosting": Hosting, "mode": Mode, "status": ModelStatus, "risk_tier": RiskTier,
                           "max_classification": DataClassification}


class CatalogModelPublic(CatalogModelBase):
    """A card as pages and exports read it."""

    id: int
    approved_by_id: int | None = None
    approved_at: datetime | None = None
    requested_by_id: int | None = None
    request_team: str = ""
    served: bool | None = None
    served_checked_at: datetime | None = None
    updated_at: datetime
    revision: int


class RiskChangeState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return self.value


class CatalogRiskChange(SQLModel, table=True):
    """A proposed change of a card's risk tier or data classification, which another reviewer decides on."""

    __tablename__ = "catalog_risk_change"

    id: int | None = Field(default=None, primary_key=True)
    model_id: int = Field(foreign_key="catalog_model.id", index=True)
    proposed_by_id: int = Field(foreign_key="portal_user.id")
    reason: str = Field(sa_type=SaText)
    # The card's values when proposed, and the asked-for ones (None: unchanged).
    from_risk_tier: RiskTier = Field(sa_type=IntEnumColumn(RiskTier))
    to_risk_tier: RiskTier | None = Field(default=None, sa_type=IntEnumColumn(RiskTier))
    from_classification: DataClassification = Field(sa_type=IntEnumColumn(DataClassification))
    to_classification: DataClassification | None = Field(default=None, sa_type=IntEnumColumn(DataClassification))
    state: RiskChangeState = Field(default=RiskChangeState.PENDING, sa_type=StrEnumColumn(RiskChangeState, 20),
                                   index=True)
    decided_by_id: int | None = Field(default=None, foreign_key="portal_user.id")
    decided_at: datetime | None = None
    decision_note: str = Field(default="", sa_type=SaText)
    created_at: datetime = Field(default_factory=utcnow)

    def __setattr__(self, name: str, value: Any) -> None:
        # As on the card: enum fields stay enum-typed though table rows are not validated.
        if name in RISK_CHANGE_ENUMS and value is not None:
            value = RISK_CHANGE_ENUMS[name](value)
        super().__setattr__(name, value)


RISK_CHANGE_ENUMS: dict[str, Any] = {"from_risk_tier": RiskTier, "to_risk_tier": RiskTier,
                                     "from_classification": DataClassification,
                                     "to_classification": DataClassification, "state": RiskChangeState}


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
