"""Labs against the deterministic test gateway: graded by output checks, usage recorded once, bad input refused."""

from __future__ import annotations

import pytest
from sqlmodel import Session, col, func, select

from catalog.models import DataClassification
from portal.core.errors import InvalidInput
from portal.core.gateway import GatewayClient
from metering.models import UsageEvent
from metering.budgets import BudgetExhausted, BudgetPolicy
from training.labs import lab_models, run_lab
from training.learning import enrol, progress
from training.models import LabAttempt, LearningStatement
from tests.training.conftest import POLICY
from tests.metering.support import metered

GOOD = ("You help a new colleague. Write a short checklist for their first week in the sandbox: "
        "pick the data classification before pasting anything, and keep it under ten lines.")


@pytest.fixture
def lab(session: Session, synced, make_user, make_model):
    """A learner enrolled in Prompt engineering basics, and the fake gateway's model in the catalog."""
    make_model(name="fake-small", served=True, max_classification=int(DataClassification.INTERNAL))
    user = make_user()
    enrolment = enrol(session=session, user=user, slug="prompt-engineering-basics")
    session.commit()
    labs = progress(session=session, user=user, slug="prompt-engineering-basics").labs
    return user, enrolment.id, labs


def run(session, fake_gateway, lab, prompt: str, *, index: int = 0, policy=POLICY, limit: int = 4000):
    user, enrolment_id, labs = lab
    session.commit()  # each lab run is a request of its own, as on the page: models are called outside open writes
    return run_lab(session=session, user=user, gateway=metered(GatewayClient(base_url=fake_gateway.url), session, policy.budgets), policy=policy,
                   enrolment_id=enrolment_id, lab_id=labs[index].id, model_name="fake-small", prompt=prompt,
                   max_prompt_chars=limit)


def count(session: Session, table, *where) -> int:
    return session.exec(select(func.count()).select_from(table).where(*where)).one()


def test_a_good_prompt_passes_and_usage_is_recorded_as_a_training_lab(session, fake_gateway, lab) -> None:
    result = run(session, fake_gateway, lab, GOOD)
    assert result.passed and not result.error
    assert result.output.startswith("Echo: You help a new colleague")
    assert [o.passed for o in result.outcomes] == [True, True, True]
    usage = session.exec(select(UsageEvent)).one()
    assert (usage.source, usage.status, usage.model_name) == ("training lab", "ok", "fake-small")
    assert count(session, LabAttempt, LabAttempt.passed) == 1
    assert count(session, LearningStatement, LearningStatement.verb == "passed") == 1


def test_an_answer_that_misses_a_check_fails_and_says_which(session, fake_gateway, lab) -> None:
    result = run(session, fake_gateway, lab, "Write a checklist for a new colleague in the sandbox.")
    assert not result.passed
    failed = [o for o in result.outcomes if not o.passed]
    assert [o.check.describe() for o in failed] == ['contains "classification"']
    assert count(session, LabAttempt, col(LabAttempt.passed).is_(False)) == 1


def test_the_format_lab_is_graded_by_its_regular_expression(session, fake_gateway, lab) -> None:
    prompt = "Classify the message. Answer with one line: Category: billing, Category: technical or Category: account."
    assert run(session, fake_gateway, lab, prompt, index=1).passed
    assert fake_gateway.last_request.body["messages"][0] == {
        "role": "system", "content": "You are a support triage assistant. Follow the requested output format exactly."}


