"""Portal users: created from identity claims at first sign-in, managed by admins."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Index, func, or_, update
from sqlmodel import Field, Session, SQLModel, col, select

from portal.core.audit import record, utcnow
from portal.core.db import LIKE_ESCAPE, contains_pattern, distinct_values
from portal.core.auth import HasRole, Permission, Role, require, role_from_groups
from portal.core.errors import InvalidInput, NotFound, PermissionDenied
from portal.core.user_events import (
    UserCreated,
    UserIdentityLinked,
    UserProfileChanged,
    UserRoleChanged,
    UserSignedIn,
)

log = logging.getLogger(__name__)

MAX_NAME_LENGTH = 200
MAX_ORG_UNIT_LENGTH = 120
MAX_ISSUER_LENGTH = 500
MAX_SUBJECT_LENGTH = 255


class User(SQLModel, table=True):
    """A person who has signed in (or was created as demo data)."""

    # "user" is a reserved word in PostgreSQL.
    __tablename__ = "portal_user"
    __table_args__ = (Index("ix_portal_user_oidc_identity", "oidc_issuer", "oidc_subject", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    # Who the identity provider says this is: the (issuer, subject) pair is what an OpenID sign-in matches on,
    # never the e-mail alone (a provider may reassign an e-mail, or let anyone claim an unverified one).
    oidc_issuer: str | None = Field(default=None, max_length=MAX_ISSUER_LENGTH)
    oidc_subject: str | None = Field(default=None, max_length=MAX_SUBJECT_LENGTH)
    name: str = Field(default="", max_length=MAX_NAME_LENGTH)
    department: str = Field(default="", max_length=MAX_ORG_UNIT_LENGTH, index=True)
    team: str = Field(default="", max_length=MAX_ORG_UNIT_LENGTH, index=True)
    role: str = Field(default=Role.VIEWER.value, max_length=20, index=True)
    # Set when an admin changes the role in the portal: from then on identity-provider groups no longer change it.
    role_set_by_admin: bool = False
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    last_sign_in_at: datetime | None = None

    @property
    def display_name(self) -> str:
        return self.name or self.email

    def snapshot(self) -> dict[str, Any]:
        """The fields an audit event's before/after summary shows."""
        return {"role": self.role, "department": self.department, "team": self.team, "name": self.name}


@dataclass(frozen=True)
class ClaimNames:
    """Which identity-token claims carry department, team and groups, and how groups map to roles."""

    department: str = "department"
    team: str = "team"
    groups: str = "groups"
    role_group_mapping: Mapping[str, str] = field(default_factory=dict)


class IdentityConflict(PermissionDenied):
    """An OpenID sign-in that must not reach the portal account its e-mail names."""


def sign_in_from_claims(*, session: Session, claims: Mapping[str, Any], claim_names: ClaimNames) -> User:
    """Sign in the user whose identity (issuer + subject) the claims carry: create, link or refresh them."""
    email = str(claims.get("email") or "").strip().lower()
    if "@" not in email:
        raise InvalidInput("The identity provider sent no e-mail address; the portal needs one to sign you in.")
    issuer, subject = _identity(claims)
    verified = not _email_unverified(claims)
    fresh = _profile_from_claims(claims, claim_names)
    user = session.exec(select(User).where(User.oidc_issuer == issuer, User.oidc_subject == subject)).first()
    if user is None:
        user = _link_or_create(session, issuer=issuer, subject=subject, email=email, verified=verified, fresh=fresh)
    else:
        if verified:
            _follow_email_change(session, user, email)
        _refresh_from_claims(session, user, fresh)
    if not user.active:
        raise PermissionDenied("Your portal account is deactivated. Ask a portal admin.")
    return _mark_signed_in(session, user)


def _identity(claims: Mapping[str, Any]) -> tuple[str, str]:
    issuer, subject = str(claims.get("iss") or "").strip(), str(claims.get("sub") or "").strip()
    if not issuer or not subject:
        raise InvalidInput("The identity provider sent no issuer (iss) or subject (sub) claim; the portal needs "
                           "both to recognise you. Ask the CoE team to check the OpenID Connect set-up.")
    if len(issuer) > MAX_ISSUER_LENGTH or len(subject) > MAX_SUBJECT_LENGTH:
        raise InvalidInput(f"The identity provider's issuer or subject is too long (at most {MAX_ISSUER_LENGTH} "
                           f"and {MAX_SUBJECT_LENGTH} characters).")
    return issuer, subject


