"""Evaluations of a model: benchmark results a catalog manager records on its card, one audited change each.

They live on the card (its `evaluations` list), so each change names the card revision it started from and a
stale one is refused like any card edit. Catalog imports apply a file's evaluations through the same steps.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import Session

from catalog.models import CatalogModel
from catalog.service import get_model
from catalog.events import EvaluationAdded, EvaluationChange, EvaluationEdited, EvaluationRemoved
from portal.core.audit import record, utcnow
from portal.core.auth import Permission, require
from portal.core.errors import InvalidInput, NotFound, StaleEdit
from portal.core.principals import Principal
from portal.core.revisions import save_if_unchanged

MAX_EVALUATIONS = 100  # as many as a catalog file may list
NOUN = "card"  # evaluations are part of the card: its revision guards them
# Plain str with constraints (not the card's Text), so a too-long value is named as such; the patterns keep NUL out.
OneLine = Annotated[str, Field(pattern=r"^[^\x00\r\n]*$")]
NoNul = Annotated[str, Field(pattern=r"^[^\x00]*$")]
PLAINER = {"string_pattern_mismatch": "one line of text is needed, without line breaks",
           "float_parsing": "a number is needed"}
NUL_REFUSED = "NUL characters are not allowed"


class EvaluationInput(BaseModel):
    """One benchmark result as a person records it; the link is kept and shown as plain text."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid", allow_inf_nan=False)

    benchmark: Annotated[OneLine, Field(min_length=1, max_length=200)]
    score: float
    date: dt.date
    notes: Annotated[NoNul, Field(max_length=2000)] = ""
    link: Annotated[OneLine, Field(max_length=500)] = ""


@dataclass(frozen=True)
class Evaluation:
    """A stored evaluation and its place in the card's list (what edit and remove name)."""

    index: int
    benchmark: str
    score: float
    date: dt.date
    notes: str
    link: str


def checked_evaluation(data: dict[str, Any]) -> dict[str, Any]:
    """The evaluation as the card stores it, or InvalidInput naming each bad field."""
    try:
        parsed = EvaluationInput.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'input'}: {_problem(e)}" for e in exc.errors())
        raise InvalidInput(f"Please correct the evaluation: {problems}.") from None
    stored: dict[str, Any] = {"benchmark": parsed.benchmark, "score": parsed.score, "date": parsed.date.isoformat()}
    # Notes and link only when given, so cards (and catalog files) without them keep their shape.
    stored.update({key: value for key in ("notes", "link") if (value := getattr(parsed, key))})
    return stored


def _problem(error: Any) -> str:
    if error["type"] == "string_pattern_mismatch" and error["loc"] == ("notes",):
        return NUL_REFUSED
    return PLAINER.get(error["type"], error["msg"])


def evaluations_of(*, session: Session, name: str) -> list[Evaluation]:
    """The model's evaluations in the order the card lists them; everyone who may browse sees them."""
    return [Evaluation(index=i, benchmark=e["benchmark"], score=e["score"], date=dt.date.fromisoformat(e["date"]),
                       notes=e.get("notes", ""), link=e.get("link", ""))
            for i, e in enumerate(get_model(session=session, name=name).evaluations)]


def add_evaluation(*, session: Session, actor: Principal, name: str, base_revision: int,
                   evaluation: dict[str, Any]) -> CatalogModel:
    """Record a new evaluation on a card still at `base_revision`; catalog managers only."""
    require(actor, Permission.MANAGE_CATALOG)
    stored = checked_evaluation(evaluation)
    model = get_model(session=session, name=name)
    if len(model.evaluations) >= MAX_EVALUATIONS:
        raise InvalidInput(f"A card keeps at most {MAX_EVALUATIONS} evaluations; remove an old one first.")
    index = len(model.evaluations)
    _save(session, model, base_revision, [*model.evaluations, stored])
    record(session, actor, EvaluationAdded(model=model.name, index=index, old=None, new=stored))
    return model


def edit_evaluation(*, session: Session, actor: Principal, name: str, base_revision: int, index: int,
                    evaluation: dict[str, Any]) -> CatalogModel:
    """Change one evaluation of a card still at `base_revision`; catalog managers only."""
    require(actor, Permission.MANAGE_CATALOG)
    stored = checked_evaluation(evaluation)
    model = get_model(session=session, name=name)
    before = _at(model, index, base_revision)
    if before == stored:
        return model
    _save(session, model, base_revision, [stored if i == index else e for i, e in enumerate(model.evaluations)])
    record(session, actor, EvaluationEdited(model=model.name, index=index, old=before, new=stored))
    return model


def remove_evaluation(*, session: Session, actor: Principal, name: str, base_revision: int,
                      index: int) -> CatalogModel:
    """Remove one evaluation from a card still at `base_revision`; catalog managers only."""
    require(actor, Permission.MANAGE_CATALOG)
    model = get_model(session=session, name=name)
    before = _at(model, index, base_revision)
    _save(session, model, base_revision, [e for i, e in enumerate(model.evaluations) if i != index])
    record(session, actor, EvaluationRemoved(model=model.name, index=index, old=before, new=None))
    return model


def import_evaluations(*, session: Session, actor: Principal, model: CatalogModel,
                       evaluations: list[dict[str, Any]]) -> bool:
    """Make the card's evaluations those of a catalog file, one audited add, edit or remove each; True if any.

    The import holds the card in its own transaction and moves its revision once for the whole entry."""
    require(actor, Permission.MANAGE_CATALOG)
    wanted = [checked_evaluation(e) for e in evaluations]
    current = list(model.evaluations)
    if wanted == current:
        return False
    for index in range(max(len(wanted), len(current))):
        before = current[index] if index < len(current) else None
        after = wanted[index] if index < len(wanted) else None
        if before == after:
            continue
        change: type[EvaluationChange] = (EvaluationAdded if before is None else
                                          EvaluationRemoved if after is None else EvaluationEdited)
        record(session, actor, change(model=model.name, index=index, old=before, new=after))
    model.evaluations = wanted
    return True


def _at(model: CatalogModel, index: int, base_revision: int) -> dict[str, Any]:
    """The evaluation at `index` of the card the editor saw; a card that moved on is a stale edit, not a miss."""
    if model.revision != base_revision:
        raise StaleEdit(noun=NOUN, base=base_revision, latest=model.revision)
    if not 0 <= index < len(model.evaluations):
        raise NotFound(f"The card of '{model.name}' has no evaluation number {index + 1}.")
    return dict(model.evaluations[index])


def _save(session: Session, model: CatalogModel, base_revision: int, evaluations: list[dict[str, Any]]) -> None:
    save_if_unchanged(session, model, base_revision=base_revision, noun=NOUN,
                      values={"evaluations": evaluations, "updated_at": utcnow()})
