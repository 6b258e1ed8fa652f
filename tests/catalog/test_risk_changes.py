"""Governed risk changes: a plain edit may not clear a model for more sensitive data or lower its risk tier;
one reviewer proposes, another decides, both audited."""

from __future__ import annotations

import pytest
from sqlmodel import select

from catalog.models import CatalogRiskChange, DataClassification, ModelStatus, RiskChangeState, RiskTier
from catalog.risk_changes import decide_risk_change, pending_risk_changes, propose_risk_change
from catalog.service import GovernedChange, get_model, update_card
from portal.core.audit import AuditEvent
from portal.core.auth import Role
from portal.core.errors import InvalidInput, PermissionDenied

C = DataClassification


@pytest.fixture
def card(make_model):
    return make_model(ModelStatus.APPROVED, max_classification=C.INTERNAL, risk_tier=RiskTier.LIGHT_REVIEW)


def audit_actions(session) -> list[str]:
    return [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]


@pytest.mark.parametrize(("changes", "message"), [
    ({"max_classification": C.CONFIDENTIAL}, "Clearing it for confidential data \\(now up to internal\\) needs a "
                                             "reason and a second reviewer or admin"),
    ({"risk_tier": 1}, "Lowering its risk tier from 2 to 1 needs"),
    ({"risk_tier": 1, "max_classification": 4, "license": "MIT"}, "Clearing it for restricted data .* and lowering "
                                                                  "its risk tier from 2 to 1"),
])
def test_a_plain_edit_refuses_riskier_settings_and_points_to_the_governed_path(session, make_user, card, changes,
                                                                              message) -> None:
    with pytest.raises(GovernedChange, match=message + ".*Propose it as a risk change"):
        update_card(session=session, actor=make_user(Role.ADMIN), name=card.name, base_revision=1, changes=changes)
    session.rollback()
    stored = get_model(session=session, name=card.name)
    assert (stored.max_classification, stored.risk_tier, stored.license, stored.revision) == (C.INTERNAL, 2, "", 1)


def test_a_plain_edit_may_still_make_a_model_safer(session, make_user, card) -> None:
    edited = update_card(session=session, actor=make_user(Role.ADMIN), name=card.name, base_revision=1,
                         changes={"max_classification": C.PUBLIC, "risk_tier": 3})
    assert (edited.max_classification, edited.risk_tier) == (C.PUBLIC, RiskTier.FULL_REVIEW)


def test_a_second_reviewer_approves_a_proposed_change_and_both_steps_are_audited(session, make_user, card) -> None:
    proposer, approver = make_user(Role.ADMIN), make_user(Role.REVIEWER)
    change = propose_risk_change(session=session, actor=proposer, name=card.name, reason="DPIA signed off",
                                 max_classification=C.CONFIDENTIAL, risk_tier=RiskTier.SELF_SERVICE)
    session.commit()
    assert get_model(session=session, name=card.name).max_classification == C.INTERNAL  # nothing until decided
    decided = decide_risk_change(session=session, actor=approver, change_id=change.id, approve=True)
    session.commit()
    stored = get_model(session=session, name=card.name)
    assert (stored.max_classification, stored.risk_tier, stored.revision) == (C.CONFIDENTIAL, 1, 2)
    assert (decided.state, decided.decided_by_id) == (RiskChangeState.APPROVED, approver.id)
    assert audit_actions(session) == ["catalog.risk_change_proposed", "catalog.risk_change_decided"]
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "catalog.risk_change_decided")).one()
    assert (event.before["max_classification"], event.after["max_classification"], event.after["risk_tier"]) == (
        2, 3, 1)
    with pytest.raises(InvalidInput, match="already approved"):
        decide_risk_change(session=session, actor=make_user(Role.REVIEWER), change_id=change.id, approve=False,
                           note="too late")


def test_the_proposer_cannot_decide_their_own_change(session, make_user, card) -> None:
    proposer = make_user(Role.ADMIN)
    change = propose_risk_change(session=session, actor=proposer, name=card.name, reason="needed for HR",
                                 max_classification=C.RESTRICTED)
    session.commit()
    for approve in (True, False):
        with pytest.raises(PermissionDenied, match="someone else must decide on it \\(four eyes\\)"):
            decide_risk_change(session=session, actor=proposer, change_id=change.id, approve=approve, note="mine")
    assert [c.id for c in pending_risk_changes(session=session, model_id=card.id)] == [change.id]
    assert get_model(session=session, name=card.name).max_classification == C.INTERNAL


def test_a_rejection_needs_a_reason_and_leaves_the_card_as_it_was(session, make_user, card) -> None:
    change = propose_risk_change(session=session, actor=make_user(Role.ADMIN), name=card.name, reason="why not",
                                 risk_tier=RiskTier.SELF_SERVICE)
    reviewer = make_user(Role.REVIEWER)
    with pytest.raises(InvalidInput, match="Give a reason"):
        decide_risk_change(session=session, actor=reviewer, change_id=change.id, approve=False)
    rejected = decide_risk_change(session=session, actor=reviewer, change_id=change.id, approve=False,
                                  note="no evaluation yet")
    session.commit()
    assert (rejected.state, rejected.decision_note) == (RiskChangeState.REJECTED, "no evaluation yet")
    assert get_model(session=session, name=card.name).risk_tier == RiskTier.LIGHT_REVIEW


@pytest.mark.parametrize(("role", "fields", "error", "message"), [
    (Role.CONTRIBUTOR, {"risk_tier": 1}, PermissionDenied, "reviewer role"),
    (Role.REVIEWER, {"risk_tier": 2, "max_classification": C.INTERNAL}, InvalidInput, "changes nothing"),
    (Role.REVIEWER, {}, InvalidInput, "changes nothing"),
])
def test_proposals_that_cannot_be_made(session, make_user, card, role, fields, error, message) -> None:
    with pytest.raises(error, match=message):
        propose_risk_change(session=session, actor=make_user(role), name=card.name, reason="because", **fields)
    assert session.exec(select(CatalogRiskChange)).all() == []


def test_one_pending_change_per_model_and_a_stale_one_cannot_be_approved(session, make_user, card) -> None:
    reviewer, admin = make_user(Role.REVIEWER), make_user(Role.ADMIN)
    change = propose_risk_change(session=session, actor=reviewer, name=card.name, reason="DPIA",
                                 max_classification=C.CONFIDENTIAL)
    with pytest.raises(InvalidInput, match="already waits for a decision"):
        propose_risk_change(session=session, actor=admin, name=card.name, reason="again", risk_tier=1)
    update_card(session=session, actor=admin, name=card.name, base_revision=1, changes={"max_classification": 1})
    session.commit()
    with pytest.raises(InvalidInput, match="changed since this was proposed"):
        decide_risk_change(session=session, actor=admin, change_id=change.id, approve=True)
    session.rollback()
    assert get_model(session=session, name=card.name).max_classification == C.PUBLIC
    assert session.get(CatalogRiskChange, change.id).state == RiskChangeState.PENDING
