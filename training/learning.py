"""Learners: the course list with their status, enrolling, reading lessons, and completion by the course's rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from portal.core.audit import utcnow
from portal.core.auth import Permission, require
from portal.core.errors import InvalidInput, NotFound
from portal.core.users import User
from training.assignments import assignments_for
from training.certificates import issue_certificate
from training.models import (
    Certificate,
    Course,
    CourseVersion,
    Enrolment,
    Lab,
    LabAttempt,
    Lesson,
    LessonProgress,
    QuizAttempt,
    Verb,
)
from training.statements import activity_id, record_statement


class Status(StrEnum):
    """Where a learner is with a course."""

    NOT_STARTED = "not started"
    IN_PROGRESS = "in progress"
    COMPLETED = "completed"
    EXPIRED = "expired"  # completed, but the certificate has expired

    @property
    def label(self) -> str:
        return "certificate expired" if self is Status.EXPIRED else self.value


@dataclass(frozen=True)
class CourseRow:
    """One course on the learner's list."""

    slug: str
    version: CourseVersion  # the version the learner is on, or the current one before enrolling
    status: Status
    enrolment_id: int | None = None
    due_on: date | None = None
    newer_version: bool = False  # completed an older version; a newer one exists

    @property
    def overdue(self) -> bool:
        return self.due_on is not None and self.status != Status.COMPLETED and self.due_on < utcnow().date()


def course_list(*, session: Session, user: User, now: datetime | None = None) -> list[CourseRow]:
    """Every course with the learner's status and due date; assigned courses first, by due date."""
    require(user, Permission.BROWSE)
    now = now or utcnow()
    courses = session.exec(select(Course, CourseVersion).join(CourseVersion,
                                                              col(CourseVersion.id) == Course.current_version_id)).all()
    enrolments = {e.course_id: e for e in session.exec(select(Enrolment).where(Enrolment.user_id == user.id,
                                                                               col(Enrolment.current))).all()}
    versions = {v.id: v for v in session.exec(select(CourseVersion).where(
        col(CourseVersion.id).in_([e.version_id for e in enrolments.values()]))).all()}
    expiry = dict(session.exec(select(Certificate.enrolment_id, Certificate.expires_at)
                               .where(Certificate.user_id == user.id)).all())
    due = assignments_for(session=session, user=user)
    rows = []
    for course, current in courses:
        enrolment = enrolments.get(course.id)
        version = versions[enrolment.version_id] if enrolment else current
        rows.append(CourseRow(slug=course.slug, version=version, status=_status(enrolment, expiry, now),
                              enrolment_id=enrolment.id if enrolment else None, due_on=due.get(course.id),
                              newer_version=version.id != current.id))
    return sorted(rows, key=lambda r: (r.due_on is None, r.due_on or date.max, r.version.title))


def _status(enrolment: Enrolment | None, expiry: dict[int, datetime | None], now: datetime) -> Status:
    if enrolment is None:
        return Status.NOT_STARTED
    if enrolment.completed_at is None:
        return Status.IN_PROGRESS
    expires = expiry.get(enrolment.id)
    return Status.EXPIRED if expires is not None and expires <= now else Status.COMPLETED


def course_by_slug(session: Session, slug: str) -> tuple[Course, CourseVersion]:
    """The course and its current version; NotFound for an unknown slug."""
    row = session.exec(select(Course, CourseVersion).join(CourseVersion,
                                                          col(CourseVersion.id) == Course.current_version_id)
                       .where(Course.slug == slug)).first()
    if row is None:
        raise NotFound(f"There is no course '{slug}'. Pick one from Training › Courses.")
    return row


def enrol(*, session: Session, user: User, slug: str) -> Enrolment:
    """Enrol in the current version; a learner already on the course keeps their enrolment, unless it is a retake."""
    require(user, Permission.BROWSE)
    course, current = course_by_slug(session, slug)
    existing = current_enrolment(session, user, course.id)
    if existing is not None and not _may_retake(session, existing, current):
        return existing
    _require_prerequisites(session, user, current)
    if existing is not None:
        existing.current = False
        session.add(existing)
    enrolment = Enrolment(user_id=user.id, course_id=course.id, version_id=current.id)
    session.add(enrolment)
    session.flush()
    record_statement(session, user=user, verb=Verb.REGISTERED, course=course, object_id=activity_id(slug),
                     object_name=current.title)
    return enrolment


def _may_retake(session: Session, enrolment: Enrolment, current: CourseVersion) -> bool:
    """A completed enrolment may start again when its certificate expired or a newer version exists."""
    if enrolment.completed_at is None:
        return False
    certificate = session.exec(select(Certificate).where(Certificate.enrolment_id == enrolment.id)).first()
    expired = certificate is not None and certificate.expires_at is not None and certificate.expires_at <= utcnow()
    return expired or enrolment.version_id != current.id


def _require_prerequisites(session: Session, user: User, version: CourseVersion) -> None:
    if not version.prerequisites:
        return
    done = set(session.exec(select(Course.slug).join(Enrolment, col(Enrolment.course_id) == Course.id)
                            .where(Enrolment.user_id == user.id, col(Enrolment.completed_at).is_not(None),
                                   col(Course.slug).in_(version.prerequisites))).all())
    missing = [slug for slug in version.prerequisites if slug not in done]
    if missing:
        raise InvalidInput(f"Complete {', '.join(repr(s) for s in missing)} first: '{version.title}' builds on it.")


