"""Learners: status, enrolment, lesson progress, completion rules, quizzes and certificates."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from portal.core.audit import AuditEvent, utcnow
from portal.core.errors import InvalidInput, NotFound
from training.certificates import expiry_notices, my_certificates, verify_certificate
from training.learning import Status, course_list, enrol, mark_lesson_read, progress
from training.models import Certificate, LearningStatement, QuizAttempt
from training.quiz import QuizAttemptsUsedUp, quiz_sheet, submit_quiz
from tests.training.conftest import complete, read_all, right_answers, wrong_answers


def statuses(session, user) -> dict[str, str]:
    return {row.slug: row.status for row in course_list(session=session, user=user)}


def test_a_new_learner_sees_every_course_not_started(session: Session, synced, make_user) -> None:
    assert set(statuses(session, make_user()).values()) == {Status.NOT_STARTED}


def test_enrolling_twice_keeps_one_enrolment(session: Session, synced, make_user) -> None:
    user = make_user()
    first = enrol(session=session, user=user, slug="genai-fundamentals")
    assert enrol(session=session, user=user, slug="genai-fundamentals").id == first.id
    assert statuses(session, user)["genai-fundamentals"] == Status.IN_PROGRESS


def test_reading_a_lesson_twice_counts_once(session: Session, synced, make_user) -> None:
    user = make_user()
    enrolment = enrol(session=session, user=user, slug="genai-fundamentals")
    lesson = progress(session=session, user=user, slug="genai-fundamentals").lessons[0]
    for _ in range(2):
        mark_lesson_read(session=session, user=user, enrolment_id=enrolment.id, lesson_id=lesson.id)
    found = progress(session=session, user=user, slug="genai-fundamentals")
    assert found.read == {lesson.id}
    assert found.missing() == ["read 2 more lesson(s)", "pass the quiz (75% needed)"]
    experienced = session.exec(select(func.count()).select_from(LearningStatement)
                               .where(LearningStatement.verb == "experienced")).one()
    assert experienced == 1


def test_passing_the_quiz_without_reading_every_lesson_does_not_complete(session: Session, synced, make_user) -> None:
    user = make_user()
    enrolment = enrol(session=session, user=user, slug="genai-fundamentals")
    version_id = progress(session=session, user=user, slug="genai-fundamentals").version.id
    result = submit_quiz(session=session, user=user, enrolment_id=enrolment.id, attempt_number=1,
                         answers=right_answers(session, version_id))
    assert result.passed and result.score == 100 and result.certificate is None
    assert statuses(session, user)["genai-fundamentals"] == Status.IN_PROGRESS


def test_completing_issues_a_certificate_anyone_can_verify(session: Session, synced, make_user) -> None:
    learner, colleague = make_user(name="Lena Learner"), make_user()
    result = complete(session, learner)
    certificate = result.certificate
    assert certificate is not None and certificate.code.startswith("CERT-")
    assert statuses(session, learner)["genai-fundamentals"] == Status.COMPLETED
    checked = verify_certificate(session=session, actor=colleague, code=f"  {certificate.code.lower()} ")
    assert (checked.holder, checked.course_title, checked.version) == (
        "Lena Learner", "Generative AI fundamentals for everyone", 1)
    assert not checked.expired and checked.status.startswith("valid until")
    issued = session.exec(select(AuditEvent).where(AuditEvent.action == "training.certificate_issued")).one()
    assert issued.entity_id == certificate.code


def test_an_unknown_code_is_not_found(session: Session, synced, make_user) -> None:
    with pytest.raises(NotFound, match="No certificate has the code 'CERT-NOPE'"):
        verify_certificate(session=session, actor=make_user(), code="cert-nope")


def test_a_certificate_expires_and_the_learner_is_told_and_may_retake(session: Session, synced, make_user) -> None:
    user = make_user()
    certificate = complete(session, user).certificate
    later = certificate.expires_at + timedelta(days=1)
    assert verify_certificate(session=session, actor=user, code=certificate.code, now=later).expired
    assert {r.slug: r.status for r in course_list(session=session, user=user, now=later)}["genai-fundamentals"] \
        == Status.EXPIRED
    notices = expiry_notices(session=session, user=user, now=later)
    assert notices == [f"Your certificate for 'Generative AI fundamentals for everyone' expired on "
                       f"{certificate.expires_at:%Y-%m-%d}. Retake the course to recertify."]
    soon = expiry_notices(session=session, user=user, now=certificate.expires_at - timedelta(days=10))
    assert "expires on" in soon[0]
    # Retaking starts a fresh enrolment once the certificate has expired.
    certificate.expires_at = utcnow() - timedelta(minutes=1)
    session.add(certificate)
    session.commit()
    again = enrol(session=session, user=user, slug="genai-fundamentals")
    assert again.completed_at is None and again.id != certificate.enrolment_id


def test_prerequisites_are_enforced(session: Session, synced, make_user) -> None:
    with pytest.raises(InvalidInput, match="Complete 'prompt-engineering-basics' first"):
        enrol(session=session, user=make_user(), slug="rag-from-template")


def test_the_quiz_is_shuffled_per_attempt_and_stable_on_rerun(session: Session, synced, make_user) -> None:
    user = make_user()
    enrolment = enrol(session=session, user=user, slug="responsible-ai")
    first = quiz_sheet(session=session, user=user, enrolment_id=enrolment.id)
    assert quiz_sheet(session=session, user=user, enrolment_id=enrolment.id) == first
    stored = sorted(q.id for q in first.questions)
    assert [q.id for q in first.questions] != stored or any(
        [i for i, _ in q.options] != sorted(i for i, _ in q.options) for q in first.questions)


def test_wrong_answers_fail_and_attempts_run_out(session: Session, synced, make_user) -> None:
    user = make_user()
    enrolment = enrol(session=session, user=user, slug="responsible-ai")
    version_id = progress(session=session, user=user, slug="responsible-ai").version.id
    for number in (1, 2, 3):
        result = submit_quiz(session=session, user=user, enrolment_id=enrolment.id, attempt_number=number,
                             answers=wrong_answers(session, version_id))
        assert not result.passed and result.score == 0 and result.attempts_left == 3 - number
    with pytest.raises(QuizAttemptsUsedUp, match="You have used all 3 attempts"):
        submit_quiz(session=session, user=user, enrolment_id=enrolment.id, attempt_number=4,
                    answers=right_answers(session, version_id))
    assert session.exec(select(func.count()).select_from(QuizAttempt)).one() == 3


def test_a_second_submission_of_the_same_attempt_counts_once(session: Session, synced, make_user) -> None:
    user = make_user()
    enrolment = enrol(session=session, user=user, slug="genai-fundamentals")
    version_id = progress(session=session, user=user, slug="genai-fundamentals").version.id
    submit_quiz(session=session, user=user, enrolment_id=enrolment.id, attempt_number=1,
                answers=wrong_answers(session, version_id))
    with pytest.raises(InvalidInput, match="Attempt 1 was already submitted"):
        submit_quiz(session=session, user=user, enrolment_id=enrolment.id, attempt_number=1,
                    answers=wrong_answers(session, version_id))
    assert session.exec(select(func.count()).select_from(QuizAttempt)).one() == 1


@pytest.mark.parametrize(("change", "message"), [
    (lambda answers, qid: answers.update({qid: [99]}), "is not one of the question's options"),
    (lambda answers, qid: answers.pop(qid), "has no answer"),
])
def test_answers_that_are_not_options_are_refused(session: Session, synced, make_user, change, message) -> None:
    user = make_user()
    enrolment = enrol(session=session, user=user, slug="genai-fundamentals")
    version_id = progress(session=session, user=user, slug="genai-fundamentals").version.id
    answers = right_answers(session, version_id)
    change(answers, next(iter(answers)))
    with pytest.raises(InvalidInput, match=message):
        submit_quiz(session=session, user=user, enrolment_id=enrolment.id, attempt_number=1, answers=answers)


def test_multiple_choice_needs_every_right_option_and_no_wrong_one(session: Session, synced, make_user) -> None:
    user = make_user()
    enrolment_id = read_all(session, user, "responsible-ai")
    version_id = progress(session=session, user=user, slug="responsible-ai").version.id
    answers = right_answers(session, version_id)
    multiple = next(qid for qid, right in answers.items() if len(right) > 1)
    answers[multiple] = answers[multiple][:1]  # half right is wrong: 7 of 8 = 87 %, still a pass at 80 %
    result = submit_quiz(session=session, user=user, enrolment_id=enrolment_id, attempt_number=1, answers=answers)
    assert result.score == 87 and result.passed and result.certificate is not None
    assert [q.correct for q in result.questions].count(False) == 1


def test_another_users_enrolment_is_not_found(session: Session, synced, make_user) -> None:
    owner, other = make_user(), make_user()
    enrolment = enrol(session=session, user=owner, slug="genai-fundamentals")
    with pytest.raises(NotFound):
        quiz_sheet(session=session, user=other, enrolment_id=enrolment.id)


def test_my_certificates_lists_the_learners_own(session: Session, synced, make_user) -> None:
    user = make_user()
    complete(session, user)
    assert [c.course_slug for c in my_certificates(session=session, user=user)] == ["genai-fundamentals"]
    assert session.exec(select(func.count()).select_from(Certificate)).one() == 1
