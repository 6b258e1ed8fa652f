"""The audit events of portal users: created, signed in, profile or role changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from portal.core.audit import Event, JSONDict


def describe_change(old: JSONDict, new: JSONDict) -> str:
    """`key 'old' → 'new'` for each value that changed."""
    return ", ".join(f"{key} {old[key]!r} → {new[key]!r}" for key in new if old[key] != new[key])


@dataclass(frozen=True)
class UserCreated(Event):
    """A user row was created: at first sign-in from identity claims, or as demo data."""

    action: ClassVar[str] = "user.created"
    entity_type: ClassVar[str] = "user"
    user_id: int
    email: str
    profile: JSONDict
    demo: bool = False

    def entity_id(self) -> int:
        return self.user_id

    def summary(self) -> str:
        return f"demo user {self.email}" if self.demo else f"created from identity claims: {self.email}"

    def after(self) -> JSONDict:
        return self.profile


@dataclass(frozen=True)
class UserSignedIn(Event):
    action: ClassVar[str] = "user.signed_in"
    entity_type: ClassVar[str] = "user"
    user_id: int

    def entity_id(self) -> int:
        return self.user_id


@dataclass(frozen=True)
class UserProfileChanged(Event):
    """Department, team or name changed: by an admin, or from fresher identity claims at sign-in."""

    action: ClassVar[str] = "user.profile_changed"
    entity_type: ClassVar[str] = "user"
    user_id: int
    email: str
    old: JSONDict
    new: JSONDict
    from_claims: bool = False

    def entity_id(self) -> int:
        return self.user_id

    def summary(self) -> str:
        if self.from_claims and set(self.new) == {"email"}:  # the provider's verified e-mail moved
            return f"e-mail {self.old['email']} → {self.new['email']} from identity claims"
        if self.from_claims:
            return "updated from identity claims"
        return f"{self.email}: {describe_change(self.old, self.new)}"

    def before(self) -> JSONDict:
        return self.old

    def after(self) -> JSONDict:
        return self.new


@dataclass(frozen=True)
class UserRoleChanged(Event):
    """An admin changed a user's role (and perhaps more of the profile with it)."""

    action: ClassVar[str] = "user.role_changed"
    entity_type: ClassVar[str] = "user"
    user_id: int
    email: str
    old: JSONDict
    new: JSONDict

    def entity_id(self) -> int:
        return self.user_id

    def summary(self) -> str:
        return f"{self.email}: {describe_change(self.old, self.new)}"

    def before(self) -> JSONDict:
        return self.old

    def after(self) -> JSONDict:
        return self.new


@dataclass(frozen=True)
class UserIdentityLinked(Event):
    """An existing account (its e-mail verified by the provider) was linked to an OpenID identity at first sign-in."""

    action: ClassVar[str] = "user.identity_linked"
    entity_type: ClassVar[str] = "user"
    user_id: int
    email: str
    issuer: str
    subject: str

    def entity_id(self) -> int:
        return self.user_id

    def summary(self) -> str:
        return f"{self.email} linked to {self.subject} at {self.issuer}"


USER_EVENTS: tuple[type[Event], ...] = (UserCreated, UserSignedIn, UserProfileChanged, UserRoleChanged,
                                        UserIdentityLinked)
