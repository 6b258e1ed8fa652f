"""OpenID Connect users are matched on issuer + subject; an e-mail alone never hands over an account."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from portal.core.audit import AuditEvent
from portal.core.auth import Role
from portal.core.errors import InvalidInput
from portal.core.users import ClaimNames, IdentityConflict, User, sign_in_from_claims

ISSUER = "https://idp.example.com"
CLAIMS = ClaimNames(role_group_mapping={"coe-admins": "admin"})


def sign_in(session: Session, sub: str, email: str, *, iss: str = ISSUER, **extra) -> User:
    user = sign_in_from_claims(session=session, claims={"iss": iss, "sub": sub, "email": email, **extra},
                               claim_names=CLAIMS)
    session.commit()
    return user


def users(session: Session) -> list[User]:
    session.expire_all()
    return list(session.exec(select(User).order_by(User.id)).all())


def actions(session: Session) -> list[str]:
    return [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]


def test_a_first_sign_in_stores_issuer_and_subject(session: Session) -> None:
    user = sign_in(session, "u-1", "Ann@Example.com", name="Ann")
    (stored,) = users(session)
    assert (stored.id, stored.email, stored.oidc_issuer, stored.oidc_subject) == (
        user.id, "ann@example.com", ISSUER, "u-1")


def test_a_returning_user_with_a_changed_email_is_still_the_same_account(session: Session, make_user) -> None:
    first = sign_in(session, "u-1", "ann.smith@example.com", name="Ann Smith")
    admin = make_user(Role.ADMIN)
    again = sign_in(session, "u-1", "ann.jones@example.com", name="Ann Jones")
    assert again.id == first.id
    assert [(u.email, u.oidc_subject) for u in users(session) if u.id != admin.id] == [
        ("ann.jones@example.com", "u-1")]
    change = session.exec(select(AuditEvent).where(AuditEvent.summary.contains("e-mail"))).one()
    assert "ann.smith@example.com → ann.jones@example.com" in change.summary


def test_a_different_subject_with_the_same_email_does_not_take_over_the_account(session: Session) -> None:
    owner = sign_in(session, "u-1", "ann@example.com", groups=["coe-admins"])
    with pytest.raises(IdentityConflict, match="belongs to another sign-in identity"):
        sign_in(session, "attacker", "ann@example.com")
    session.rollback()
    (stored,) = users(session)
    assert (stored.id, stored.oidc_subject, stored.role) == (owner.id, "u-1", "admin")
    assert actions(session).count("user.signed_in") == 1


def test_the_same_subject_at_another_issuer_is_another_identity(session: Session) -> None:
    sign_in(session, "u-1", "ann@example.com")
    with pytest.raises(IdentityConflict, match="another sign-in identity"):
        sign_in(session, "u-1", "ann@example.com", iss="https://other-idp.example.net")


def test_an_account_made_before_openid_is_linked_at_its_first_verified_sign_in(session: Session,
                                                                                make_user) -> None:
    seeded = make_user(Role.REVIEWER, email="rita@example.com")
    user = sign_in(session, "u-7", "rita@example.com", email_verified=True)
    assert user.id == seeded.id
    stored = session.get(User, seeded.id)
    assert (stored.oidc_issuer, stored.oidc_subject) == (ISSUER, "u-7")
    assert "user.identity_linked" in actions(session)
    # From now on that account answers to u-7 only.
    with pytest.raises(IdentityConflict):
        sign_in(session, "u-8", "rita@example.com", email_verified=True)


@pytest.mark.parametrize("flag", [False, "false", "False"])
def test_an_unverified_email_never_links_to_an_existing_account(session: Session, make_user, flag) -> None:
    seeded = make_user(Role.ADMIN, email="ceo@example.com")
    with pytest.raises(IdentityConflict, match="has not verified the e-mail address ceo@example.com"):
        sign_in(session, "u-9", "ceo@example.com", email_verified=flag)
    session.rollback()
    (stored,) = users(session)
    assert (stored.id, stored.oidc_subject) == (seeded.id, None)
    assert actions(session) == []


def test_an_unverified_email_does_not_create_an_account_either(session: Session) -> None:
    # Creating one would let whoever typed the address first hold it against its real owner.
    with pytest.raises(IdentityConflict, match="Verify it with your identity provider"):
        sign_in(session, "u-9", "new@example.com", email_verified=False)
    session.rollback()
    assert users(session) == []


def test_a_returning_user_keeps_their_verified_email_when_the_new_one_is_unverified(session: Session) -> None:
    first = sign_in(session, "u-1", "ann@example.com")
    again = sign_in(session, "u-1", "boss@example.com", email_verified=False)
    assert again.id == first.id and users(session)[0].email == "ann@example.com"


def test_a_changed_email_another_account_holds_is_not_taken(session: Session, make_user) -> None:
    other = make_user(email="bob@example.com")
    first = sign_in(session, "u-1", "ann@example.com")
    again = sign_in(session, "u-1", "bob@example.com")
    assert again.id == first.id
    assert {u.id: u.email for u in users(session)} == {other.id: "bob@example.com", first.id: "ann@example.com"}


@pytest.mark.parametrize(("claims", "message"), [
    ({"sub": "u-1"}, "no issuer \\(iss\\) or subject \\(sub\\)"),
    ({"iss": ISSUER}, "no issuer \\(iss\\) or subject \\(sub\\)"),
    ({"iss": ISSUER, "sub": "x" * 300}, "too long"),
])
def test_claims_without_a_usable_identity_are_refused(session: Session, claims, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        sign_in_from_claims(session=session, claims={"email": "ann@example.com", **claims}, claim_names=CLAIMS)
    session.rollback()
    assert users(session) == []


def test_the_database_holds_one_account_per_identity(session: Session) -> None:
    session.add(User(email="a@example.com", oidc_issuer=ISSUER, oidc_subject="u-1"))
    session.add(User(email="b@example.com", oidc_issuer=ISSUER, oidc_subject="u-1"))
    with pytest.raises(IntegrityError):
        session.commit()
