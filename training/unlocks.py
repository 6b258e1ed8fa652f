"""Training that unlocks rights: a capability can require valid certificates of named courses.

The setting PORTAL_TRAINING_REQUIRED_COURSES maps a capability to course slugs, e.g.
`{"sandbox_confidential": ["responsible-ai"], "publish_prompts": ["responsible-ai"]}`. Services call
`require_capability` before the action; the error names the course that unlocks it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import or_
from sqlmodel import Session, col, select

from portal.core.audit import utcnow
from portal.core.errors import PermissionDenied
from portal.core.users import User
from training.models import Certificate, Course, CourseVersion


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


def missing_courses(*, session: Session, user: User, slugs: Sequence[str], now: datetime | None = None) -> list[str]:
    """The slugs among `slugs` for which the user holds no certificate that is still valid."""
    if not slugs:
        return []
    now = now or utcnow()
    held = set(session.exec(
        select(Course.slug).join(Certificate, col(Certificate.course_id) == Course.id)
        .where(Certificate.user_id == user.id, col(Course.slug).in_(list(slugs)),
               or_(col(Certificate.expires_at).is_(None), col(Certificate.expires_at) > now))).all())
    return [slug for slug in slugs if slug not in held]


def require_capability(*, session: Session, user: User, capability: Capability | str,
                       required: Mapping[str, Sequence[str]], now: datetime | None = None) -> None:
    """Raise CapabilityLocked naming the course(s) to take unless the user holds every required certificate."""
    capability = Capability(capability)
    missing = missing_courses(session=session, user=user, slugs=list(required.get(capability.value, ())), now=now)
    if not missing:
        return
    raise CapabilityLocked(f"To {capability.description} you need a valid certificate of the course "
                           f"{named_courses(session=session, slugs=missing)}. "
                           "Take it under Training › Courses; it unlocks this right away.",
                           capability=capability, courses=missing)


def named_courses(*, session: Session, slugs: Sequence[str]) -> str:
    """The courses by their current titles, quoted, for a message: "'A' and 'B'"."""
    titles = _titles(session, list(slugs))
    return " and ".join(f"'{titles.get(slug, slug)}'" for slug in slugs)


def _titles(session: Session, slugs: list[str]) -> dict[str, str]:
    rows = session.exec(select(Course.slug, CourseVersion.title)
                        .join(CourseVersion, col(CourseVersion.id) == Course.current_version_id)
                        .where(col(Course.slug).in_(slugs))).all()
    return dict(rows)
