"""Course sync: valid folders load idempotently, changes become versions, malformed files change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from portal.core.audit import AuditEvent
from portal.core.errors import PermissionDenied
from training.course_files import CourseFileError
from training.learning import enrol, progress
from training.models import Course, CourseVersion, Lesson
from training.sync import sync_courses
from portal.core.principals import SYSTEM_CLI, SYSTEM_SCHEDULER, SYSTEM_SEED
from tests.training.conftest import complete

SHIPPED = {"genai-fundamentals", "prompt-engineering-basics", "responsible-ai", "rag-from-template"}


def count(session: Session, table) -> int:
    return session.exec(select(func.count()).select_from(table)).one()


def test_the_shipped_courses_load_with_real_content(session: Session, courses_dir: Path) -> None:
    report = sync_courses(session=session, actor=SYSTEM_CLI, root=courses_dir)
    session.commit()
    assert set(report.created) == SHIPPED
    lessons = session.exec(select(Lesson)).all()
    assert len(lessons) >= 12 and all(len(lesson.body_markdown) > 600 for lesson in lessons)
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "training.synced")).all()
    assert [e.summary for e in events] == ["4 new course(s), 0 new version(s), 0 unchanged"]


def test_a_second_sync_changes_nothing(session: Session, synced: Path) -> None:
    before = (count(session, CourseVersion), count(session, Lesson), count(session, AuditEvent))
    report = sync_courses(session=session, actor=SYSTEM_CLI, root=synced)
    assert sorted(report.unchanged) == sorted(SHIPPED) and not report.changed
    assert (count(session, CourseVersion), count(session, Lesson), count(session, AuditEvent)) == before


def test_a_changed_course_becomes_a_new_version_and_a_finished_learner_keeps_theirs(
        session: Session, synced: Path, make_user) -> None:
    learner, newcomer = make_user(), make_user()
    complete(session, learner)
    lesson = synced / "genai-fundamentals" / "lessons" / "01-what-a-language-model-is.md"
    lesson.write_text(lesson.read_text() + "\nA new paragraph about context windows.\n")
    course_yml = synced / "genai-fundamentals" / "course.yml"
    course_yml.write_text(course_yml.read_text().replace("version: 1", "version: 2"))
    report = sync_courses(session=session, actor=SYSTEM_CLI, root=synced)
    session.commit()
    assert report.new_versions == ["genai-fundamentals v2"]
    assert progress(session=session, user=learner, slug="genai-fundamentals").version.version == 1
    enrol(session=session, user=newcomer, slug="genai-fundamentals")
    assert progress(session=session, user=newcomer, slug="genai-fundamentals").version.version == 2


def test_a_change_without_a_new_version_number_is_refused(session: Session, synced: Path) -> None:
    quiz = synced / "responsible-ai" / "quiz.yml"
    quiz.write_text(quiz.read_text().replace("pass_mark", "pass_mark"), encoding="utf-8")
    lesson = next((synced / "responsible-ai" / "lessons").glob("01-*.md"))
    lesson.write_text(lesson.read_text() + "\nMore.\n")
    with pytest.raises(CourseFileError, match=r"responsible-ai/course.yml: the course changed since version 1.*"
                                              r"raise `version` to 2"):
        sync_courses(session=session, actor=SYSTEM_CLI, root=synced)


def _break(folder: Path, file: str, old: str, new: str) -> None:
    path = folder / file
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {file}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(("file", "old", "new", "message"), [
    ("genai-fundamentals/course.yml", "level: beginner", "level: beginner\ncolour: blue",
     r"genai-fundamentals/course.yml, line 8: colour: is not a known field"),
    ("genai-fundamentals/course.yml", "pass_mark: 75", "pass_mark: [75",
     r"genai-fundamentals/course.yml, line \d+: this is not valid YAML"),
    ("responsible-ai/quiz.yml", "correct: [confidential]", "correct: [secret]",
     r"responsible-ai/quiz.yml, line 2: questions.0: correct answer 'secret' is not one of the options"),
    ("prompt-engineering-basics/labs.yml", "kind: max_length\n        value: 1200", "kind: max_length\n        value: -5",
     r"prompt-engineering-basics/labs.yml, line 19: labs.0.checks: check 3: 'max_length' needs a positive number"),
    ("rag-from-template/lessons/01-why-rag.md", "# Why retrieval-augmented generation", "Why RAG",
     r"rag-from-template/lessons/01-why-rag.md, line 1: a lesson starts with its title as '# Title'"),
    ("genai-fundamentals/course.yml", "title: Generative", "title: &t Generative",
     r"genai-fundamentals/course.yml, line 1: YAML anchors and aliases \(&name, \*name\) are not allowed"),
    # Read by the shared YAML loader: a repeated key, a foreign tag and a wrong type deep in a list are located.
    ("genai-fundamentals/course.yml", "level: beginner", "level: beginner\nlevel: advanced",
     r"genai-fundamentals/course.yml, line 8: level: 'level' appears twice in the same mapping \(first on line 7\)"),
    ("responsible-ai/quiz.yml", "correct: [confidential]", "correct: !!python/object/apply:os.system [ls]",
     r"responsible-ai/quiz.yml, line 5: questions: the tag !!python/object/apply:os.system is not allowed"),
    ("responsible-ai/quiz.yml", "    kind: multiple", "    kind: [multiple]",
     r"responsible-ai/quiz.yml, line 8: questions.1.kind: Input should be 'single' or 'multiple'"),
])
def test_a_malformed_file_stops_the_sync_naming_file_and_line_and_nothing_changes(
        session: Session, courses_dir: Path, file: str, old: str, new: str, message: str) -> None:
    _break(courses_dir, file, old, new)
    with pytest.raises(CourseFileError, match=message):
        sync_courses(session=session, actor=SYSTEM_CLI, root=courses_dir)
    session.rollback()
    assert count(session, Course) == 0 and count(session, AuditEvent) == 0


def test_a_missing_quiz_is_reported(session: Session, courses_dir: Path) -> None:
    (courses_dir / "genai-fundamentals" / "quiz.yml").unlink()
    with pytest.raises(CourseFileError, match=r"genai-fundamentals/quiz.yml: the file is missing"):
        sync_courses(session=session, actor=SYSTEM_CLI, root=courses_dir)


def test_a_sync_is_audited_under_the_principal_and_needs_manage_training(session: Session, courses_dir: Path) -> None:
    with pytest.raises(PermissionDenied, match="system:scheduler may not"):
        sync_courses(session=session, actor=SYSTEM_SCHEDULER, root=courses_dir)
    sync_courses(session=session, actor=SYSTEM_SEED, root=courses_dir)
    session.commit()
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "training.synced")).one()
    assert (event.actor_email, event.actor_id) == ("system:seed", None)
