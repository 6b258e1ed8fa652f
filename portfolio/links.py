"""What a use case links to (models, prompts, templates, forks, courses, documents), one row per link, both ways."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Index, Select, UniqueConstraint, case, delete, func
from sqlmodel import Field, Session, SQLModel, col, select

from catalog.service import Dependent
from portal.core.auth import Permission, has_permission
from portal.core.principals import Principal
from portfolio.models import Stage, UseCase


class LinkKind(StrEnum):
    """What a link points at; `ref` holds its name, slug or id as text."""

    MODEL = "model"  # a catalog model's name
    PROMPT = "prompt"  # a prompt's slug
    TEMPLATE = "template"  # a registered or built-in template's name
    FORK = "fork"  # a template fork's id
    COURSE = "course"  # a training course's slug
    DOCUMENT = "document"  # a sandbox document's id


# The form's list-of-names field for each kind, in the order the form and the page show them.
FIELD_OF = {LinkKind.MODEL: "models", LinkKind.PROMPT: "prompts", LinkKind.TEMPLATE: "templates",
            LinkKind.FORK: "forks", LinkKind.COURSE: "courses", LinkKind.DOCUMENT: "documents"}
KIND_OF = {name: kind for kind, name in FIELD_OF.items()}


class UseCaseLink(SQLModel, table=True):
    """One asset a use case expects to use; (kind, ref) finds the use cases that depend on an asset."""

    __tablename__ = "use_case_link"
    __table_args__ = (UniqueConstraint("use_case_id", "kind", "ref", name="uq_use_case_link"),
                      Index("ix_use_case_link_kind_ref", "kind", "ref"))

    id: int | None = Field(default=None, primary_key=True)
    use_case_id: int = Field(foreign_key="use_case.id")
    kind: str = Field(max_length=20)
    ref: str = Field(max_length=200)


def linked(session: Session, use_case_id: int, kind: LinkKind | str) -> list[str]:
    """The names a use case links to of one kind, in the order they were given."""
    return list(session.exec(linked_refs(use_case_id, kind).order_by(col(UseCaseLink.id))).all())


def linked_refs(use_case_id: int, kind: LinkKind | str) -> Select:
    """A select of the refs one use case links to of one kind, for use inside other queries (`in_`, joins)."""
    return select(UseCaseLink.ref).where(UseCaseLink.use_case_id == use_case_id,
                                         UseCaseLink.kind == LinkKind(kind).value)


def links_of(session: Session, use_case_id: int) -> dict[str, list[str]]:
    """Every link of a use case by form field (models, prompts, ...), each list in the order given."""
    found: dict[str, list[str]] = {name: [] for name in KIND_OF}
    rows = session.exec(select(UseCaseLink.kind, UseCaseLink.ref).where(UseCaseLink.use_case_id == use_case_id)
                        .order_by(col(UseCaseLink.id))).all()
    for kind, ref in rows:
        found[FIELD_OF[LinkKind(kind)]].append(ref)
    return found


def links_of_many(session: Session, use_case_ids: Sequence[int]) -> dict[int, dict[str, list[str]]]:
    """links_of for many use cases at once (an export): one query per 500 use cases, not one per use case."""
    found: dict[int, dict[str, list[str]]] = {i: {name: [] for name in KIND_OF} for i in use_case_ids}
    ids = list(use_case_ids)
    for start in range(0, len(ids), 500):
        rows = session.exec(select(UseCaseLink.use_case_id, UseCaseLink.kind, UseCaseLink.ref)
                            .where(col(UseCaseLink.use_case_id).in_(ids[start:start + 500]))
                            .order_by(col(UseCaseLink.id))).all()
        for use_case_id, kind, ref in rows:
            found[use_case_id][FIELD_OF[LinkKind(kind)]].append(ref)
    return found


def set_links(session: Session, use_case_id: int, links: Mapping[str, Iterable[str]]) -> None:
    """Replace the use case's links of the kinds named (by form field) with these refs; the caller audits it."""
    for name, refs in links.items():
        kind = KIND_OF[name]
        wanted = list(dict.fromkeys(refs))
        if linked(session, use_case_id, kind) == wanted:
            continue  # unchanged: keep the rows (and their order)
        session.exec(delete(UseCaseLink).where(col(UseCaseLink.use_case_id) == use_case_id,
                                               col(UseCaseLink.kind) == kind.value))
        session.add_all(UseCaseLink(use_case_id=use_case_id, kind=kind.value, ref=ref) for ref in wanted)
    session.flush()


@dataclass(frozen=True)
class UsingUseCase:
    """A use case that links to an asset, as an asset's page lists it."""

    id: int
    title: str
    stage: str
    tier: int | None


# Production first: what breaks if the asset goes away; then pilots, then the rest of the path, stopped ones last.
STAGE_ORDER = (Stage.PRODUCTION, Stage.SCALED, Stage.PILOT, Stage.ASSESSMENT, Stage.IDEA, Stage.PAUSED, Stage.RETIRED)


def _stage_rank():
    return case({stage.value: rank for rank, stage in enumerate(STAGE_ORDER)}, value=UseCase.stage, else_=99)


def use_cases_using(session: Session, actor: Principal, kind: LinkKind | str, ref: str,
                    limit: int = 200) -> list[UsingUseCase]:
    """The use cases linking to an asset that the actor may see, production first; drafts only their own."""
    query = (select(UseCase.id, UseCase.title, UseCase.stage, UseCase.tier)
             .join(UseCaseLink, col(UseCaseLink.use_case_id) == UseCase.id)
             .where(UseCaseLink.kind == LinkKind(kind).value, UseCaseLink.ref == ref))
    if not has_permission(actor, Permission.BROWSE):
        return []
    if not has_permission(actor, Permission.REVIEW):
        query = query.where(col(UseCase.draft).is_(False) | (UseCase.proposed_by_id == actor.id)
                            | (UseCase.owner_id == actor.id))
    rows = session.exec(query.order_by(_stage_rank(), col(UseCase.title)).limit(limit)).all()
    return [UsingUseCase(id, title, stage, None if tier is None else int(tier)) for id, title, stage, tier in rows]


SHOWN_TITLES = 5


def use_case_dependents(*, session: Session, model_name: str) -> list[Dependent]:
    """Submitted use cases linking to the model, counted by stage: production and scaled first, then pilots."""
    rows = session.exec(
        select(UseCase.stage, func.count(), func.min(UseCase.title))
        .join(UseCaseLink, col(UseCaseLink.use_case_id) == UseCase.id)
        .where(UseCaseLink.kind == LinkKind.MODEL.value, UseCaseLink.ref == model_name,
               col(UseCase.draft).is_(False), col(UseCase.stage) != Stage.RETIRED.value)
        .group_by(UseCase.stage).order_by(_stage_rank())).all()
    return [Dependent(kind="use case", name=f"{count} in {stage}", detail=f"e.g. {first}", first=True)
            for stage, count, first in rows]
