"""Training that unlocks rights: a capability can require valid certificates of named courses.

The setting PORTAL_TRAINING_REQUIRED_COURSES maps a capability to course slugs, e.g.
`{"sandbox_confidential": ["responsible-ai"], "publish_prompts": ["responsible-ai"]}`. The sandbox and the
prompt library ask a CourseGate, handed to them by their caller, before the action (they never import training);
the error names the course that unlocks it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from portal.core.audit import utcnow
from portal.core.capabilities import Capability, CapabilityLocked
from portal.core.users import User
from training.models import Certificate, Course, CourseVersion


@dataclass(frozen=True)
class CourseGate:
    """The CapabilityGate of the portal: a capability needs valid certificates of the courses configured for it."""

    required: Mapping[str, Sequence[str]] = field(default_factory=dict)  # capability -> course slugs

    def require(self, *, session: Session, user: User, capability: Capability) -> None:
        require_capability(session=session, user=user, capability=capability, required=self.required)

    def holds(self, *, session: Session, user: User, capability: Capability) -> bool:
        return not missing_courses(session=session, user=user, slugs=self._slugs(capability))

    def named_requirement(self, *, session: Session, capability: Capability) -> str:
        slugs = self._slugs(capability)
        return named_courses(session=session, slugs=slugs) if slugs else ""

    def _slugs(self, capability: Capability) -> list[str]:
        return list(self.required.get(Capability(capability).value, ()))


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


# Capability and CapabilityLocked live in portal.core (the features that check them cannot import training).
__all__ = ["Capability", "CapabilityLocked", "CourseGate", "missing_courses", "named_courses", "require_capability"]
