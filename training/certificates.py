"""Certificates: issued on completion with a verification code, verified by anyone signed in, expiring on schedule."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from portal.core.audit import record, utcnow
from portal.core.auth import HasRole, Permission, require
from portal.core.errors import InvalidInput, NotFound
from portal.core.users import User
from training.events import CertificateIssued
from training.models import Certificate, Course, CourseVersion, Enrolment

EXPIRY_WARNING = timedelta(days=30)


def new_code() -> str:
    """A verification code like CERT-7KQ2-M4XD-9PLA: 60 random bits, no look-alike padding."""
    raw = base64.b32encode(secrets.token_bytes(10)).decode()[:12]
    return "CERT-" + "-".join(raw[i:i + 4] for i in range(0, 12, 4))


def issue_certificate(session: Session, *, user: User, enrolment: Enrolment, version: CourseVersion,
                      course: Course) -> Certificate:
    """Add the certificate for a completed enrolment, and its audit event; the caller commits."""
    issued = utcnow()
    expires = issued + timedelta(days=version.recertification_days) if version.recertification_days else None
    certificate = Certificate(code=new_code(), user_id=user.id, course_id=course.id, version_id=version.id,
                              enrolment_id=enrolment.id, issued_at=issued, expires_at=expires)
    session.add(certificate)
    session.flush()
    record(session, user, CertificateIssued(code=certificate.code, email=user.email, course=course.slug,
                                            version=version.version, expires_at=expires))
    return certificate


@dataclass(frozen=True)
class CertificateView:
    """A certificate as a person reads it."""

    code: str
    holder: str
    holder_email: str
    department: str
    course_slug: str
    course_title: str
    version: int
    issued_at: datetime
    expires_at: datetime | None
    now: datetime

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= self.now

    @property
    def expiring_soon(self) -> bool:
        return not self.expired and self.expires_at is not None and self.expires_at - self.now <= EXPIRY_WARNING

    @property
    def status(self) -> str:
        if self.expired:
            return f"expired on {self.expires_at:%Y-%m-%d}"
        return f"valid until {self.expires_at:%Y-%m-%d}" if self.expires_at else "valid (does not expire)"


def _views(session: Session, *conditions, now: datetime | None = None) -> list[CertificateView]:
    now = now or utcnow()
    rows = session.exec(
        select(Certificate, User, Course.slug, CourseVersion.title, CourseVersion.version)
        .join(User, col(User.id) == Certificate.user_id).join(Course, col(Course.id) == Certificate.course_id)
        .join(CourseVersion, col(CourseVersion.id) == Certificate.version_id)
        .where(*conditions).order_by(col(Certificate.issued_at).desc())).all()
    return [CertificateView(code=c.code, holder=u.display_name, holder_email=u.email, department=u.department,
                            course_slug=slug, course_title=title, version=version, issued_at=c.issued_at,
                            expires_at=c.expires_at, now=now) for c, u, slug, title, version in rows]


def verify_certificate(*, session: Session, actor: HasRole, code: str, now: datetime | None = None
                       ) -> CertificateView:
    """The certificate with this code, for anyone signed in; NotFound when no certificate has it."""
    require(actor, Permission.BROWSE)
    cleaned = code.strip().upper()
    if not cleaned:
        raise InvalidInput("Enter a verification code, e.g. CERT-7KQ2-M4XD-9PLA.")
    found = _views(session, Certificate.code == cleaned, now=now)
    if not found:
        raise NotFound(f"No certificate has the code '{cleaned[:40]}'. Check it letter by letter.")
    return found[0]


def my_certificates(*, session: Session, user: User, now: datetime | None = None) -> list[CertificateView]:
    """The user's certificates, newest first."""
    return _views(session, Certificate.user_id == user.id, now=now)


def expiry_notices(*, session: Session, user: User, now: datetime | None = None) -> list[str]:
    """What the learner must be told: certificates expired or expiring within 30 days, not yet renewed."""
    notices, seen = [], set()
    for view in my_certificates(session=session, user=user, now=now):
        if view.course_slug in seen:
            continue  # only the newest certificate of a course counts
        seen.add(view.course_slug)
        if view.expired:
            notices.append(f"Your certificate for '{view.course_title}' expired on {view.expires_at:%Y-%m-%d}. "
                           "Retake the course to recertify.")
        elif view.expiring_soon:
            notices.append(f"Your certificate for '{view.course_title}' expires on {view.expires_at:%Y-%m-%d}. "
                           "Retake the course to recertify before then.")
    return notices
