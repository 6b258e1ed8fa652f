"""Catalog services: browse and compare cards, request models, move them through the lifecycle, edit cards."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, or_
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from catalog.lifecycle import TransitionRequest, apply_transition
from catalog.models import CatalogModel, DataClassification, Hosting, Mode, ModelStatus, USABLE_STATUSES
from portal.core.audit import AuditAction, record_event, utcnow
from portal.core.auth import HasRole, Permission, require
from portal.core.db import LIKE_ESCAPE, contains_pattern, distinct_values
from portal.core.errors import InvalidInput, NotFound
from portal.core.users import User

MAX_COMPARED = 3
SORTS = {
    "name": col(CatalogModel.display_name),
    "context window": col(CatalogModel.max_input_tokens).desc(),
    "input price": col(CatalogModel.input_price_per_mtok),
    "risk tier": col(CatalogModel.risk_tier),
}


# The long texts and JSON of a card are for the card page; a table of cards does not load them.
LIST_DEFERRED = [defer(getattr(CatalogModel, name)) for name in (
    "intended_uses", "out_of_scope", "evaluations", "guardrails", "body_markdown", "request_use_case",
    "request_justification")]


@dataclass(frozen=True)
class CatalogFilter:
    """What the catalog table filters on; empty fields match everything."""

    search: str = ""
    provider: str = ""
    hosting: Hosting | None = None
    mode: Mode | None = None
    modality: str = ""  # an input modality: text, image, audio
    statuses: tuple[ModelStatus, ...] = ()
    risk_tiers: tuple[int, ...] = ()
    allowed_for: DataClassification | None = None  # cleared for data of this classification
    min_context: int | None = None
    max_input_price: float | None = None
    max_output_price: float | None = None
    sort: str = "name"


@dataclass(frozen=True)
class CatalogPage:
    models: list[CatalogModel]
    total: int


def browse_catalog(*, session: Session, actor: HasRole, filters: CatalogFilter, limit: int = 50,
                   offset: int = 0) -> CatalogPage:
    """One page of model cards matching the filters, filtered and counted in SQL; everyone may browse."""
    require(actor, Permission.BROWSE)
    conditions = _conditions(filters)
    total = session.exec(select(func.count()).select_from(CatalogModel).where(*conditions)).one()
    order = SORTS.get(filters.sort, SORTS["name"])
    rows = session.exec(select(CatalogModel).options(*LIST_DEFERRED).where(*conditions)
                        .order_by(order, col(CatalogModel.name)).limit(limit).offset(offset)).all()
    return CatalogPage(models=list(rows), total=total)


def _conditions(f: CatalogFilter) -> list[Any]:
    conditions: list[Any] = []
    if f.search.strip():
        pattern = contains_pattern(f.search.strip().lower())
        conditions.append(or_(*(func.lower(column).like(pattern, escape=LIKE_ESCAPE) for column in (
            CatalogModel.name, CatalogModel.display_name, CatalogModel.provider, CatalogModel.family))))
    if f.provider:
        conditions.append(CatalogModel.provider == f.provider)
    if f.hosting:
        conditions.append(CatalogModel.hosting == f.hosting.value)
    if f.mode:
        conditions.append(CatalogModel.mode == f.mode.value)
    if f.modality:
        # Modalities are stored comma-separated; the commas around both sides make the match exact.
        conditions.append(("," + col(CatalogModel.modalities_in) + ",").like(
            contains_pattern(f",{f.modality.strip().lower()},"), escape=LIKE_ESCAPE))
    if f.statuses:
        conditions.append(col(CatalogModel.status).in_([s.value for s in f.statuses]))
    if f.risk_tiers:
        conditions.append(col(CatalogModel.risk_tier).in_(list(f.risk_tiers)))
    if f.allowed_for is not None:
        conditions.append(col(CatalogModel.max_classification) >= int(f.allowed_for))
    if f.min_context is not None:
        conditions.append(col(CatalogModel.max_input_tokens) >= f.min_context)
    if f.max_input_price is not None:
        conditions.append(col(CatalogModel.input_price_per_mtok) <= f.max_input_price)
    if f.max_output_price is not None:
        conditions.append(col(CatalogModel.output_price_per_mtok) <= f.max_output_price)
    return conditions


def catalog_providers(*, session: Session) -> list[str]:
    """Every provider in the catalog, for the filter drop-down."""
    return distinct_values(session, CatalogModel.__table__.c.provider)


def get_model(*, session: Session, name: str) -> CatalogModel:
    """The card of the model the gateway serves under `name`."""
    model = session.exec(select(CatalogModel).where(CatalogModel.name == name)).first()
    if model is None:
        raise NotFound(f"There is no model '{name}' in the catalog.")
    return model


def compare_models(*, session: Session, names: list[str]) -> list[CatalogModel]:
    """Up to three cards, in the order asked for, for a side-by-side comparison."""
    unique = list(dict.fromkeys(names))
    if not unique:
        raise InvalidInput("Pick at least one model to compare.")
    if len(unique) > MAX_COMPARED:
        raise InvalidInput(f"Compare at most {MAX_COMPARED} models at a time; you picked {len(unique)}.")
    return [get_model(session=session, name=name) for name in unique]


def usable_models_for(*, session: Session, user: User, classification: DataClassification) -> list[CatalogModel]:
    """Chat models the user may send data of this classification to: usable, cleared, and not restricted away."""
    rows = session.exec(select(CatalogModel).where(
        col(CatalogModel.status).in_([s.value for s in USABLE_STATUSES]),
        CatalogModel.mode == Mode.CHAT.value,
        col(CatalogModel.max_classification) >= int(classification),
    ).order_by(CatalogModel.display_name)).all()
    return [m for m in rows if is_available_to(m, user)]


def is_available_to(model: CatalogModel, user: User) -> bool:
    """True unless the model is restricted to teams and departments the user is in neither of."""
    if ModelStatus(model.status) != ModelStatus.RESTRICTED and not (model.restricted_teams
                                                                      or model.restricted_departments):
        return True
    return user.team in model.restricted_teams or user.department in model.restricted_departments


class ModelRequestInput(BaseModel):
    """A contributor's request for a new model."""

    model_config = ConfigDict(str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, description="the model's name on the gateway or vendor")
    display_name: str = Field(default="", max_length=200)
    provider: str = Field(default="", max_length=100)
    use_case: str = Field(min_length=10, max_length=4000)
    justification: str = Field(min_length=10, max_length=4000)
    classification: DataClassification
    team: str = Field(min_length=1, max_length=120)