@pytest.mark.parametrize(("prompt", "message"), [
    ("   ", "Write a prompt first"),
    ("x" * 4001, "Your prompt is 4,001 characters long; a lab prompt may have at most 4,000"),
])
def test_an_empty_or_oversized_prompt_is_refused_before_any_call(session, fake_gateway, lab, prompt, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        run(session, fake_gateway, lab, prompt)
    assert count(session, UsageEvent) == 0 and not [r for r in fake_gateway.requests if "chat" in r.path]


def test_a_gateway_failure_is_recorded_once_and_is_not_an_attempt(session, fake_gateway, lab) -> None:
    fake_gateway.fail_always("500")
    result = run(session, fake_gateway, lab, GOOD)
    assert not result.passed and result.error.startswith("The model did not answer in full:")
    assert "run it again" in result.error
    usage = session.exec(select(UsageEvent)).one()
    assert (usage.status, usage.cost_usd, usage.source) == ("failed", 0.0, "training lab")
    assert count(session, LabAttempt) == 0


def test_a_spent_budget_stops_the_lab_before_the_call(session, fake_gateway, lab) -> None:
    run(session, fake_gateway, lab, GOOD)
    tight = POLICY.__class__(budgets=BudgetPolicy(daily_tokens_per_user=1, monthly_usd_per_team=0),
                             max_message_chars=20_000, guardrail_actions=POLICY.guardrail_actions)
    calls = len(fake_gateway.requests)
    with pytest.raises(BudgetExhausted, match="daily sandbox quota"):
        run(session, fake_gateway, lab, GOOD, policy=tight)
    assert len(fake_gateway.requests) == calls


def test_labs_are_offered_on_served_approved_models(session, lab) -> None:
    user, _, _ = lab
    assert [m.name for m in lab_models(session=session, user=user)] == ["fake-small"]


def test_passing_every_lab_after_lessons_and_quiz_completes_the_course(session, fake_gateway, lab) -> None:
    from training.learning import mark_lesson_read
    from training.quiz import submit_quiz
    from tests.training.conftest import right_answers

    user, enrolment_id, labs = lab
    found = progress(session=session, user=user, slug="prompt-engineering-basics")
    for lesson in found.lessons:
        mark_lesson_read(session=session, user=user, enrolment_id=enrolment_id, lesson_id=lesson.id)
    submit_quiz(session=session, user=user, enrolment_id=enrolment_id, attempt_number=1,
                answers=right_answers(session, found.version.id))
    assert progress(session=session, user=user, slug="prompt-engineering-basics").missing() == ["pass 2 more lab(s)"]
    assert run(session, fake_gateway, lab, GOOD).certificate is None
    last = run(session, fake_gateway, lab, "Reply with Category: billing or Category: account.", index=1)
    assert last.passed and last.certificate is not None


def test_a_redacted_prompt_tells_the_learner_with_the_turn_notice(session, fake_gateway, lab) -> None:
    result = run(session, fake_gateway, lab, GOOD + " Send it to jane.doe@example.com.")
    assert "jane.doe" not in fake_gateway.last_request.body["messages"][-1]["content"]
    assert result.notice.action == "redact" and result.notice.guardrail == (
        "Found 1 e-mail address: redacted before sending.")
    assert result.notice.replacements == [("<EMAIL_1>", "jane.doe@example.com")]


def test_a_prompt_the_block_policy_stops_is_refused_before_any_call(session, fake_gateway, lab) -> None:
    strict = POLICY.__class__(budgets=POLICY.budgets, max_message_chars=20_000,
                              guardrail_actions={**POLICY.guardrail_actions, "public": "block"})
    fake_gateway.reset()
    with pytest.raises(InvalidInput, match="The guardrails blocked this prompt"):
        run(session, fake_gateway, lab, GOOD + " Card 4111 1111 1111 1111.", policy=strict)
    assert fake_gateway.requests == []
    assert count(session, UsageEvent) == 0 and count(session, LabAttempt) == 0


def test_a_lab_call_goes_through_the_metered_guardrail_step_as_already_guarded(session, fake_gateway, lab) -> None:
    # The lab's turn guarded the prompt under the sandbox policy (redact); the metered path must send exactly that,
    # not scan it again under its own default actions.
    result = run(session, fake_gateway, lab, GOOD + " Send it to jane.doe@example.com.")
    sent = fake_gateway.last_request.body["messages"][-1]["content"]
    assert sent.endswith("Send it to <EMAIL_1>.") and result.notice.replacements == [
        ("<EMAIL_1>", "jane.doe@example.com")]
