"""The demo portfolio: about twenty use cases, each proposed by its demo owner and moved through real stage moves.

The seed acts as the demo people it names (the owner proposes and asks, the demo reviewers sign), never around the
services, so every use case has the timeline a real one would have. Use cases whose title exists are left alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from catalog.models import DataClassification, RiskTier
from portal.core.principals import Principal
from portal.core.users import User
from portal.core.yaml_models import load_model
from portfolio.assessment import assessment_view, conclude, save_answers
from portfolio.assessment_models import AssessmentStatus, Conclusion
from portfolio.criteria import criteria_states
from portfolio.graduation import decide_criterion, save_operations
from portfolio.models import FORWARD_STAGES, Autonomy, CriterionKind, PeopleAffected, Stage, UseCase
from portfolio.service import UseCaseForm, save_use_case, set_tier
from portfolio.stages import decide_move, request_move
from training.learning import enrol, mark_lesson_read, progress
from training.models import Course, Question
from training.quiz import submit_quiz
from training.unlocks import missing_courses

SEED_FILE = Path(__file__).with_name("seed_portfolio.yaml")
ASSESSMENT_FILE = Path(__file__).with_name("seed_assessment.yaml")
REVIEWER, RISK_REVIEWER = "ravi.reviewer@example.com", "rosa.risk@example.com"
# Demo owners who took the courses the criteria require, so the courses criterion is met for their use cases
# (and not met, or waived, for the others').
TRAINED = {"hana.hr@example.com": ("genai-fundamentals", "responsible-ai"),
           "finn.finance@example.com": ("genai-fundamentals",)}


def seed_portfolio(*, session: Session, actor: Principal, path: Path = SEED_FILE) -> int:
    """Create the seed file's use cases that do not exist yet; returns how many were created."""
    # The one YAML reading the portal has: no anchors or foreign tags, problems named by file and line.
    entries = load_model(path.read_text(encoding="utf-8"), list[dict[str, Any]], source=path.name)
    people = {u.email: u for u in session.exec(select(User)).all()}
    existing = set(session.exec(select(UseCase.title)).all())
    _take_courses(session, people)
    created = 0
    for entry in entries:
        if entry["title"] in existing or entry["owner"] not in people:
            continue  # already seeded, or the demo users were not (a real directory instead)
        _seed_one(session, entry, people)
        created += 1
    return created


def _seed_one(session: Session, entry: dict[str, Any], people: dict[str, User]) -> None:
    owner, reviewer = people[entry["owner"]], people[REVIEWER]
    use_case = save_use_case(session=session, actor=owner, form=_form(entry), submit=True)
    if raise_to := entry.get("raise"):
        set_tier(session=session, actor=reviewer, use_case_id=use_case.id, tier=RiskTier(raise_to[0]),
                 reason=raise_to[1], base_revision=use_case.revision)
    stopped = Stage(entry["stage"]) in (Stage.PAUSED, Stage.RETIRED)
    target = Stage(entry.get("paused_at", "idea") if stopped else entry["stage"])
    for stage in FORWARD_STAGES[1:FORWARD_STAGES.index(target) + 1]:
        _move(session, use_case, stage, owner, people)
    if stopped:
        request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage(entry["stage"]),
                     reason=entry.get("pause") or entry.get("retire"), base_revision=use_case.revision)
    if entry.get("assessment") == "submitted":
        _answer_assessment(session, use_case, owner)
    if waiting := entry.get("waiting"):
        _meet_criteria(session, use_case, Stage(waiting), people)
        request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage(waiting),
                     base_revision=use_case.revision)


def _move(session: Session, use_case: UseCase, stage: Stage, owner: User, people: dict[str, User]) -> None:
    """Ask as the owner; sign as the reviewer, and as the risk reviewer too when the tier needs two."""
    _meet_criteria(session, use_case, stage, people)
    if use_case.stage == stage.value:
        return  # tier 1 moved to pilot on its own once the criteria were met
    move = request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=stage,
                        base_revision=use_case.revision)
    signers = [REVIEWER, RISK_REVIEWER] if use_case.tier == RiskTier.FULL_REVIEW else [REVIEWER]
    for email in signers if move is not None else []:
        decide_move(session=session, actor=people[email], move_id=move.id, approve=True, seen_version=move.version,
                    note="seed data")


