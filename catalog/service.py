"""Catalog services: browse and compare cards, request models, move them through the lifecycle, edit cards."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func, or_
from sqlalchemy import update as sa_update
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from catalog.lifecycle import TransitionRequest, apply_transition
from catalog.models import (
    EDITABLE_FIELDS,
    USABLE_STATUSES,
    CatalogModel,
    CatalogModelBase,
    CatalogModelCreate,
    CatalogModelUpdate,
    DataClassification,
    Hosting,
    Mode,
    ModelStatus,
    RiskTier,
)
from catalog.events import CardEdited, ModelRequested
from portal.core.audit import record, utcnow
from portal.core.auth import HasRole, Permission, require
from portal.core.db import LIKE_ESCAPE, contains_pattern, distinct_values
from portal.core.errors import InvalidInput, NotFound, PermissionDenied, StaleEdit
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
    risk_tiers: tuple[RiskTier, ...] = ()
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
        conditions.append(CatalogModel.hosting == f.hosting)
    if f.mode:
        conditions.append(CatalogModel.mode == f.mode)
    if f.modality:
        # Modalities are stored comma-separated; the commas around both sides make the match exact.
        conditions.append(("," + col(CatalogModel.modalities_in) + ",").like(
            contains_pattern(f",{f.modality.strip().lower()},"), escape=LIKE_ESCAPE))
    if f.statuses:
        conditions.append(col(CatalogModel.status).in_(f.statuses))
    if f.risk_tiers:
        conditions.append(col(CatalogModel.risk_tier).in_(list(f.risk_tiers)))
    if f.allowed_for is not None:
        conditions.append(col(CatalogModel.max_classification) >= f.allowed_for)
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
        col(CatalogModel.status).in_(USABLE_STATUSES),
        CatalogModel.mode == Mode.CHAT,
        col(CatalogModel.max_classification) >= classification,
    ).order_by(CatalogModel.display_name)).all()
    return [m for m in rows if is_available_to(m, user)]


def is_available_to(model: CatalogModel, user: User) -> bool:
    """True unless the model is restricted to teams and departments the user is in neither of."""
    if model.status != ModelStatus.RESTRICTED and not (model.restricted_teams or model.restricted_departments):
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
    card = CatalogModelCreate(name=data.name, display_name=data.display_name or data.name, provider=data.provider,
                              status=ModelStatus.PROPOSED, max_classification=data.classification, owner=data.team)
    model = CatalogModel(**card.model_dump(), requested_by_id=actor.id, request_use_case=data.use_case,
                         request_justification=data.justification, request_team=data.team)
    session.add(model)
    session.flush()
    record(session, actor, ModelRequested(model=model.name, team=data.team, use_case=data.use_case,
                                          card=model.snapshot()))
    return model


def transition_model(*, session: Session, actor: User, name: str, request: TransitionRequest) -> CatalogModel:
    """Move a model through its lifecycle (see catalog.lifecycle for the rules)."""
    model = get_model(session=session, name=name)
    replacement = None
    if request.replacement_name:
        replacement = session.exec(
            select(CatalogModel).where(CatalogModel.name == request.replacement_name)).first()
    return apply_transition(session=session, actor=actor, model=model, request=request, replacement=replacement)


# Fields a plain edit may empty: the card's optional ones; every other field needs a value.
CARD_FIELDS_THAT_MAY_BE_EMPTY = frozenset(
    name for name in EDITABLE_FIELDS if CatalogModelBase.model_fields[name].default is None)


class CardEditConflict(StaleEdit):
    """Someone saved the card after the editor opened it: nothing saved, the editor's changes kept."""

    def __init__(self, *, name: str, base: int, latest: int) -> None:
        super().__init__(noun="card", base=base, latest=latest)
        self.name = name


