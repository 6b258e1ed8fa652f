"""Quizzes: questions shown shuffled, answers graded on the server, a pass mark and a limited number of attempts."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from portal.core.errors import InvalidInput
from portal.core.users import User
from training.learning import complete_if_done, own_enrolment
from training.models import Certificate, Course, CourseVersion, QuestionKind, Question, QuizAttempt, Verb
from training.statements import activity_id, record_statement


class QuizAttemptsUsedUp(InvalidInput):
    """Every attempt the course allows has been submitted."""


@dataclass(frozen=True)
class ShownQuestion:
    """A question as the learner sees it: options in shuffled order, each with its stored index."""

    id: int
    number: int
    text: str
    kind: str
    options: list[tuple[int, str]]


@dataclass(frozen=True)
class QuizSheet:
    attempt_number: int
    attempts_left: int
    pass_mark: int
    questions: list[ShownQuestion]


@dataclass(frozen=True)
class QuestionResult:
    number: int
    text: str
    correct: bool
    explanation: str


@dataclass(frozen=True)
class QuizResult:
    score: int
    passed: bool
    attempts_left: int
    questions: list[QuestionResult]
    certificate: Certificate | None


def _attempts_used(session: Session, enrolment_id: int) -> int:
    return int(session.exec(select(func.count()).select_from(QuizAttempt)
                            .where(QuizAttempt.enrolment_id == enrolment_id)).one())


def _questions(session: Session, version_id: int) -> list[Question]:
    return list(session.exec(select(Question).where(Question.version_id == version_id)
                             .order_by(col(Question.position))).all())


def quiz_sheet(*, session: Session, user: User, enrolment_id: int) -> QuizSheet:
    """The next attempt's questions, shuffled the same way on every rerun of that attempt."""
    enrolment = own_enrolment(session, user, enrolment_id)
    version = session.get(CourseVersion, enrolment.version_id)
    used = _attempts_used(session, enrolment.id)
    shuffler = random.Random(f"{enrolment.id}:{used + 1}")
    questions = _questions(session, version.id)
    shuffler.shuffle(questions)
    shown = []
    for number, question in enumerate(questions, start=1):
        options = list(enumerate(question.options))
        shuffler.shuffle(options)
        shown.append(ShownQuestion(id=question.id, number=number, text=question.text, kind=question.kind,
                                   options=options))
    return QuizSheet(attempt_number=used + 1, attempts_left=max(0, version.max_quiz_attempts - used),
                     pass_mark=version.pass_mark, questions=shown)


def submit_quiz(*, session: Session, user: User, enrolment_id: int, attempt_number: int,
                answers: dict[int, list[int]]) -> QuizResult:
    """Grade one attempt: every question answered with options of that question; each attempt counts once."""
    enrolment = own_enrolment(session, user, enrolment_id)
    version = session.get(CourseVersion, enrolment.version_id)
    used = _attempts_used(session, enrolment.id)
    if attempt_number <= used:
        raise InvalidInput(f"Attempt {attempt_number} was already submitted and graded; it counts once.")
    if used >= version.max_quiz_attempts:
        raise QuizAttemptsUsedUp(f"You have used all {version.max_quiz_attempts} attempts at this quiz. "
                                 "Ask the CoE team if you need another.")
    if _passed_before(session, enrolment.id):
        raise InvalidInput("You have already passed this quiz.")
    questions = _questions(session, version.id)
    graded = [_grade(q, number, answers) for number, q in enumerate(questions, start=1)]
    score = sum(r.correct for r in graded) * 100 // len(graded)
    passed = score >= version.pass_mark
    _store_attempt(session, enrolment.id, used + 1, score, passed, answers)
    course = session.get(Course, enrolment.course_id)
    record_statement(session, user=user, verb=Verb.PASSED if passed else Verb.FAILED, course=course,
                     object_id=activity_id(course.slug, "quiz"), object_name=f"{version.title} — quiz",
                     score=score / 100, success=passed)
    certificate = complete_if_done(session, user=user, enrolment=enrolment) if passed else None
    return QuizResult(score=score, passed=passed, attempts_left=version.max_quiz_attempts - used - 1,
                      questions=graded, certificate=certificate)


def _passed_before(session: Session, enrolment_id: int) -> bool:
    return session.exec(select(QuizAttempt.id).where(QuizAttempt.enrolment_id == enrolment_id,
                                                     col(QuizAttempt.passed))).first() is not None


def _grade(question: Question, number: int, answers: dict[int, list[int]]) -> QuestionResult:
    chosen = answers.get(question.id) or []
    if not chosen:
        raise InvalidInput(f"Question {number} has no answer; answer every question before submitting.")
    if any(not isinstance(i, int) or not 0 <= i < len(question.options) for i in chosen):
        raise InvalidInput(f"Question {number}: an answer is not one of the question's options.")
    if question.kind == QuestionKind.SINGLE and len(set(chosen)) != 1:
        raise InvalidInput(f"Question {number} takes exactly one answer.")
    return QuestionResult(number=number, text=question.text, correct=sorted(set(chosen)) == question.correct,
                          explanation=question.explanation)


def _store_attempt(session: Session, enrolment_id: int, number: int, score: int, passed: bool,
                   answers: dict[int, list[int]]) -> None:
    # Two tabs submitting the same attempt at once: the unique (enrolment, number) keeps just one.
    try:
        with session.begin_nested():
            session.add(QuizAttempt(enrolment_id=enrolment_id, number=number, score=score, passed=passed,
                                    answers={str(k): sorted(set(v)) for k, v in answers.items()}))
    except IntegrityError:
        raise InvalidInput(f"Attempt {number} was already submitted and graded; it counts once.") from None
