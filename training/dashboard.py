"""The CoE's upskilling dashboard: completion by department, team and course, overdue work, completions over
time and quiz scores — every figure aggregated in SQL (GROUP BY), never by looping over rows in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from typing import Any, Literal

from sqlalchemy import and_, case, func
from sqlmodel import Session, col, select

from portal.core.csv_text import safe_csv
from portal.core.audit import utcnow
from portal.core.auth import HasRole, Permission, require
from training.assignments import assignee_match
from training.learning import Status
from training.models import Assignment, Certificate, Course, CourseVersion, Enrolment, QuizAttempt
from portal.core.users import User

Grouping = Literal["department", "team", "course"]
OVERDUE_SHOWN = 500


@dataclass(frozen=True)
class CompletionRow:
    group: str
    enrolled: int
    completed: int

    @property
    def rate(self) -> float:
        return self.completed / self.enrolled if self.enrolled else 0.0


@dataclass(frozen=True)
class OverdueRow:
    email: str
    department: str
    team: str
    course: str
    due_on: date
    status: Status  # not started or in progress


@dataclass(frozen=True)
class Totals:
    learners: int
    enrolments: int
    completions: int
    overdue: int
    average_quiz_score: float | None


@dataclass(frozen=True)
class Dashboard:
    totals: Totals
    by_department: list[CompletionRow]
    by_team: list[CompletionRow]
    by_course: list[CompletionRow]
    overdue: list[OverdueRow]  # the first OVERDUE_SHOWN, earliest due first
    completions_by_month: list[tuple[str, int]]
    quiz_scores: list[tuple[int, int]]  # (bucket start 0, 10, ... 100; attempts)


def training_dashboard(*, session: Session, actor: HasRole, today: date | None = None) -> Dashboard:
    """Every figure of the dashboard; the CoE team only."""
    require(actor, Permission.MANAGE_TRAINING)
    today = today or utcnow().date()
    overdue_count, overdue = _overdue(session, today)
    return Dashboard(totals=_totals(session, overdue_count), by_department=_completion(session, "department"),
                     by_team=_completion(session, "team"), by_course=_completion(session, "course"),
                     overdue=overdue, completions_by_month=_completions_by_month(session),
                     quiz_scores=_quiz_scores(session))


def _completed():
    return func.coalesce(func.sum(case((col(Enrolment.completed_at).is_not(None), 1), else_=0)), 0)


def _completion(session: Session, grouping: Grouping) -> list[CompletionRow]:
    """Enrolments (the current one per learner and course) and completions per group."""
    key = {"department": col(User.department), "team": col(User.team), "course": col(CourseVersion.title)}[grouping]
    query = select(key, func.count(), _completed()).select_from(Enrolment).where(col(Enrolment.current))
    if grouping == "course":
        query = (query.join(Course, col(Course.id) == Enrolment.course_id)
                 .join(CourseVersion, col(CourseVersion.id) == Course.current_version_id))
    else:
        query = query.join(User, col(User.id) == Enrolment.user_id)
    rows = session.exec(query.group_by(key).order_by(key)).all()
    return [CompletionRow(group=name or "(none)", enrolled=int(n), completed=int(done)) for name, n, done in rows]


def _totals(session: Session, overdue: int) -> Totals:
    learners, enrolments, completions = session.exec(
        select(func.count(func.distinct(Enrolment.user_id)), func.count(), _completed())
        .where(col(Enrolment.current))).one()
    average = session.exec(select(func.avg(QuizAttempt.score))).one()
    return Totals(learners=int(learners), enrolments=int(enrolments), completions=int(completions),
                  overdue=overdue, average_quiz_score=float(average) if average is not None else None)


def _overdue(session: Session, today: date) -> tuple[int, list[OverdueRow]]:
    """People whose assignment is past due and not completed: how many, and the earliest-due first."""
    late = and_(Assignment.due_on < today, col(Enrolment.completed_at).is_(None))
    base = (select(User.email, User.department, User.team, CourseVersion.title, func.min(Assignment.due_on),
                   func.max(case((col(Enrolment.id).is_not(None), 1), else_=0)))
            .select_from(Assignment).join(User, and_(assignee_match(), col(User.active)))
            .join(Course, col(Course.id) == Assignment.course_id)
            .join(CourseVersion, col(CourseVersion.id) == Course.current_version_id)
            .outerjoin(Enrolment, and_(Enrolment.user_id == User.id, Enrolment.course_id == Assignment.course_id,
                                       col(Enrolment.current)))
            .where(late).group_by(User.email, User.department, User.team, CourseVersion.title))
    count = session.exec(select(func.count()).select_from(base.subquery())).one()
    rows = session.exec(base.order_by(func.min(Assignment.due_on), User.email).limit(OVERDUE_SHOWN)).all()
    return int(count), [OverdueRow(email=e, department=d, team=t, course=c, due_on=due,
                                   status=Status.IN_PROGRESS if started else Status.NOT_STARTED)
                        for e, d, t, c, due, started in rows]


def _month(session: Session, column):
    """The UTC calendar month of a timestamp as 'YYYY-MM', in SQL."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _completions_by_month(session: Session) -> list[tuple[str, int]]:
    month = _month(session, Certificate.issued_at)
    return [(m, int(n)) for m, n in session.exec(select(month, func.count()).group_by(month).order_by(month)).all()]


def _quiz_scores(session: Session) -> list[tuple[int, int]]:
    bucket = (col(QuizAttempt.score) // 10) * 10  # SQLAlchemy renders // as integer division on both backends
    rows = session.exec(select(bucket, func.count()).group_by(bucket).order_by(bucket)).all()
    return [(int(b), int(n)) for b, n in rows]


def as_records(rows: list[Any]) -> list[dict[str, Any]]:
    """Dataclass rows as plain dicts, with a completion rate where the row has one."""
    records = []
    for row in rows:
        record = {f.name: getattr(row, f.name) for f in fields(row)}
        if isinstance(row, CompletionRow):
            record["rate"] = round(row.rate, 4)
        records.append(record)
    return records


def to_csv(records: list[dict[str, Any]]) -> str:
    """Records as CSV text with a header row (empty text for no records); names cannot run as formulas."""
    return safe_csv(records)
