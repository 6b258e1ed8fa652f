"""Users: created from identity claims, managed by admins, every change audited in the same transaction."""

import threading

import pytest
from sqlmodel import Session, select

from portal.core.audit import AuditEvent
from portal.core.auth import Role
from portal.core.errors import InvalidInput, NotFound, PermissionDenied
from portal.core.users import (
    ClaimNames,
    User,
    dev_sign_in,
    emails_of,
    list_users,
    sign_in_from_claims,
    update_user,
)

CLAIMS = ClaimNames(department="dept", team="team", groups="groups",
                    role_group_mapping={"coe-reviewers": "reviewer", "coe-admins": "admin"})


# What every real OpenID provider's ID token carries besides the profile: who issued it and whom it names.
IDP = {"iss": "https://idp.example.com"}


def events(session: Session, action: str) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_first_sign_in_creates_the_user_from_claims(session: Session) -> None:
    claims = {**IDP, "sub": "maria", "email": "Maria.Lopez@Example.com", "name": "María López", "dept": "Finance",
              "team": "FP&A", "groups": ["coe-reviewers"]}
    user = sign_in_from_claims(session=session, claims=claims, claim_names=CLAIMS)
    session.commit()
    stored = session.exec(select(User).where(User.email == "maria.lopez@example.com")).one()
    assert (stored.name, stored.department, stored.team, stored.role) == ("María López", "Finance", "FP&A", "reviewer")
    assert stored.last_sign_in_at is not None and user.id == stored.id
    assert [e.entity_id for e in events(session, "user.created")] == [str(user.id)]
    assert len(events(session, "user.signed_in")) == 1


def test_later_sign_in_updates_from_claims_but_keeps_an_admin_role_override(session: Session, make_user) -> None:
    admin = make_user(Role.ADMIN)
    user = sign_in_from_claims(session=session, claims={**IDP, "sub": "a", "email": "a@example.com",
                                                        "dept": "Sales"}, claim_names=CLAIMS)
    update_user(session=session, actor=admin, user_id=user.id, role=Role.CONTRIBUTOR)
    session.commit()
    again = sign_in_from_claims(session=session, claims={**IDP, "sub": "a", "email": "a@example.com",
                                                         "dept": "Legal", "groups": []}, claim_names=CLAIMS)
    session.commit()
    assert (again.department, again.role) == ("Legal", "contributor")
    assert len(events(session, "user.signed_in")) == 2


def test_claims_without_email_are_refused(session: Session) -> None:
    with pytest.raises(InvalidInput, match="no e-mail"):
        sign_in_from_claims(session=session, claims={"name": "Nobody"}, claim_names=CLAIMS)
    assert session.exec(select(User)).all() == []


def test_deactivated_user_cannot_sign_in(session: Session, make_user) -> None:
    user = make_user(email="gone@example.com")
    user.active = False
    session.add(user)
    session.commit()
    with pytest.raises(PermissionDenied, match="deactivated"):
        sign_in_from_claims(session=session, claims={**IDP, "sub": "gone", "email": "gone@example.com"},
                            claim_names=CLAIMS)


def test_dev_sign_in_of_unknown_user_says_how_to_create_demo_users(session: Session) -> None:
    with pytest.raises(NotFound, match="coe-portal seed"):
        dev_sign_in(session=session, user_id=999)


def test_admin_changes_role_and_department_with_audit(session: Session, make_user) -> None:
    admin = make_user(Role.ADMIN, email="boss@example.com")
    user = make_user(Role.VIEWER, department="Sales")
    update_user(session=session, actor=admin, user_id=user.id, role=Role.REVIEWER, department="Legal", team="Contracts")
    session.commit()
    stored = session.get(User, user.id)
    assert (stored.role, stored.department, stored.team, stored.role_set_by_admin) == (
        "reviewer", "Legal", "Contracts", True)
    (event,) = events(session, "user.role_changed")
    assert event.actor_email == "boss@example.com"
    assert event.before["role"] == "viewer" and event.after["role"] == "reviewer"
    assert "department 'Sales' → 'Legal'" in event.summary


@pytest.mark.parametrize("role", [Role.VIEWER, Role.CONTRIBUTOR, Role.REVIEWER])
def test_non_admin_cannot_change_roles_and_nothing_changes(session: Session, make_user, role: Role) -> None:
    actor = make_user(role)
    target = make_user(Role.VIEWER)
    with pytest.raises(PermissionDenied, match="that needs the admin role"):
        update_user(session=session, actor=actor, user_id=target.id, role=Role.ADMIN)
    session.rollback()
    assert session.get(User, target.id).role == "viewer"
    assert session.get(User, actor.id).role == role.value
    assert session.exec(select(AuditEvent)).all() == []


