"""Assignments: the CoE asks a person, team or department to complete a course by a date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import and_, case, func, or_
from sqlmodel import Session, col, select

from portal.core.audit import record, utcnow
from portal.core.auth import HasRole, Permission, require
from portal.core.errors import InvalidInput, NotFound, StaleEdit
from portal.core.revisions import delete_if_unchanged, insert_new, save_if_unchanged
from portal.core.users import User
from training.events import AssignmentRemoved, CourseAssigned
from training.models import Assignment, Course, CourseVersion, Enrolment, TargetKind

NOUN = "assignment"


def assignee_match():
    """SQL condition: the User row is someone the Assignment row is for."""
    return or_(and_(Assignment.target_kind == TargetKind.PERSON.value, User.email == Assignment.target),
               and_(Assignment.target_kind == TargetKind.TEAM.value, User.team == Assignment.target),
               and_(Assignment.target_kind == TargetKind.DEPARTMENT.value, User.department == Assignment.target))


def assign_course(*, session: Session, actor: User, slug: str, target_kind: TargetKind | str, target: str,
                  due_on: date, base_revision: int = 0) -> Assignment:
    """Assign a course (or move its due date); the CoE team only.

    `base_revision` is the revision of this assignment the editor saw (0: they saw none); a stale one is refused."""
    require(actor, Permission.MANAGE_TRAINING)
    kind, target = _checked_target(session, target_kind, target)
    course = session.exec(select(Course).where(Course.slug == slug)).first()
    if course is None:
        raise NotFound(f"There is no course '{slug}'.")
    if due_on < utcnow().date():
        raise InvalidInput(f"The due date {due_on:%Y-%m-%d} is in the past; pick today or later.")
    assignment = session.exec(select(Assignment).where(Assignment.course_id == course.id,
                                                       Assignment.target_kind == kind.value,
                                                       Assignment.target == target)).first()
    before = {"due_on": assignment.due_on.isoformat()} if assignment else None
    values = {"due_on": due_on, "assigned_by": actor.id, "assigned_at": utcnow()}
    if assignment is None and base_revision:
        raise StaleEdit(noun=NOUN, base=base_revision, latest=None)
    if assignment is None:
        assignment = Assignment(course_id=course.id, target_kind=kind.value, target=target, **values)
        insert_new(session, assignment, noun=NOUN)
    else:
        save_if_unchanged(session, assignment, base_revision=base_revision, values=values, noun=NOUN)
    record(session, actor, CourseAssigned(assignment_id=assignment.id, course=slug, target_kind=kind, target=target,
                                          due_on=due_on, previous=before))
    return assignment


def normalised_target(target_kind: TargetKind | str, target: str) -> str:
    """The target as assignments store it: single spaces, an e-mail in lower case."""
    target = " ".join(target.split())
    return target.lower() if target_kind == TargetKind.PERSON else target


def _checked_target(session: Session, target_kind: TargetKind | str, target: str) -> tuple[TargetKind, str]:
    try:
        kind = TargetKind(target_kind)
    except ValueError:
        raise InvalidInput(f"Assign to a person, team or department, not '{target_kind}'.") from None
    target = normalised_target(kind, target)
    column = {TargetKind.PERSON: User.email, TargetKind.TEAM: User.team, TargetKind.DEPARTMENT: User.department}[kind]
    if not target or session.exec(select(User.id).where(column == target)).first() is None:
        raise InvalidInput(f"No portal user is in the {kind.value} '{target}'." if kind != TargetKind.PERSON
                           else f"No portal user has the e-mail address '{target}'.")
    return kind, target


def remove_assignment(*, session: Session, actor: User, assignment_id: int, base_revision: int) -> None:
    """Withdraw an assignment the editor saw at `base_revision`; learners' progress is kept."""
    require(actor, Permission.MANAGE_TRAINING)
    assignment = session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound("That assignment does not exist (any more).")
    removed = AssignmentRemoved(assignment_id=assignment_id, target_kind=assignment.target_kind,
                                target=assignment.target, course_id=assignment.course_id, due_on=assignment.due_on)
    delete_if_unchanged(session, assignment, base_revision=base_revision, noun=NOUN)
    record(session, actor, removed)


def assignments_for(*, session: Session, user: User) -> dict[int, date]:
    """course id -> the earliest due date of the assignments that reach this user."""
    rows = session.exec(select(Assignment.course_id, func.min(Assignment.due_on))
                        .join(User, assignee_match()).where(User.id == user.id)
                        .group_by(Assignment.course_id)).all()
    return {course_id: due for course_id, due in rows}


@dataclass(frozen=True)
class AssignmentRow:
    """An assignment with how its people are doing, counted in SQL."""

    id: int
    revision: int
    course_slug: str
    course_title: str
    target_kind: str
    target: str
    due_on: date
    people: int
    completed: int
    overdue: int


def list_assignments(*, session: Session, actor: HasRole, today: date | None = None) -> list[AssignmentRow]:
    """Every assignment with its people, completions and overdue count; the CoE team only."""
    require(actor, Permission.MANAGE_TRAINING)
    today = today or utcnow().date()
    done = col(Enrolment.completed_at).is_not(None)
    rows = session.exec(
        select(Assignment.id, Assignment.revision, Course.slug, CourseVersion.title, Assignment.target_kind, Assignment.target, Assignment.due_on,
               func.count(User.id), func.coalesce(func.sum(case((done, 1), else_=0)), 0),
               func.coalesce(func.sum(case((and_(~done, Assignment.due_on < today), 1), else_=0)), 0))
        .join(Course, col(Course.id) == Assignment.course_id)
        .join(CourseVersion, col(CourseVersion.id) == Course.current_version_id)
        .join(User, and_(assignee_match(), col(User.active)))
        .outerjoin(Enrolment, and_(Enrolment.user_id == User.id, Enrolment.course_id == Assignment.course_id,
                                   col(Enrolment.current)))
        .group_by(Assignment.id, Assignment.revision, Course.slug, CourseVersion.title, Assignment.target_kind,
                  Assignment.target, Assignment.due_on)
        .order_by(Assignment.due_on, CourseVersion.title)).all()
    return [AssignmentRow(*row) for row in rows]
