"""Training tables: course versions and their content, learners' progress, certificates, assignments, statements."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.core.audit import utcnow
from portal.core.features import UsageSource

TRAINING_LAB = UsageSource("training lab", "Training labs")  # a lab attempt's sandbox turn
TRAINING_USAGE_SOURCES = (TRAINING_LAB,)


class QuestionKind(StrEnum):
    SINGLE = "single"  # exactly one option is right
    MULTIPLE = "multiple"  # every right option and no wrong one must be picked


class TargetKind(StrEnum):
    """Who an assignment is for."""

    PERSON = "person"  # target = the user's e-mail
    TEAM = "team"
    DEPARTMENT = "department"


class Verb(StrEnum):
    """xAPI verbs the portal records (ADL vocabulary)."""

    REGISTERED = "registered"
    EXPERIENCED = "experienced"
    ATTEMPTED = "attempted"
    PASSED = "passed"
    FAILED = "failed"
    COMPLETED = "completed"

    @property
    def iri(self) -> str:
        return f"http://adlnet.gov/expapi/verbs/{self.value}"


class Course(SQLModel, table=True):
    """A course by its folder name; its content lives in versions."""

    __tablename__ = "training_course"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=80, unique=True, index=True)
    current_version_id: int | None = Field(default=None)  # the version new learners enrol in
    created_at: datetime = Field(default_factory=utcnow)


class CourseVersion(SQLModel, table=True):
    """One published state of a course; a learner stays on the version they enrolled in."""

    __tablename__ = "training_course_version"
    __table_args__ = (UniqueConstraint("course_id", "version", name="uq_training_course_version_course_version"),)

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="training_course.id", index=True)
    version: int
    content_hash: str = Field(max_length=64)
    title: str = Field(max_length=200)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    audience: str = Field(default="", max_length=200)
    level: str = Field(default="", max_length=40)
    duration_minutes: int = 0
    prerequisites: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    require_all_lessons: bool = True
    require_quiz: bool = True
    require_labs: bool = False
    pass_mark: int = 80  # percent of the quiz's points
    max_quiz_attempts: int = 3
    recertification_days: int = 0  # 0 = the certificate never expires
    published_at: datetime = Field(default_factory=utcnow)


class Lesson(SQLModel, table=True):
    __tablename__ = "training_lesson"

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="training_course_version.id", index=True)
    position: int
    slug: str = Field(max_length=120)
    title: str = Field(max_length=200)
    body_markdown: str = Field(sa_column=Column(Text, nullable=False))


class Question(SQLModel, table=True):
    """A quiz question; options are kept in file order, shown shuffled, graded by position."""

    __tablename__ = "training_question"

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="training_course_version.id", index=True)
    position: int
    kind: str = Field(max_length=10)
    text: str = Field(sa_column=Column(Text, nullable=False))
    options: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    correct: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    explanation: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class Lab(SQLModel, table=True):
    """A sandbox exercise: the task, and the output checks (as prompt test cases use) that grade the answer."""

    __tablename__ = "training_lab"

    id: int | None = Field(default=None, primary_key=True)
    version_id: int = Field(foreign_key="training_course_version.id", index=True)
    position: int
    slug: str = Field(max_length=120)
    title: str = Field(max_length=200)
    task_markdown: str = Field(sa_column=Column(Text, nullable=False))
    system_prompt: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    checks: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Enrolment(SQLModel, table=True):
    """A learner taking one version of a course; `current` marks the one that counts (a retake starts a new one)."""

    __tablename__ = "training_enrolment"
    __table_args__ = (Index("ix_training_enrolment_user_course", "user_id", "course_id"),
                      Index("ix_training_enrolment_course_current", "course_id", "current"))

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="portal_user.id", index=True)
    course_id: int = Field(foreign_key="training_course.id")
    version_id: int = Field(foreign_key="training_course_version.id")
    current: bool = True
    enrolled_at: datetime = Field(default_factory=utcnow)
    completed_at: datetime | None = Field(default=None, index=True)


class LessonProgress(SQLModel, table=True):
    __tablename__ = "training_lesson_progress"
    __table_args__ = (UniqueConstraint("enrolment_id", "lesson_id", name="uq_training_lesson_progress"),)

    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="training_enrolment.id", index=True)
    lesson_id: int = Field(foreign_key="training_lesson.id")
    read_at: datetime = Field(default_factory=utcnow)


class QuizAttempt(SQLModel, table=True):
    """One graded submission; the unique number stops a double submission from counting twice."""

    __tablename__ = "training_quiz_attempt"
    __table_args__ = (UniqueConstraint("enrolment_id", "number", name="uq_training_quiz_attempt_number"),)

    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="training_enrolment.id", index=True)
    number: int
    submitted_at: datetime = Field(default_factory=utcnow)
    score: int  # percent, 0-100
    passed: bool
    answers: dict[str, list[int]] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class LabAttempt(SQLModel, table=True):
    """A lab prompt, the model's answer and how the checks graded it."""

    __tablename__ = "training_lab_attempt"

    id: int | None = Field(default=None, primary_key=True)
    enrolment_id: int = Field(foreign_key="training_enrolment.id", index=True)
    lab_id: int = Field(foreign_key="training_lab.id")
    at: datetime = Field(default_factory=utcnow)
    model_name: str = Field(max_length=200)
    prompt: str = Field(sa_column=Column(Text, nullable=False))
    output: str = Field(sa_column=Column(Text, nullable=False))
    passed: bool
    outcomes: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Certificate(SQLModel, table=True):
    """Proof of completing a course version; anyone signed in can verify its code."""

    __tablename__ = "training_certificate"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True, index=True)
    user_id: int = Field(foreign_key="portal_user.id", index=True)
    course_id: int = Field(foreign_key="training_course.id", index=True)
    version_id: int = Field(foreign_key="training_course_version.id")
    enrolment_id: int = Field(foreign_key="training_enrolment.id", unique=True)
    issued_at: datetime = Field(default_factory=utcnow, index=True)
    expires_at: datetime | None = None


class Assignment(SQLModel, table=True):
    """A course the CoE asks a person, team or department to complete by a date."""

    __tablename__ = "training_assignment"
    __table_args__ = (UniqueConstraint("course_id", "target_kind", "target", name="uq_training_assignment_target"),)

    id: int | None = Field(default=None, primary_key=True)
    course_id: int = Field(foreign_key="training_course.id", index=True)
    target_kind: str = Field(max_length=12)
    target: str = Field(max_length=320)
    due_on: date
    assigned_by: int = Field(foreign_key="portal_user.id")
    assigned_at: datetime = Field(default_factory=utcnow)
    # Counts saved edits; an edit names the revision it started from, so a stale one is refused, not lost.
    revision: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class LearningStatement(SQLModel, table=True):
    """An xAPI-shaped learning event: actor, verb, object, result, timestamp."""

    __tablename__ = "training_statement"
    __table_args__ = (Index("ix_training_statement_course_verb", "course_id", "verb"),)

    id: int | None = Field(default=None, primary_key=True)
    statement_id: str = Field(max_length=36, unique=True)  # the xAPI statement id (a UUID)
    at: datetime = Field(default_factory=utcnow, index=True)
    user_id: int = Field(foreign_key="portal_user.id", index=True)
    verb: str = Field(max_length=20)
    course_id: int = Field(foreign_key="training_course.id")
    object_id: str = Field(max_length=300)  # the activity's IRI
    object_name: str = Field(max_length=200)
    score: float | None = None  # scaled 0..1
    success: bool | None = None
    completion: bool | None = None
