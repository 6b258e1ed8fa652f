"""The audit events of portal users: created, signed in, profile or role changed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from portal.core.audit import Change, Event, JSONDict


def describe_change(old: JSONDict, new: JSONDict) -> str:
    """`key 'old' → 'new'` for each value that changed."""
    return ", ".join(f"{key} {old[key]!r} → {new[key]!r}" for key in new if old[key] != new[key])


@dataclass(frozen=True)
class _UserEvent(Event):
    """An event about one portal user, named by their id (not an event type itself: it has no action)."""

    entity_type: ClassVar[str] = "user"
    entity_field: ClassVar[str] = "user_id"
    user_id: int


@dataclass(frozen=True)
class UserCreated(_UserEvent):
    """A user row was created: at first sign-in from identity claims, or as demo data."""

    action: ClassVar[str] = "user.created"
    after_field: ClassVar[str] = "profile"
    email: str
    profile: JSONDict
    demo: bool = False

    def summary(self) -> str:
        return f"demo user {self.email}" if self.demo else f"created from identity claims: {self.email}"


@dataclass(frozen=True)
class UserSignedIn(_UserEvent):
    action: ClassVar[str] = "user.signed_in"


@dataclass(frozen=True)
class UserProfileChanged(_UserEvent, Change):
    """Department, team or name changed: by an admin, or from fresher identity claims at sign-in."""

    action: ClassVar[str] = "user.profile_changed"
    email: str
    old: JSONDict
    new: JSONDict
    from_claims: bool = False

    def summary(self) -> str:
        if self.from_claims and set(self.new) == {"email"}:  # the provider's verified e-mail moved
            return f"e-mail {self.old['email']} → {self.new['email']} from identity claims"
        if self.from_claims:
            return "updated from identity claims"
        return f"{self.email}: {describe_change(self.old, self.new)}"


@dataclass(frozen=True)
class UserRoleChanged(_UserEvent, Change):
    """An admin changed a user's role (and perhaps more of the profile with it)."""

    action: ClassVar[str] = "user.role_changed"
    email: str
    old: JSONDict
    new: JSONDict

    def summary(self) -> str:
        return f"{self.email}: {describe_change(self.old, self.new)}"


@dataclass(frozen=True)
class UserIdentityLinked(_UserEvent):
    """An existing account (its e-mail verified by the provider) was linked to an OpenID identity at first sign-in."""

    action: ClassVar[str] = "user.identity_linked"
    email: str
    issuer: str
    subject: str

    def summary(self) -> str:
        return f"{self.email} linked to {self.subject} at {self.issuer}"


USER_EVENTS: tuple[type[Event], ...] = (UserCreated, UserSignedIn, UserProfileChanged, UserRoleChanged,
                                        UserIdentityLinked)