def update_card(*, session: Session, actor: User, name: str, base_revision: int,
                changes: dict[str, Any]) -> CatalogModel:
    """Edit a card that is still at `base_revision`; admins only, every changed field in the audit event."""
    require(actor, Permission.MANAGE_CATALOG)
    update = _validated(CatalogModelUpdate, changes).model_dump(exclude_unset=True)
    emptied = [key for key, value in update.items() if value is None and key not in CARD_FIELDS_THAT_MAY_BE_EMPTY]
    if emptied:
        raise InvalidInput("Please correct: " + "; ".join(f"{key}: a value is required" for key in emptied) + ".")
    model = get_model(session=session, name=name)
    if model.revision != base_revision:
        raise CardEditConflict(name=name, base=base_revision, latest=model.revision)
    changed = {key: value for key, value in _stored(update).items() if getattr(model, key) != value}
    if not changed:
        return model
    _refuse_governed(model, changed)
    before = {key: _jsonable(getattr(model, key)) for key in changed}
    _compare_and_set(session, model, base_revision, {**changed, "updated_at": utcnow()})
    record(session, actor, CardEdited(model=model.name, old=before,
                                      new={key: _jsonable(value) for key, value in changed.items()}))
    session.flush()
    return model


class GovernedChange(PermissionDenied):
    """A card change that needs a reason and a second person, so a plain edit may not make it."""


def _refuse_governed(model: CatalogModel, changed: dict[str, Any]) -> None:
    """Refuse clearing a model for more sensitive data, or lowering its risk tier: those go through review."""
    governed = []
    if (level := changed.get("max_classification")) is not None and level > model.max_classification:
        governed.append(f"clearing it for {DataClassification(level).label} data "
                        f"(now up to {model.max_classification.label})")
    if (tier := changed.get("risk_tier")) is not None and tier < model.risk_tier:
        governed.append(f"lowering its risk tier from {int(model.risk_tier)} to {int(tier)}")
    if governed:
        raise GovernedChange(" and ".join(governed).capitalize() + " needs a reason and a second reviewer or admin, "
                             "so it is not a plain edit. Propose it as a risk change (Catalog operations → Risk "
                             "changes). Nothing was saved.")


def _stored(update: dict[str, Any]) -> dict[str, Any]:
    """The update's values as the card stores them: modalities comma-separated, lower case, once each."""
    for key in ("modalities_in", "modalities_out"):
        if update.get(key) is not None:
            update[key] = ",".join(dict.fromkeys(m.strip().lower() for m in update[key] if m.strip()))
    return update


def _compare_and_set(session: Session, model: CatalogModel, base_revision: int, values: dict[str, Any]) -> None:
    """Write the values only if the row is still at `base_revision` (one UPDATE, so it holds on every database)."""
    result = session.execute(
        sa_update(CatalogModel).where(col(CatalogModel.id) == model.id, col(CatalogModel.revision) == base_revision)
        .values(**values, revision=base_revision + 1).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        latest = session.execute(select(CatalogModel.revision).where(CatalogModel.id == model.id)).scalar_one()
        raise CardEditConflict(name=model.name, base=base_revision, latest=latest)
    session.refresh(model)


def _validated(schema: type[BaseModel], data: dict[str, Any]) -> Any:
    """The data parsed by the schema, or InvalidInput naming each bad field."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(f"Please correct: {problems}.") from None


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    return value.isoformat() if hasattr(value, "isoformat") else value


@dataclass
class Dependent:
    """Something that relies on a model: shown before it is deprecated or retired."""

    kind: str  # "sandbox usage", "prompt", "template", "use case"
    name: str
    detail: str = ""
    first: bool = False  # what stops working in production if the model goes: listed before everything else


@dataclass
class DependentsRegistry:
    """Where features register how to find what depends on a model (sandbox usage, prompts, templates)."""

    sources: list[Any] = field(default_factory=list)

    def dependents(self, *, session: Session, model_name: str) -> list[Dependent]:
        found: list[Dependent] = []
        for source in self.sources:
            found.extend(source(session=session, model_name=model_name))
        return sorted(found, key=lambda dependent: not dependent.first)  # stable: each source keeps its order