def _form(entry: dict[str, Any]) -> UseCaseForm:
    amount, unit, assumption = entry["value"]
    classification, people, review, autonomy = entry["answers"]
    return UseCaseForm(
        title=entry["title"], problem=entry["problem"], who_has_it=entry["who"], department=entry["department"],
        team=entry["team"], owner_email=entry["owner"], value_amount=float(amount), value_unit=unit,
        value_assumption=assumption, classification=DataClassification.parse(classification),
        people_affected=PeopleAffected(people), human_review=review, autonomy=Autonomy(autonomy),
        models=entry.get("models", []), prompts=entry.get("prompts", []), templates=entry.get("templates", []),
        courses=entry.get("courses", []))


def _meet_criteria(session: Session, use_case: UseCase, stage: Stage, people: dict[str, User]) -> None:
    """Fill in operations before production; sign what a reviewer signs; waive (saying so) what demo data lacks."""
    owner = people[next(e for e, u in people.items() if u.id == use_case.owner_id)]
    if stage == Stage.PRODUCTION and not use_case.on_call_owner:
        save_operations(session=session, actor=owner, use_case_id=use_case.id,
                        on_call_owner=f"{use_case.team} on-call rota",
                        rollback_plan="Switch the assistant off; the team returns to the manual process it replaced.",
                        monitoring_url=f"https://grafana.example.com/d/use-case-{use_case.id}",
                        base_revision=use_case.revision)
    signer = people[RISK_REVIEWER if use_case.tier == RiskTier.FULL_REVIEW else REVIEWER]
    if use_case.tier == RiskTier.FULL_REVIEW and stage != Stage.ASSESSMENT:
        _answer_assessment(session, use_case, owner, accepted_by=people[RISK_REVIEWER])
    for state in criteria_states(session=session, use_case=use_case, to_stage=stage.value):
        if state.state != "not met":
            continue
        kind = CriterionKind.WAIVED if state.checked else CriterionKind.SIGNED
        reason = f"Seed data has no such evidence ({state.detail})" if state.checked else "seed data"
        decide_criterion(session=session, actor=signer, use_case_id=use_case.id, criterion=state.key,
                         to_stage=stage.value, kind=kind, reason=reason)


def _take_courses(session: Session, people: dict[str, User]) -> None:
    """The trained demo owners read each lesson and pass each quiz, as a learner would (once)."""
    # Training's seed step loads the courses first (it is installed before the portfolio); without training
    # installed there are none, and nobody is trained.
    known = set(session.exec(select(Course.slug)).all())
    for email, slugs in TRAINED.items():
        if email not in people:
            continue
        learner = people[email]
        for slug in missing_courses(session=session, user=learner, slugs=[s for s in slugs if s in known]):
            enrolment = enrol(session=session, user=learner, slug=slug)
            for lesson in progress(session=session, user=learner, slug=slug).lessons:
                mark_lesson_read(session=session, user=learner, enrolment_id=enrolment.id, lesson_id=lesson.id)
            answers = {q.id: list(q.correct) for q in session.exec(
                select(Question).where(Question.version_id == enrolment.version_id))}
            submit_quiz(session=session, user=learner, enrolment_id=enrolment.id, attempt_number=1, answers=answers)


def _answer_assessment(session: Session, use_case: UseCase, owner: User, *, accepted_by: User | None = None) -> None:
    """The owner submits the demo answers once; the risk reviewer, when named, accepts them."""
    view = assessment_view(session=session, actor=owner, use_case_id=use_case.id)
    if view.assessment is None:
        answers = load_model(ASSESSMENT_FILE.read_text(encoding="utf-8"), dict[str, Any], source=ASSESSMENT_FILE.name)
        save_answers(session=session, actor=owner, use_case_id=use_case.id, answers=answers, submit=True,
                     base_revision=0)
        view = assessment_view(session=session, actor=owner, use_case_id=use_case.id)
    if accepted_by is not None and view.status == AssessmentStatus.SUBMITTED:
        conclude(session=session, actor=accepted_by, use_case_id=use_case.id, conclusion=Conclusion.ACCEPTED,
                 note="seed data", base_revision=view.revision)
