"""The lifecycle state machine: every move for every role, four eyes, and random walks that stay valid."""

from __future__ import annotations

import uuid
from datetime import date
from itertools import product

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, func, select

from catalog.lifecycle import TRANSITIONS, TransitionRequest, allowed_targets
from catalog.models import CatalogModel, ModelStatus
from catalog.service import transition_model
from portal.core.audit import AuditEvent
from portal.core.auth import Role
from portal.core.errors import InvalidInput, PermissionDenied

S = ModelStatus
ALLOWED = {
    S.PROPOSED: {S.UNDER_REVIEW, S.REJECTED},
    S.UNDER_REVIEW: {S.APPROVED, S.RESTRICTED, S.REJECTED, S.PROPOSED},
    S.APPROVED: {S.RESTRICTED, S.DEPRECATED},
    S.RESTRICTED: {S.APPROVED, S.DEPRECATED},
    S.DEPRECATED: {S.APPROVED, S.RETIRED},
    S.RETIRED: set(),
    S.REJECTED: set(),
}
CAN_MOVE = {Role.VIEWER: False, Role.CONTRIBUTOR: False, Role.REVIEWER: True, Role.RISK_REVIEWER: True,
            Role.ADMIN: True}


def request_for(target: ModelStatus, replacement: str = "") -> TransitionRequest:
    """A complete request for the target: the extra fields it needs are filled in."""
    return TransitionRequest(target=target, reason="checked against the policy", teams=["Data Platform"],
                             deprecated_on=date(2026, 12, 1), replacement_name=replacement)


def audit_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(AuditEvent)).one()


def test_the_table_in_code_is_the_documented_one() -> None:
    assert {s: set(allowed_targets(s)) for s in ModelStatus} == ALLOWED


@pytest.mark.parametrize(("source", "target", "role"), list(product(ModelStatus, ModelStatus, Role)))
def test_every_transition_for_every_role(session, make_user, make_model, source, target, role) -> None:
    actor = make_user(role)
    replacement = make_model(S.APPROVED, name="replacement-model")
    model = make_model(source)
    before, events = model.snapshot(), audit_count(session)

    def move():
        return transition_model(session=session, actor=actor, name=model.name,
                                request=request_for(target, replacement.name))

    if not CAN_MOVE[role]:
        with pytest.raises(PermissionDenied, match="that needs the reviewer role"):
            move()
    elif target not in ALLOWED[source]:
        with pytest.raises(InvalidInput, match=f"cannot become {target.label}"):
            move()
    else:
        moved = move()
        session.commit()
        assert moved.status == target.value
        (event,) = session.exec(select(AuditEvent).where(AuditEvent.entity_id == model.name)).all()
        assert event.actor_email == actor.email and event.after["status"] == target.value
        assert event.before == before and "checked against the policy" in event.summary
        return
    session.rollback()
    assert session.get(CatalogModel, model.id).snapshot() == before
    assert audit_count(session) == events


@pytest.mark.parametrize("target", [S.APPROVED, S.RESTRICTED])
def test_the_requester_cannot_approve_their_own_model(session, make_user, make_model, target) -> None:
    requester = make_user(Role.REVIEWER)
    model = make_model(S.UNDER_REVIEW, requested_by_id=requester.id)
    with pytest.raises(PermissionDenied, match="someone else must approve it"):
        transition_model(session=session, actor=requester, name=model.name, request=request_for(target))
    other = make_user(Role.REVIEWER)
    approved = transition_model(session=session, actor=other, name=model.name, request=request_for(target))
    assert approved.approved_by_id == other.id and approved.next_review_on is not None


def test_the_requester_may_still_start_the_review(session, make_user, make_model) -> None:
    requester = make_user(Role.ADMIN)
    model = make_model(S.PROPOSED, requested_by_id=requester.id)
    moved = transition_model(session=session, actor=requester, name=model.name,
                             request=request_for(S.UNDER_REVIEW))
    assert moved.status == "under_review"


