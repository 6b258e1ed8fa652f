"""The audit log: recorded with the change, browsable by admins with filters."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from catalog.events import ModelTransitioned
from portal.core.audit import AuditEvent, AuditFilter, audit_facets, browse_audit_log, record
from portal.core.auth import Role
from portal.core.db import session_scope
from portal.core.errors import PermissionDenied
from portal.core.principals import SYSTEM_SEED
from portal.core.user_events import UserCreated, UserProfileChanged, UserRoleChanged, UserSignedIn
from portal.core.users import User, update_user


def test_event_rolls_back_with_the_change_it_describes(engine, make_user) -> None:
    admin = make_user(Role.ADMIN)
    target = make_user(Role.VIEWER)
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        update_user(session=session, actor=admin, user_id=target.id, role=Role.REVIEWER)
        raise RuntimeError("the request failed after the change")
    with session_scope(engine) as session:
        assert session.get(User, target.id).role == "viewer"
        assert session.exec(select(AuditEvent)).all() == []


@pytest.fixture
def logged(session: Session, make_user):
    admin = make_user(Role.ADMIN, email="ada@example.com")
    other = make_user(Role.REVIEWER, email="ravi@example.com")
    now = datetime.now(UTC)
    for days_ago, actor, typed in [
        (0, admin, UserRoleChanged(user_id=7, email="x@example.com", old={"role": "viewer"}, new={"role": "admin"})),
        (1, other, UserSignedIn(user_id=7)),
        (10, admin, UserProfileChanged(user_id=7, email="x@example.com", old={}, new={}, from_claims=True)),
        (11, SYSTEM_SEED, UserCreated(user_id=7, email="x@example.com", profile={})),
    ]:
        event = record(session, actor, typed)
        event.at = now - timedelta(days=days_ago)
    session.commit()
    return admin


@pytest.mark.parametrize(
    ("filters", "expected_actions"),
    [
        (AuditFilter(), ["user.role_changed", "user.signed_in", "user.profile_changed", "user.created"]),
        (AuditFilter(actor="ADA"), ["user.role_changed", "user.profile_changed"]),
        (AuditFilter(actor="system"), ["user.created"]),
        (AuditFilter(action="user.signed_in"), ["user.signed_in"]),
        (AuditFilter(entity_type="prompt"), []),
        (AuditFilter(entity_type="user", entity_id="7", since=date.today() - timedelta(days=2)),
         ["user.role_changed", "user.signed_in"]),
        (AuditFilter(until=date.today() - timedelta(days=5)), ["user.profile_changed", "user.created"]),
        (AuditFilter(actor="%"), []),
    ],
)
def test_browse_filters(session: Session, logged, filters: AuditFilter, expected_actions: list[str]) -> None:
    page = browse_audit_log(session=session, actor=logged, filters=filters)
    assert [e.action for e in page.events] == expected_actions
    assert page.total == len(expected_actions)


def test_browse_pages_newest_first(session: Session, logged) -> None:
    first = browse_audit_log(session=session, actor=logged, filters=AuditFilter(), limit=3)
    second = browse_audit_log(session=session, actor=logged, filters=AuditFilter(), limit=3, offset=3)
    assert first.total == second.total == 4
    assert [e.action for e in second.events] == ["user.created"]
    assert audit_facets(session=session, actor=logged) == (
        ["user.created", "user.profile_changed", "user.role_changed", "user.signed_in"], ["user"])


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CONTRIBUTOR, Role.REVIEWER])
def test_only_admins_browse_the_log(session: Session, make_user, role: Role) -> None:
    with pytest.raises(PermissionDenied, match="browse the audit log"):
        browse_audit_log(session=session, actor=make_user(role), filters=AuditFilter())


def test_count_stops_at_the_cap_and_says_so(session: Session, make_user, monkeypatch) -> None:
    import portal.core.audit as audit_module

    admin = make_user(Role.ADMIN)
    for i in range(7):
        record(session, admin, UserSignedIn(user_id=i))
    session.commit()
    monkeypatch.setattr(audit_module, "AUDIT_COUNT_CAP", 5)
    capped = browse_audit_log(session=session, actor=admin, filters=AuditFilter(), limit=2)
    assert (capped.total, capped.total_is_capped, len(capped.events)) == (5, True, 2)
    exact = browse_audit_log(session=session, actor=admin, filters=AuditFilter(entity_id="3"))
    assert (exact.total, exact.total_is_capped) == (1, False)


def test_a_system_principals_event_names_it_and_points_at_no_user(session: Session) -> None:
    event = record(session, SYSTEM_SEED, UserCreated(user_id=1, email="x@example.com", profile={}))
    session.commit()
    session.expire_all()
    stored = session.get(AuditEvent, event.id)
    assert (stored.actor_id, stored.actor_email) == (None, "system:seed")


def test_an_event_without_a_principal_is_refused(session: Session) -> None:
    with pytest.raises(TypeError, match="principal"):
        record(session, None, UserCreated(user_id=1, email="x@example.com", profile={}))


def test_an_event_types_facts_become_the_stored_row(session: Session, make_user) -> None:
    admin = make_user(Role.ADMIN, email="ada@example.com")
    event = record(session, admin, UserRoleChanged(user_id=7, email="vera@example.com",
                                                   old={"role": "viewer", "team": "A"},
                                                   new={"role": "reviewer", "team": "A"}))
    session.commit()
    stored = session.get(AuditEvent, event.id)
    assert (stored.action, stored.entity_type, stored.entity_id) == ("user.role_changed", "user", "7")
    assert stored.summary == "vera@example.com: role 'viewer' → 'reviewer'"
    assert (stored.before, stored.after) == ({"role": "viewer", "team": "A"}, {"role": "reviewer", "team": "A"})


def test_the_filters_offer_every_declared_action_and_any_older_one_in_the_log(session: Session, logged) -> None:
    session.add(AuditEvent(action="legacy.action", entity_type="legacy", entity_id="1"))
    session.commit()
    actions, entity_types = audit_facets(session=session, actor=logged, declared=[UserSignedIn, ModelTransitioned])
    assert actions == ["catalog.model_transitioned", "legacy.action", "user.created", "user.profile_changed",
                       "user.role_changed", "user.signed_in"]
    assert entity_types == ["catalog_model", "legacy", "user"]
