"""Labs: the learner's prompt runs on an approved model through the gateway, and output checks grade the answer.

A lab is a sandbox turn (metering.turn): the same model visibility, budgets and guardrails (on the learner's
prompt and the lab's system prompt), with usage recorded as source "training lab", and the same `TurnNotice`
for what the guardrails did. A failed gateway call is recorded once as usage (at no cost) and is not an attempt.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlmodel import Session

from catalog.models import CatalogModel, DataClassification
from portal.core.errors import InvalidInput, NotFound
from portal.core.users import User
from prompt_library.assertions import CheckOutcome, OutputCheck, evaluate_all
from metering.gateway import MeteredGateway
from metering.turn import TurnNotice
from sandbox.chat import (
    SandboxPolicy,
    TurnRequest,
    TurnStream,
    offered_models,
    prepare_turn,
    record_guardrail_finding,
)
from metering.models import CallStatus
from training.learning import complete_if_done, own_enrolment
from training.models import TRAINING_LAB, Certificate, Course, Lab, LabAttempt, Verb
from training.statements import activity_id, record_statement

# Labs work on training material: public data, so every approved model may run them.
LAB_CLASSIFICATION = DataClassification.PUBLIC
LAB_TEMPERATURE = 0.2
LAB_MAX_TOKENS = 512


@dataclass(frozen=True)
class LabRun:
    """What happened: the answer and its grading, or why no answer came (the prompt stays with the learner)."""

    output: str = ""
    passed: bool = False
    outcomes: list[CheckOutcome] = field(default_factory=list)
    error: str = ""
    certificate: Certificate | None = None
    notice: TurnNotice = field(default_factory=TurnNotice)  # what the guardrails did to the prompt


def lab_models(*, session: Session, user: User) -> list[CatalogModel]:
    """The approved, served models a learner may run labs on."""
    return offered_models(session=session, user=user, classification=LAB_CLASSIFICATION)


def lab_checks(lab: Lab) -> list[OutputCheck]:
    return [OutputCheck.model_validate(check) for check in lab.checks]


def run_lab(*, session: Session, user: User, gateway: MeteredGateway, policy: SandboxPolicy, enrolment_id: int,
            lab_id: int, model_name: str, prompt: str, max_prompt_chars: int) -> LabRun:
    """Check the prompt, run it through the sandbox's checks and the gateway, grade and record the answer."""
    enrolment = own_enrolment(session, user, enrolment_id)
    lab = session.get(Lab, lab_id)
    if lab is None or lab.version_id != enrolment.version_id:
        raise NotFound("That lab is not part of your version of the course.")
    text = prompt.strip()
    if not text:
        raise InvalidInput("Write a prompt first: the lab runs what you write.")
    if len(text) > max_prompt_chars:
        raise InvalidInput(f"Your prompt is {len(text):,} characters long; a lab prompt may have at most "
                           f"{max_prompt_chars:,}. Shorten it.")
    # Nothing is written before the call: the metered path reserves in transactions of its own.
    prepared = prepare_turn(session=session, user=user, policy=policy, audit_guardrails=False,
                            source=TRAINING_LAB, request=TurnRequest(
        message=text, model_name=model_name, classification=LAB_CLASSIFICATION, system_prompt=lab.system_prompt,
        temperature=LAB_TEMPERATURE, max_tokens=LAB_MAX_TOKENS))
    if prepared.blocked:
        raise InvalidInput("The guardrails blocked this prompt: it holds personal or secret data. Remove it and "
                           "run the lab again.")
    stream = TurnStream(prepared, gateway).run()
    record_guardrail_finding(session, prepared)
    if stream.status != CallStatus.OK:
        reason = stream.error.message if stream.error else "the answer stopped part-way"
        return LabRun(error=f"The model did not answer in full: {reason} Nothing was graded; run it again.",
                      notice=prepared.notice())
    run = _grade(session, user, enrolment, lab, prepared.model.name, text, stream.partial)
    return replace(run, notice=prepared.notice())


def _grade(session: Session, user: User, enrolment, lab: Lab, model_name: str, prompt: str, output: str) -> LabRun:
    outcomes = evaluate_all(lab_checks(lab), output)
    passed = all(o.passed for o in outcomes)
    session.add(LabAttempt(enrolment_id=enrolment.id, lab_id=lab.id, model_name=model_name, prompt=prompt,
                           output=output, passed=passed,
                           outcomes=[{"check": o.check.describe(), "passed": o.passed, "detail": o.detail}
                                     for o in outcomes]))
    course = session.get(Course, enrolment.course_id)
    record_statement(session, user=user, verb=Verb.PASSED if passed else Verb.FAILED, course=course,
                     object_id=activity_id(course.slug, "lab", lab.slug), object_name=lab.title,
                     score=sum(o.passed for o in outcomes) / len(outcomes), success=passed)
    session.flush()
    certificate = complete_if_done(session, user=user, enrolment=enrolment) if passed else None
    return LabRun(output=output, passed=passed, outcomes=outcomes, certificate=certificate)