def _email_unverified(claims: Mapping[str, Any]) -> bool:
    # Absent = the provider vouches for its directory's addresses (Entra ID sends no email_verified); some
    # providers send the flag as a string.
    flag = claims.get("email_verified")
    return flag is False or (isinstance(flag, str) and flag.strip().lower() == "false")


def _link_or_create(session: Session, *, issuer: str, subject: str, email: str, verified: bool,
                    fresh: dict[str, Any]) -> User:
    """A first sign-in of this identity: link the unlinked account of its verified e-mail, or create one."""
    if not verified:
        raise IdentityConflict(f"Your identity provider has not verified the e-mail address {email}, and the "
                               "portal signs in only verified addresses. Verify it with your identity provider "
                               "(or ask your IT support), then sign in again.")
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None:
        user = User(email=email, oidc_issuer=issuer, oidc_subject=subject, **fresh)
        session.add(user)
        session.flush()
        record(session, user, UserCreated(user_id=user.id, email=email, profile=user.snapshot()))
        return user
    if user.oidc_subject is not None:
        raise IdentityConflict(f"The portal account for {email} belongs to another sign-in identity, so this "
                               "one cannot use it. Ask a portal admin.")
    user.oidc_issuer, user.oidc_subject = issuer, subject
    session.add(user)
    record(session, user, UserIdentityLinked(user_id=user.id, email=email, issuer=issuer, subject=subject))
    _refresh_from_claims(session, user, fresh)
    return user


def _follow_email_change(session: Session, user: User, email: str) -> None:
    """The provider's verified e-mail changed: the account follows it, unless another account holds it."""
    if email == user.email:
        return
    if session.exec(select(User.id).where(User.email == email)).first() is not None:
        log.warning("user %s keeps e-mail %s: the provider's new %s belongs to another account",
                    user.id, user.email, email)
        return
    record(session, user, UserProfileChanged(user_id=user.id, email=email, old={"email": user.email},
                                            new={"email": email}, from_claims=True))
    user.email = email
    session.add(user)


