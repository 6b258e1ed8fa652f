"""Training fixtures: the shipped courses synced into the test database, and a learner's way through a course."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlmodel import Session, select

from portal.core.users import User
from sandbox.chat import SandboxPolicy
from metering.budgets import BudgetPolicy
from training.course_files import COURSES_DIR
from training.learning import enrol, mark_lesson_read, progress
from training.models import Question
from training.quiz import submit_quiz
from training.sync import sync_courses
from portal.core.principals import SYSTEM_CLI

POLICY = SandboxPolicy(budgets=BudgetPolicy(daily_tokens_per_user=0, monthly_usd_per_team=0), max_message_chars=20_000,
                       guardrail_actions={"public": "redact", "internal": "redact", "confidential": "warn",
                                          "restricted": "warn"})


@pytest.fixture
def courses_dir(tmp_path: Path) -> Path:
    """A copy of the shipped course folders a test may change."""
    target = tmp_path / "courses"
    shutil.copytree(COURSES_DIR, target)
    return target


@pytest.fixture
def synced(session: Session, courses_dir: Path) -> Path:
    """The shipped courses, loaded; returns their folder."""
    sync_courses(session=session, actor=SYSTEM_CLI, root=courses_dir)
    session.commit()
    return courses_dir


def right_answers(session: Session, version_id: int) -> dict[int, list[int]]:
    return {q.id: list(q.correct) for q in session.exec(select(Question).where(Question.version_id == version_id))}


def wrong_answers(session: Session, version_id: int) -> dict[int, list[int]]:
    return {q.id: [next(i for i in range(len(q.options)) if i not in q.correct)]
            for q in session.exec(select(Question).where(Question.version_id == version_id))}


def read_all(session: Session, user: User, slug: str) -> int:
    """Enrol and read every lesson; returns the enrolment id."""
    enrolment = enrol(session=session, user=user, slug=slug)
    for lesson in progress(session=session, user=user, slug=slug).lessons:
        mark_lesson_read(session=session, user=user, enrolment_id=enrolment.id, lesson_id=lesson.id)
    session.commit()
    return enrolment.id


def complete(session: Session, user: User, slug: str = "genai-fundamentals"):
    """Take a course without labs to completion; returns the quiz result (with the certificate)."""
    enrolment_id = read_all(session, user, slug)
    found = progress(session=session, user=user, slug=slug)
    result = submit_quiz(session=session, user=user, enrolment_id=enrolment_id, attempt_number=1,
                         answers=right_answers(session, found.version.id))
    session.commit()
    return result