@pytest.mark.parametrize(("request_fields", "message"), [
    ({"reason": "  "}, "Give a reason"),
    ({"reason": "x" * 1001}, "at most 1000"),
    ({"target": S.RESTRICTED, "teams": [" "]}, "at least one team or department"),
    ({"target": S.DEPRECATED, "replacement_name": ""}, "Name the model that replaces"),
    ({"target": S.DEPRECATED, "replacement_name": "no-such-model"}, "no model 'no-such-model'"),
    ({"target": S.DEPRECATED, "replacement_name": "proposed-model"}, "pick an approved or restricted"),
    ({"target": S.DEPRECATED, "deprecated_on": None}, "Give the date"),
])
def test_a_move_missing_what_it_needs_is_refused(session, make_user, make_model, request_fields, message) -> None:
    reviewer = make_user(Role.REVIEWER)
    make_model(S.APPROVED, name="replacement-model")
    make_model(S.PROPOSED, name="proposed-model")
    model = make_model(S.APPROVED)
    fields = {"target": S.RESTRICTED, "reason": "ok", "teams": ["Data Platform"],
              "deprecated_on": date(2026, 12, 1), "replacement_name": "replacement-model", **request_fields}
    with pytest.raises(InvalidInput, match=message):
        transition_model(session=session, actor=reviewer, name=model.name, request=TransitionRequest(**fields))


def test_self_replacement_is_refused(session, make_user, make_model) -> None:
    model = make_model(S.APPROVED)
    with pytest.raises(InvalidInput, match="cannot replace itself"):
        transition_model(session=session, actor=make_user(Role.REVIEWER), name=model.name,
                         request=request_for(S.DEPRECATED, replacement=model.name))


def test_deprecation_records_date_and_replacement_and_reinstating_clears_them(session, make_user,
                                                                               make_model) -> None:
    reviewer = make_user(Role.REVIEWER)
    make_model(S.APPROVED, name="replacement-model")
    model = make_model(S.APPROVED)
    deprecated = transition_model(session=session, actor=reviewer, name=model.name,
                                  request=request_for(S.DEPRECATED, "replacement-model"))
    assert (deprecated.deprecated_on, deprecated.replacement_name) == (date(2026, 12, 1), "replacement-model")
    reinstated = transition_model(session=session, actor=reviewer, name=model.name, request=request_for(S.APPROVED))
    assert (reinstated.deprecated_on, reinstated.replacement_name) == (None, "")


ROLES = st.sampled_from(list(Role))
STEPS = st.lists(st.tuples(ROLES, st.sampled_from(list(ModelStatus)), st.booleans(), st.booleans()), max_size=25)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_random_sequences_never_reach_an_invalid_state_or_skip_an_audit_event(session, make_user, make_model,
                                                                                steps) -> None:
    users = {role: make_user(role) for role in Role}
    requester = users[Role.REVIEWER]
    # A fresh name per example: the database outlives examples, and id() values are reused.
    replacement = make_model(S.APPROVED, name=f"replacement-{uuid.uuid4().hex[:12]}").name
    model = make_model(S.PROPOSED, requested_by_id=requester.id)
    for role, target, with_reason, as_requester in steps:
        actor = requester if as_requester else users[role]
        source = ModelStatus(session.get(CatalogModel, model.id).status)
        events_before = audit_count(session)
        request = TransitionRequest(target=target, reason="because" if with_reason else "",
                                    teams=["Data Platform"], deprecated_on=date(2026, 12, 1),
                                    replacement_name=replacement)
        try:
            transition_model(session=session, actor=actor, name=model.name, request=request)
            session.commit()
            moved = True
        except (InvalidInput, PermissionDenied):
            session.rollback()
            moved = False
        current = session.get(CatalogModel, model.id)
        legal = (source, target) in TRANSITIONS and with_reason and Role(actor.role).includes(Role.REVIEWER) \
            and not (target in (S.APPROVED, S.RESTRICTED) and actor.id == requester.id)
        assert moved == legal
        assert ModelStatus(current.status) == (target if moved else source)
        assert audit_count(session) == events_before + (1 if moved else 0)
        if ModelStatus(current.status) == S.RESTRICTED:
            assert current.restricted_teams or current.restricted_departments
        if ModelStatus(current.status) in (S.APPROVED, S.RESTRICTED):
            assert current.approved_by_id is not None and current.approved_by_id != requester.id
