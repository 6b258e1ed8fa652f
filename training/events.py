"""Training's audit events: courses synced, assigned and unassigned, certificates issued."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar

from portal.core.audit import Event, JSONDict
from training.models import TargetKind


@dataclass(frozen=True)
class _AssignmentEvent(Event):
    """An event about one course assignment, named by its id (not an event type itself: it has no action)."""

    entity_type: ClassVar[str] = "assignment"
    entity_field: ClassVar[str] = "assignment_id"
    assignment_id: int


@dataclass(frozen=True)
class CoursesSynced(Event):
    """A sync from the course folders created courses or new versions (by slug; versions as "slug v3")."""

    action: ClassVar[str] = "training.synced"
    entity_type: ClassVar[str] = "training"
    root: str
    created: list[str]
    new_versions: list[str]
    unchanged: int

    def entity_id(self) -> str:
        return self.root[-120:]

    def summary(self) -> str:
        return (f"{len(self.created)} new course(s), {len(self.new_versions)} new version(s), "
                f"{self.unchanged} unchanged")

    def after(self) -> JSONDict:
        return {"created": self.created, "new_versions": self.new_versions}


@dataclass(frozen=True)
class CourseAssigned(_AssignmentEvent):
    """A course was assigned to a person, team or department (or its due date moved)."""

    action: ClassVar[str] = "training.assigned"
    before_field: ClassVar[str] = "previous"
    course: str
    target_kind: TargetKind
    target: str
    due_on: date
    previous: JSONDict | None  # the assignment's due date before, when it already existed

    def summary(self) -> str:
        return f"{self.course} to {self.target_kind.value} {self.target}, due {self.due_on:%Y-%m-%d}"

    def after(self) -> JSONDict:
        return {"course": self.course, "target_kind": self.target_kind.value, "target": self.target,
                "due_on": self.due_on.isoformat()}


@dataclass(frozen=True)
class AssignmentRemoved(_AssignmentEvent):
    action: ClassVar[str] = "training.assignment_removed"
    target_kind: str
    target: str
    course_id: int
    due_on: date

    def summary(self) -> str:
        return f"{self.target_kind} {self.target}"

    def before(self) -> JSONDict:
        return {"course_id": self.course_id, "due_on": self.due_on.isoformat()}


@dataclass(frozen=True)
class CertificateIssued(Event):
    action: ClassVar[str] = "training.certificate_issued"
    entity_type: ClassVar[str] = "certificate"
    entity_field: ClassVar[str] = "code"
    code: str
    email: str
    course: str
    version: int
    expires_at: datetime | None

    def summary(self) -> str:
        return f"{self.email} completed {self.course} v{self.version}"

    def after(self) -> JSONDict:
        return {"course": self.course, "version": self.version,
                "expires_at": self.expires_at.isoformat() if self.expires_at else None}


TRAINING_EVENTS: tuple[type[Event], ...] = (CoursesSynced, CourseAssigned, AssignmentRemoved, CertificateIssued)
