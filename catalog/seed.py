"""The demo catalog: imported as proposed cards, then moved through the real lifecycle to the states it names.

An import never sets a lifecycle state (catalog.as_code). The seed file names one per model so the demo shows
every state; `seed_catalog` reaches each through catalog.lifecycle's transitions, as the principal it is given
(the seed's: SYSTEM_SEED) with the reason "seed data". The transition rules hold for demo data too, and every
state has its audit trail. Only cards the seed creates are moved: existing cards keep an admin's edits and states.
"""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, col, select

from catalog.as_code import SEED_CATALOG, import_catalog
from catalog.card_file import ImportResult, ModelCardSpec, validate_catalog
from catalog.lifecycle import TransitionRequest, apply_transition
from catalog.models import CatalogModel, ModelStatus
from portal.core.auth import Permission, require
from portal.core.errors import InvalidInput
from portal.core.principals import Principal

SEED_REASON = "seed data"
S = ModelStatus
# The moves from proposed that reach each state, the way a reviewer would make them.
PATHS: dict[ModelStatus, tuple[ModelStatus, ...]] = {
    S.PROPOSED: (),
    S.UNDER_REVIEW: (S.UNDER_REVIEW,),
    S.REJECTED: (S.REJECTED,),
    S.APPROVED: (S.UNDER_REVIEW, S.APPROVED),
    S.RESTRICTED: (S.UNDER_REVIEW, S.RESTRICTED),
    S.DEPRECATED: (S.UNDER_REVIEW, S.APPROVED, S.DEPRECATED),
    S.RETIRED: (S.UNDER_REVIEW, S.APPROVED, S.DEPRECATED, S.RETIRED),
}


def seed_catalog(*, session: Session, actor: Principal, path: Path = SEED_CATALOG) -> ImportResult:
    """Create the file's missing cards as proposed, then move each to its file's state; the caller commits."""
    require(actor, Permission.REVIEW)  # refused before anything is written, not halfway through
    text, source = path.read_text(encoding="utf-8"), str(path)
    existing = frozenset(session.exec(select(CatalogModel.name)).all())
    specs = [spec for spec in validate_catalog(text, source=source, known_names=existing)
             if spec.name not in existing]
    result = import_catalog(session=session, actor=actor, text=text, source=source, only_new=True)
    cards = {card.name: card for card in session.exec(
        select(CatalogModel).where(col(CatalogModel.name).in_([spec.name for spec in specs]))).all()}
    # Shorter paths first: a replacement is approved before the deprecated card that names it.
    for spec in sorted(specs, key=lambda spec: len(PATHS[S(spec.status)])):
        _move(session, actor, cards[spec.name], spec, source)
    return ImportResult(created=result.created, updated=result.updated, unchanged=result.unchanged)


def _move(session: Session, actor: Principal, card: CatalogModel, spec: ModelCardSpec, source: str) -> None:
    """Walk the card from proposed to the entry's status, one audited transition at a time."""
    replacement = None
    if spec.replacement:
        replacement = session.exec(select(CatalogModel).where(CatalogModel.name == spec.replacement)).first()
    for target in PATHS[S(spec.status)]:
        request = TransitionRequest(
            target=target, reason=SEED_REASON, teams=spec.restricted_teams, departments=spec.restricted_departments,
            deprecated_on=spec.deprecated_on, replacement_name=spec.replacement if target == S.DEPRECATED else "",
            next_review_on=spec.next_review_on, retired_on=spec.retired_on)
        try:
            apply_transition(session=session, actor=actor, model=card, request=request, replacement=replacement)
        except InvalidInput as exc:
            raise InvalidInput(f"{source}, '{spec.name}': cannot become {target.label}: {exc.message}") from None
