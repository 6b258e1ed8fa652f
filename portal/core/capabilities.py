"""Capabilities a course can be required for, and the gate a feature asks before using one.

Training decides who holds a capability (training.unlocks.CourseGate: valid certificates of the courses
PORTAL_TRAINING_REQUIRED_COURSES names); the sandbox and the prompt library only ask a gate their caller hands
them, so neither depends on training.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from portal.core.errors import PermissionDenied

if TYPE_CHECKING:  # settings validate capability names, and users and the database read settings
    from sqlmodel import Session

    from portal.core.users import User


class Capability(StrEnum):
    """Something a course can be required for."""

    SANDBOX_CONFIDENTIAL = "sandbox_confidential"  # confidential or restricted data in the sandbox
    PUBLISH_PROMPTS = "publish_prompts"  # publishing a prompt in the prompt library

    @property
    def description(self) -> str:
        return CAPABILITY_DESCRIPTIONS[self]


CAPABILITY_DESCRIPTIONS = {
    Capability.SANDBOX_CONFIDENTIAL: "use confidential or restricted data in the sandbox",
    Capability.PUBLISH_PROMPTS: "publish prompts in the prompt library",
}


class CapabilityLocked(PermissionDenied):
    """The user has not completed (or has let expire) a course the capability requires."""

    def __init__(self, message: str, *, capability: Capability, courses: list[str]) -> None:
        super().__init__(message)
        self.capability, self.courses = capability, courses


class CapabilityGate(Protocol):
    """Who may use a capability now, and what unlocks it."""

    def require(self, *, session: Session, user: User, capability: Capability) -> None:
        """Raise CapabilityLocked, naming what unlocks the capability, unless the user holds it."""

    def holds(self, *, session: Session, user: User, capability: Capability) -> bool:
        """Whether the user may use the capability now."""

    def named_requirement(self, *, session: Session, capability: Capability) -> str:
        """What the capability requires, named for a message ("'A' and 'B'"); "" when it requires nothing."""


@dataclass(frozen=True)
class NothingRequired:
    """The gate when no course is configured: every capability is open to everyone."""

    def require(self, *, session: Session, user: User, capability: Capability) -> None:
        return None

    def holds(self, *, session: Session, user: User, capability: Capability) -> bool:
        return True

    def named_requirement(self, *, session: Session, capability: Capability) -> str:
        return ""


NOTHING_REQUIRED = NothingRequired()