def dev_sign_in(*, session: Session, user_id: int) -> User:
    """Sign in as an existing (demo) user: the development sign-in, loopback only."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("That demo user does not exist. Run `coe-portal seed` to create the demo users.")
    if not user.active:
        raise PermissionDenied(f"{user.name}'s account is deactivated; an admin can reactivate it.")
    return _mark_signed_in(session, user)


def _mark_signed_in(session: Session, user: User) -> User:
    user.last_sign_in_at = utcnow()
    session.add(user)
    record(session, user, UserSignedIn(user_id=user.id))
    session.flush()
    return user


def _profile_from_claims(claims: Mapping[str, Any], names: ClaimNames) -> dict[str, Any]:
    groups = claims.get(names.groups) or []
    if isinstance(groups, str):
        groups = [groups]
    return {
        "name": str(claims.get("name") or "")[:MAX_NAME_LENGTH],
        "department": str(claims.get(names.department) or "")[:MAX_ORG_UNIT_LENGTH],
        "team": str(claims.get(names.team) or "")[:MAX_ORG_UNIT_LENGTH],
        "role": role_from_groups(groups, names.role_group_mapping).value,
    }


def _refresh_from_claims(session: Session, user: User, fresh: dict[str, Any]) -> None:
    before = user.snapshot()
    if user.role_set_by_admin:
        fresh = {**fresh, "role": user.role}
    # Claims the provider leaves empty do not wipe what an admin entered in the portal.
    for key, value in fresh.items():
        if value:
            setattr(user, key, value)
    if user.snapshot() != before:
        record(session, user, UserProfileChanged(user_id=user.id, email=user.email, old=before, new=user.snapshot(),
                                                 from_claims=True))


@dataclass(frozen=True)
class UserPage:
    users: list[User]
    total: int


def list_users(
    *, session: Session, actor: HasRole, search: str = "", role: Role | None = None,
    department: str = "", limit: int = 50, offset: int = 0,
) -> UserPage:
    """One page of users matching the search (name or e-mail), role and department; admins only."""
    require(actor, Permission.MANAGE_USERS)
    conditions: list[Any] = []
    if search:
        pattern = contains_pattern(search.strip().lower())
        conditions.append(or_(func.lower(User.email).like(pattern, escape=LIKE_ESCAPE),
                              func.lower(User.name).like(pattern, escape=LIKE_ESCAPE)))
    if role:
        conditions.append(User.role == role.value)
    if department:
        conditions.append(User.department == department)
    total = session.exec(select(func.count()).select_from(User).where(*conditions)).one()
    users = session.exec(select(User).where(*conditions).order_by(col(User.email)).limit(limit).offset(offset)).all()
    return UserPage(users=list(users), total=total)


def departments(*, session: Session) -> list[str]:
    """Every department that has at least one user, sorted."""
    return distinct_values(session, User.__table__.c.department)


def describe_user(*, session: Session, user_id: int | None) -> str:
    """'Name (e-mail)' of a user, for showing who requested or approved something; '—' when unknown."""
    found = session.get(User, user_id) if user_id is not None else None
    return f"{found.display_name} ({found.email})" if found else "—"


def emails_of(*, session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    """User id -> e-mail for just these users (authors on a page), in one query."""
    wanted = {user_id for user_id in user_ids if user_id is not None}
    if not wanted:
        return {}
    return dict(session.exec(select(User.id, User.email).where(col(User.id).in_(wanted))).all())


def demo_users(*, session: Session) -> list[User]:
    """The users the development sign-in offers, admins first."""
    return list(session.exec(select(User).where(col(User.active)).order_by(col(User.email))).all())


def update_user(
    *, session: Session, actor: HasRole, user_id: int, role: Role | None = None,
    department: str | None = None, team: str | None = None,
) -> User:
    """Change a user's role, department or team; admins only, and the last admin cannot be demoted."""
    require(actor, Permission.MANAGE_USERS)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"There is no user with id {user_id}.")
    before = user.snapshot()
    if role is not None and role.value != user.role:
        _refuse_demoting_last_admin(session, user, role)
        user.role = role.value
        user.role_set_by_admin = True
    if department is not None:
        user.department = _org_unit(department, "Department")
    if team is not None:
        user.team = _org_unit(team, "Team")
    if user.snapshot() == before:
        return user
    session.add(user)
    changed = UserRoleChanged if before["role"] != user.role else UserProfileChanged
    record(session, actor, changed(user_id=user.id, email=user.email, old=before, new=user.snapshot()))
    session.flush()
    return user


def _refuse_demoting_last_admin(session: Session, user: User, new_role: Role) -> None:
    if user.role != Role.ADMIN.value or new_role == Role.ADMIN:
        return
    admin_ids = _lock_admins(session)
    # Read again under the lock: another admin may have changed this user since it was loaded.
    session.refresh(user)
    if user.role == Role.ADMIN.value and len(admin_ids) <= 1:
        raise InvalidInput(f"{user.email} is the only admin; make someone else admin first.")


def _lock_admins(session: Session) -> list[int]:
    """Lock every admin's row and return their ids, as they are once any concurrent role change has committed.

    A no-op UPDATE of the admin rows: on PostgreSQL it row-locks them (a concurrent demotion waits, then sees the
    committed roles), on SQLite it takes the database's write lock. Two admins demoting each other at the same
    moment are so serialised, and the second sees one admin left. SELECT ... FOR UPDATE would do on PostgreSQL
    only; SQLite ignores it.
    """
    session.exec(update(User).where(col(User.role) == Role.ADMIN.value).values(role=User.role)
                 .execution_options(synchronize_session=False))
    return list(session.exec(select(User.id).where(User.role == Role.ADMIN.value)).all())


def _org_unit(value: str, label: str) -> str:
    value = value.strip()
    if len(value) > MAX_ORG_UNIT_LENGTH:
        raise InvalidInput(f"{label} is {len(value)} characters long; at most {MAX_ORG_UNIT_LENGTH} fit.")
    return value
