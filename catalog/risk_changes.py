"""Governed risk changes: raising what data a model is cleared for, or lowering its risk tier, needs a reason
and a second person. One reviewer or admin proposes; another approves or rejects; both steps are audited.

A plain card edit (catalog.service.update_card) refuses such a change and points here. Making a model
safer (a lower classification, a higher tier) stays a plain edit.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, col, select

from catalog.lifecycle import checked_reason
from catalog.models import CatalogModel, CatalogRiskChange, DataClassification, RiskChangeState, RiskTier
from catalog.service import CardEditConflict, get_model
from catalog.events import RiskChangeDecided, RiskChangeProposed
from portal.core.audit import record, utcnow
from portal.core.auth import Permission, require
from portal.core.errors import InvalidInput, PermissionDenied
from portal.core.users import User

PENDING = RiskChangeState.PENDING


def risk_change_summary(change: CatalogRiskChange) -> str:
    """What the change asks for, e.g. "cleared up to internal → confidential; risk tier 3 → 2"."""
    parts = []
    if change.to_classification is not None:
        parts.append(f"cleared up to {change.from_classification.label} → {change.to_classification.label}")
    if change.to_risk_tier is not None:
        parts.append(f"risk tier {int(change.from_risk_tier)} → {int(change.to_risk_tier)}")
    return "; ".join(parts)


def propose_risk_change(*, session: Session, actor: User, name: str, reason: str,
                        risk_tier: RiskTier | None = None,
                        max_classification: DataClassification | None = None) -> CatalogRiskChange:
    """Ask for a new risk tier and/or classification; another reviewer or admin decides."""
    require(actor, Permission.REVIEW)
    reason = checked_reason(reason)
    model = get_model(session=session, name=name)
    tier = None if risk_tier is None or RiskTier(risk_tier) == model.risk_tier else RiskTier(risk_tier)
    level = None if max_classification is None or DataClassification(max_classification) == model.max_classification \
        else DataClassification(max_classification)
    if tier is None and level is None:
        raise InvalidInput("The proposal changes nothing: pick a risk tier or classification other than the card's.")
    if pending_risk_changes(session=session, model_id=model.id):
        raise InvalidInput(f"A risk change of '{name}' already waits for a decision; decide on it first.")
    change = CatalogRiskChange(model_id=model.id, proposed_by_id=actor.id, reason=reason,
                               from_risk_tier=model.risk_tier, to_risk_tier=tier,
                               from_classification=model.max_classification, to_classification=level)
    session.add(change)
    session.flush()
    record(session, actor, RiskChangeProposed(model=model.name, change_id=change.id,
                                              change=risk_change_summary(change), reason=reason))
    return change


def pending_risk_changes(*, session: Session, model_id: int | None = None) -> list[CatalogRiskChange]:
    """Changes waiting for a decision, oldest first; of one model when given."""
    query = select(CatalogRiskChange).where(CatalogRiskChange.state == PENDING)
    if model_id is not None:
        query = query.where(CatalogRiskChange.model_id == model_id)
    return list(session.exec(query.order_by(col(CatalogRiskChange.id))).all())


def decide_risk_change(*, session: Session, actor: User, change_id: int, approve: bool,
                       note: str = "") -> CatalogRiskChange:
    """Approve (apply to the card) or reject a pending change; the proposer cannot decide their own."""
    require(actor, Permission.REVIEW)
    change = session.get(CatalogRiskChange, change_id)
    if change is None:
        raise InvalidInput(f"There is no risk change {change_id}.")
    if change.state != PENDING:
        raise InvalidInput(f"This risk change was already {change.state.label}.")
    if change.proposed_by_id == actor.id:
        raise PermissionDenied("You proposed this change, so someone else must decide on it (four eyes).")
    note = note.strip()[:1000] if approve else checked_reason(note)  # a rejection says why
    model = session.get(CatalogModel, change.model_id)
    _claim(session, change, approve)
    change.decided_by_id, change.decided_at, change.decision_note = actor.id, utcnow(), note
    session.add(change)
    if approve:
        _apply(session, model, change)
    record(session, actor, RiskChangeDecided(
        model=model.name, change_id=change.id, change=risk_change_summary(change), state=change.state, note=note,
        from_risk_tier=change.from_risk_tier, from_classification=change.from_classification,
        to_risk_tier=model.risk_tier, to_classification=model.max_classification))
    session.flush()
    return change


def _claim(session: Session, change: CatalogRiskChange, approve: bool) -> None:
    """Decide the change only if it is still pending: two reviewers deciding at once cannot both win."""
    state = RiskChangeState.APPROVED if approve else RiskChangeState.REJECTED
    claimed = session.execute(update(CatalogRiskChange).where(
        col(CatalogRiskChange.id) == change.id, col(CatalogRiskChange.state) == PENDING,
    ).values(state=state).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise InvalidInput("Someone decided on this risk change while you were looking at it; nothing was changed.")
    session.refresh(change)


def _apply(session: Session, model: CatalogModel, change: CatalogRiskChange) -> None:
    """Set the card's new values, as a revision of the card, if it still has the values the proposal started from."""
    if (model.risk_tier, model.max_classification) != (change.from_risk_tier, change.from_classification):
        raise InvalidInput("The card's risk tier or classification changed since this was proposed; reject it "
                           "and propose again from the card as it is now.")
    values = {"risk_tier": change.to_risk_tier or model.risk_tier,
              "max_classification": change.to_classification or model.max_classification}
    # Through the card's revision, so an editor who opened the card before cannot save the old values back.
    applied = session.execute(update(CatalogModel).where(
        col(CatalogModel.id) == model.id, col(CatalogModel.revision) == model.revision,
    ).values(**values, revision=model.revision + 1, updated_at=utcnow()).execution_options(synchronize_session=False))
    if applied.rowcount != 1:
        raise CardEditConflict(name=model.name, base=model.revision, latest=model.revision + 1)
    session.refresh(model)