def current_enrolment(session: Session, user: User, course_id: int) -> Enrolment | None:
    return session.exec(select(Enrolment).where(Enrolment.user_id == user.id, Enrolment.course_id == course_id,
                                                col(Enrolment.current))).first()


def own_enrolment(session: Session, user: User, enrolment_id: int) -> Enrolment:
    """The user's own enrolment; someone else's is reported as not found."""
    enrolment = session.get(Enrolment, enrolment_id)
    if enrolment is None or enrolment.user_id != user.id:
        raise NotFound("That enrolment does not exist or is not yours.")
    return enrolment


@dataclass
class Progress:
    """Where a learner stands in one enrolment, against the course's completion rule."""

    course: Course
    version: CourseVersion
    enrolment: Enrolment | None
    lessons: list[Lesson]
    labs: list[Lab]
    read: set[int] = field(default_factory=set)
    labs_passed: set[int] = field(default_factory=set)
    quiz_attempts: int = 0
    best_score: int | None = None
    quiz_passed: bool = False
    certificate: Certificate | None = None

    @property
    def attempts_left(self) -> int:
        return max(0, self.version.max_quiz_attempts - self.quiz_attempts)

    def missing(self) -> list[str]:
        """What the completion rule still asks for, in words."""
        missing = []
        unread = len(self.lessons) - len(self.read)
        if self.version.require_all_lessons and unread:
            missing.append(f"read {unread} more lesson(s)")
        if self.version.require_quiz and not self.quiz_passed:
            missing.append(f"pass the quiz ({self.version.pass_mark}% needed)")
        if self.version.require_labs and len(self.labs_passed) < len(self.labs):
            missing.append(f"pass {len(self.labs) - len(self.labs_passed)} more lab(s)")
        return missing


def progress(*, session: Session, user: User, slug: str) -> Progress:
    """The learner's progress in a course (the version they are on), or the current version before enrolling."""
    require(user, Permission.BROWSE)
    course, current = course_by_slug(session, slug)
    enrolment = current_enrolment(session, user, course.id)
    version = session.get(CourseVersion, enrolment.version_id) if enrolment else current
    return _progress(session, course, version, enrolment)


def _progress(session: Session, course: Course, version: CourseVersion, enrolment: Enrolment | None) -> Progress:
    lessons = list(session.exec(select(Lesson).where(Lesson.version_id == version.id).order_by(col(Lesson.position))))
    labs = list(session.exec(select(Lab).where(Lab.version_id == version.id).order_by(col(Lab.position))))
    found = Progress(course=course, version=version, enrolment=enrolment, lessons=lessons, labs=labs)
    if enrolment is None:
        return found
    found.read = set(session.exec(select(LessonProgress.lesson_id)
                                  .where(LessonProgress.enrolment_id == enrolment.id)).all())
    found.labs_passed = set(session.exec(select(LabAttempt.lab_id).where(LabAttempt.enrolment_id == enrolment.id,
                                                                         col(LabAttempt.passed))).all())
    attempts, best, passed = session.exec(
        select(func.count(), func.max(QuizAttempt.score), func.max(case((col(QuizAttempt.passed), 1), else_=0)))
        .where(QuizAttempt.enrolment_id == enrolment.id)).one()
    found.quiz_attempts, found.best_score, found.quiz_passed = int(attempts), best, bool(passed)
    found.certificate = session.exec(select(Certificate).where(Certificate.enrolment_id == enrolment.id)).first()
    return found


def mark_lesson_read(*, session: Session, user: User, enrolment_id: int, lesson_id: int) -> Certificate | None:
    """Record that the learner read a lesson (once); returns the certificate when that completed the course."""
    enrolment = own_enrolment(session, user, enrolment_id)
    lesson = session.get(Lesson, lesson_id)
    if lesson is None or lesson.version_id != enrolment.version_id:
        raise NotFound("That lesson is not part of your version of the course.")
    done = session.exec(select(LessonProgress).where(LessonProgress.enrolment_id == enrolment.id,
                                                     LessonProgress.lesson_id == lesson.id)).first()
    if done is not None:
        return None
    session.add(LessonProgress(enrolment_id=enrolment.id, lesson_id=lesson.id))
    course = session.get(Course, enrolment.course_id)
    record_statement(session, user=user, verb=Verb.EXPERIENCED, course=course,
                     object_id=activity_id(course.slug, "lesson", lesson.slug), object_name=lesson.title)
    session.flush()
    return complete_if_done(session, user=user, enrolment=enrolment)


def complete_if_done(session: Session, *, user: User, enrolment: Enrolment) -> Certificate | None:
    """Mark the enrolment completed and issue the certificate when the completion rule is met."""
    if enrolment.completed_at is not None:
        return None
    course = session.get(Course, enrolment.course_id)
    version = session.get(CourseVersion, enrolment.version_id)
    if _progress(session, course, version, enrolment).missing():
        return None
    enrolment.completed_at = utcnow()
    session.add(enrolment)
    record_statement(session, user=user, verb=Verb.COMPLETED, course=course, object_id=activity_id(course.slug),
                     object_name=version.title, completion=True, success=True)
    return issue_certificate(session, user=user, enrolment=enrolment, version=version, course=course)