def test_last_admin_cannot_be_demoted(session: Session, make_user) -> None:
    admin = make_user(Role.ADMIN)
    with pytest.raises(InvalidInput, match="only admin"):
        update_user(session=session, actor=admin, user_id=admin.id, role=Role.VIEWER)
    second = make_user(Role.ADMIN)
    update_user(session=session, actor=second, user_id=admin.id, role=Role.VIEWER)
    assert session.get(User, admin.id).role == "viewer"


def test_overlong_department_is_refused_with_its_length(session: Session, make_user) -> None:
    admin = make_user(Role.ADMIN)
    with pytest.raises(InvalidInput, match="Department is 121 characters"):
        update_user(session=session, actor=admin, user_id=admin.id, department="x" * 121)


def test_unchanged_update_records_nothing(session: Session, make_user) -> None:
    admin = make_user(Role.ADMIN, department="CoE", team="Platform")
    update_user(session=session, actor=admin, user_id=admin.id, role=Role.ADMIN, department="CoE", team="Platform")
    assert session.exec(select(AuditEvent)).all() == []


def test_list_users_filters_and_pages_in_sql(session: Session, make_user) -> None:
    admin = make_user(Role.ADMIN, email="admin@example.com", department="CoE")
    for i in range(12):
        make_user(Role.CONTRIBUTOR if i % 2 else Role.VIEWER, email=f"user{i:02}@example.com",
                  department="Sales" if i < 6 else "Legal")
    page = list_users(session=session, actor=admin, role=Role.CONTRIBUTOR, department="Legal", limit=2)
    assert page.total == 3
    assert [u.email for u in page.users] == ["user07@example.com", "user09@example.com"]
    assert list_users(session=session, actor=admin, search="USER1", limit=50).total == 2
    with pytest.raises(PermissionDenied):
        list_users(session=session, actor=make_user(Role.REVIEWER))


def test_search_treats_wildcards_as_text(session: Session, make_user) -> None:
    admin = make_user(Role.ADMIN, email="admin@example.com")
    make_user(email="under_score@example.com")
    make_user(email="underxscore@example.com")
    assert [u.email for u in list_users(session=session, actor=admin, search="under_").users] == [
        "under_score@example.com"]
    assert list_users(session=session, actor=admin, search="%").total == 0


def test_emails_of_names_just_the_users_asked_for(session: Session, make_user) -> None:
    author, commenter, _other = make_user(email="a@example.com"), make_user(email="c@example.com"), make_user()
    assert emails_of(session=session, user_ids=[author.id, commenter.id, author.id, None]) == {
        author.id: "a@example.com", commenter.id: "c@example.com"}
    assert emails_of(session=session, user_ids=[]) == {}


def _demote_together(engine, pairs: list[tuple[User, User]]) -> list[object]:
    """Each (actor, target) demotes target to viewer in its own session, all released at the same moment."""
    from tests.catalog.test_concurrent_changes import run_together

    start = threading.Barrier(len(pairs))

    def demote(i: int) -> str:
        actor, target = pairs[i]
        with Session(engine, expire_on_commit=False) as own:
            own.get(User, target.id)  # the admin page has loaded the user
            start.wait()
            update_user(session=own, actor=actor, user_id=target.id, role=Role.VIEWER)
            own.commit()
        return "demoted"

    return run_together(len(pairs), demote)


@pytest.mark.parametrize("rounds", range(5))
@pytest.mark.parametrize("shape", ["each other", "themselves"])
def test_two_admins_demoting_at_the_same_moment_leave_one_admin(engine, session: Session, make_user, shape: str,
                                                                rounds: int) -> None:
    first, second = make_user(Role.ADMIN), make_user(Role.ADMIN)
    pairs = [(first, second), (second, first)] if shape == "each other" else [(first, first), (second, second)]
    results = _demote_together(engine, pairs)
    assert results.count("demoted") == 1, results
    (refused,) = [r for r in results if r != "demoted"]
    assert isinstance(refused, InvalidInput) and "is the only admin" in refused.message, results
    session.expire_all()
    admins = session.exec(select(User).where(User.role == "admin")).all()
    assert len(admins) == 1
    assert len(events(session, "user.role_changed")) == 1


def test_many_admins_demoting_each_other_at_once_never_leave_none(engine, session: Session, make_user) -> None:
    admins = [make_user(Role.ADMIN) for _ in range(6)]
    pairs = [(admins[i], admins[(i + 1) % len(admins)]) for i in range(len(admins))]
    results = _demote_together(engine, pairs)
    assert all(r == "demoted" or isinstance(r, InvalidInput) for r in results), results
    session.expire_all()
    left = session.exec(select(User).where(User.role == "admin")).all()
    assert len(left) == 1 and results.count("demoted") == len(admins) - 1
