"""`training sync`: load course folders into the database as one transaction; changed content becomes a new version."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import Session, select

from portal.core.audit import record
from portal.core.auth import Permission, require
from portal.core.principals import Principal
from training.events import CoursesSynced
from training.course_files import COURSES_DIR, CourseFileError, CourseFolder, read_course_folders
from training.models import Course, CourseVersion, Lab, Lesson, Question


@dataclass
class SyncReport:
    """What a sync did, by course slug."""

    created: list[str] = field(default_factory=list)
    new_versions: list[str] = field(default_factory=list)  # "slug v3"
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.new_versions)

    def summary(self) -> str:
        return (f"{len(self.created)} new course(s), {len(self.new_versions)} new version(s), "
                f"{len(self.unchanged)} unchanged")


def sync_courses(*, session: Session, actor: Principal, root: Path = COURSES_DIR) -> SyncReport:
    """Validate every folder first, then write; any problem raises CourseFileError and nothing is written."""
    require(actor, Permission.MANAGE_TRAINING)
    folders = read_course_folders(root)
    report = SyncReport()
    for folder in folders:
        _sync_one(session, folder, root, report)
    if report.changed:
        record(session, actor, CoursesSynced(root=str(root), created=report.created,
                                             new_versions=report.new_versions, unchanged=len(report.unchanged)))
    session.flush()
    return report


def _sync_one(session: Session, folder: CourseFolder, root: Path, report: SyncReport) -> None:
    course = session.exec(select(Course).where(Course.slug == folder.slug)).first()
    current = session.get(CourseVersion, course.current_version_id) if course and course.current_version_id else None
    if current is not None and current.content_hash == folder.content_hash:
        report.unchanged.append(folder.slug)
        return
    if current is not None and folder.course.version <= current.version:
        raise CourseFileError(f"{root / folder.slug / 'course.yml'}: the course changed since version "
                              f"{current.version} was loaded; raise `version` to {current.version + 1} so learners "
                              "who completed the old version keep it. Nothing was synced.")
    if course is None:
        course = Course(slug=folder.slug)
        session.add(course)
        session.flush()
        report.created.append(folder.slug)
    else:
        report.new_versions.append(f"{folder.slug} v{folder.course.version}")
    version = _add_version(session, course, folder)
    course.current_version_id = version.id
    session.add(course)


def _add_version(session: Session, course: Course, folder: CourseFolder) -> CourseVersion:
    spec = folder.course
    version = CourseVersion(
        course_id=course.id, version=spec.version, content_hash=folder.content_hash, title=spec.title,
        summary=spec.summary, audience=spec.audience, level=spec.level, duration_minutes=spec.duration_minutes,
        prerequisites=list(spec.prerequisites), require_all_lessons=spec.completion.lessons,
        require_quiz=spec.completion.quiz, require_labs=spec.completion.labs, pass_mark=spec.pass_mark,
        max_quiz_attempts=spec.max_quiz_attempts, recertification_days=spec.recertification_days)
    session.add(version)
    session.flush()
    session.add_all(Lesson(version_id=version.id, position=i, slug=lesson.slug, title=lesson.title,
                           body_markdown=lesson.body) for i, lesson in enumerate(folder.lessons))
    session.add_all(Question(version_id=version.id, position=i, kind=q.kind, text=q.question, options=list(q.options),
                             correct=sorted(q.options.index(c) for c in q.correct), explanation=q.explanation)
                    for i, q in enumerate(folder.quiz.questions))
    session.add_all(Lab(version_id=version.id, position=i, slug=lab.slug, title=lab.title, task_markdown=lab.task,
                        system_prompt=lab.system_prompt, checks=lab.checks) for i, lab in enumerate(folder.labs))
    return version