def request_model(*, session: Session, actor: User, request: dict[str, Any]) -> CatalogModel:
    """Propose a model for the catalog; it starts as proposed and needs another person to approve it."""
    require(actor, Permission.CONTRIBUTE)
    data = _validated(ModelRequestInput, request)
    if session.exec(select(CatalogModel.id).where(CatalogModel.name == data.name)).first() is not None:
        raise InvalidInput(f"'{data.name}' is already in the catalog; open its card instead.")
    model = CatalogModel(
        name=data.name, display_name=data.display_name or data.name, provider=data.provider,
        status=ModelStatus.PROPOSED.value, max_classification=int(data.classification),
        requested_by_id=actor.id, request_use_case=data.use_case, request_justification=data.justification,
        request_team=data.team, owner=data.team,
    )
    session.add(model)
    session.flush()
    record_event(session, actor=actor, action=AuditAction.CATALOG_MODEL_REQUESTED, entity_type="catalog_model",
                 entity_id=model.name, summary=f"requested for {data.team}: {data.use_case[:200]}",
                 after=model.snapshot())
    return model


def transition_model(*, session: Session, actor: User, name: str, request: TransitionRequest) -> CatalogModel:
    """Move a model through its lifecycle (see catalog.lifecycle for the rules)."""
    model = get_model(session=session, name=name)
    replacement = None
    if request.replacement_name:
        replacement = session.exec(
            select(CatalogModel).where(CatalogModel.name == request.replacement_name)).first()
    return apply_transition(session=session, actor=actor, model=model, request=request, replacement=replacement)


class CardUpdate(BaseModel):
    """The card fields an admin may edit; lifecycle fields change only through transitions."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid")

    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    provider: str | None = Field(default=None, max_length=100)
    family: str | None = Field(default=None, max_length=100)
    version: str | None = Field(default=None, max_length=50)
    hosting: Hosting | None = None
    owner: str | None = Field(default=None, max_length=200)
    mode: Mode | None = None
    modalities_in: list[str] | None = None
    modalities_out: list[str] | None = None
    max_input_tokens: int | None = Field(default=None, ge=1, le=100_000_000)
    max_output_tokens: int | None = Field(default=None, ge=1, le=100_000_000)
    supports_tools: bool | None = None
    supports_vision: bool | None = None
    supports_json_output: bool | None = None
    input_price_per_mtok: float | None = Field(default=None, ge=0, le=10_000)
    output_price_per_mtok: float | None = Field(default=None, ge=0, le=10_000)
    license: str | None = Field(default=None, max_length=200)
    intended_uses: str | None = Field(default=None, max_length=20_000)
    out_of_scope: str | None = Field(default=None, max_length=20_000)
    risk_tier: int | None = Field(default=None, ge=1, le=3)
    max_classification: DataClassification | None = None
    guardrails: list[str] | None = None
    next_review_on: date | None = None
    released_on: date | None = None
    body_markdown: str | None = Field(default=None, max_length=100_000)


CARD_FIELDS_THAT_MAY_BE_EMPTY = {"max_input_tokens", "max_output_tokens", "next_review_on", "released_on"}


def update_card(*, session: Session, actor: User, name: str, changes: dict[str, Any]) -> CatalogModel:
    """Edit a model card; admins only, every changed field in the audit event."""
    require(actor, Permission.MANAGE_CATALOG)
    update = _validated(CardUpdate, changes)
    emptied = [key for key, value in update.model_dump(exclude_unset=True).items()
               if value is None and key not in CARD_FIELDS_THAT_MAY_BE_EMPTY]
    if emptied:
        raise InvalidInput("Please correct: " + "; ".join(f"{key}: a value is required" for key in emptied) + ".")
    model = get_model(session=session, name=name)
    before, after = {}, {}
    for key, value in update.model_dump(exclude_unset=True).items():
        if key in ("modalities_in", "modalities_out") and value is not None:
            value = ",".join(dict.fromkeys(m.strip().lower() for m in value if m.strip()))
        if isinstance(value, DataClassification):
            value = int(value)
        if getattr(model, key) != value:
            before[key], after[key] = _jsonable(getattr(model, key)), _jsonable(value)
            setattr(model, key, value)
    if after:
        model.updated_at = utcnow()
        session.add(model)
        record_event(session, actor=actor, action=AuditAction.CATALOG_CARD_EDITED, entity_type="catalog_model",
                     entity_id=model.name, summary="edited " + ", ".join(after), before=before, after=after)
        session.flush()
    return model


def _validated(schema: type[BaseModel], data: dict[str, Any]) -> Any:
    """The data parsed by the schema, or InvalidInput naming each bad field."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(f"Please correct: {problems}.") from None


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


@dataclass
class Dependent:
    """Something that relies on a model: shown before it is deprecated or retired."""

    kind: str  # "sandbox usage", "prompt", "template"
    name: str
    detail: str = ""


@dataclass
class DependentsRegistry:
    """Where features register how to find what depends on a model (sandbox usage, prompts, templates)."""

    sources: list[Any] = field(default_factory=list)

    def dependents(self, *, session: Session, model_name: str) -> list[Dependent]:
        found: list[Dependent] = []
        for source in self.sources:
            found.extend(source(session=session, model_name=model_name))
        return found
