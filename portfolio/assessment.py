"""The tier-3 risk assessment: the owner answers the CoE's questions (drafts kept), a risk reviewer who is not the
owner accepts it or sends it back, and the risk-assessment graduation criterion reads where it stands.

Saves name the revision they started from, so two editors at once cannot overwrite each other; a conclusion names
the revision the reviewer read, so it never lands on answers they did not see. Changed answers need a new review;
changed questions do not undo an acceptance, which stays valid for the version it was given on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from catalog.models import RiskTier
from portal.core.audit import record, utcnow
from portal.core.auth import Permission, has_permission, require
from portal.core.errors import InvalidInput, PermissionDenied, StaleEdit
from portal.core.revisions import insert_new, save_if_unchanged
from portal.core.users import User
from portfolio.assessment_models import AssessmentStatus, Conclusion, RiskAssessment
from portfolio.assessment_questions import QuestionsFile, default_questions
from portfolio.events import RiskAssessmentConcluded, RiskAssessmentSaved
from portfolio.models import UseCase
from portfolio.service import MAX_LONG, MIN_REASON, get_use_case

NOUN = "risk assessment"


@dataclass(frozen=True)
class AssessmentView:
    """The assessment as the use-case page shows it to one person."""

    questions: QuestionsFile
    assessment: RiskAssessment | None
    concluded_by: str
    may_answer: bool  # the owner of a submitted tier-3 use case
    may_conclude: bool  # a risk reviewer who is not the owner, once it is submitted

    @property
    def status(self) -> AssessmentStatus | None:
        return None if self.assessment is None else AssessmentStatus(self.assessment.status)

    @property
    def revision(self) -> int:
        """The revision an edit starts from (0: none saved yet)."""
        return 0 if self.assessment is None else self.assessment.revision

    @property
    def questions_changed(self) -> str:
        """What to say when the questions changed since the answers (or their acceptance) were given, else ''."""
        given = self.assessment and (self.assessment.concluded_version if self.status == AssessmentStatus.ACCEPTED
                                     else self.assessment.questions_version)
        if not given or given == self.questions.version:
            return ""
        if self.status == AssessmentStatus.ACCEPTED:
            return (f"The questions changed since this assessment was accepted (version {given}, now "
                    f"{self.questions.version}). The acceptance stays valid for version {given}; updating the "
                    "answers asks for a new review.")
        return f"The questions changed since these answers were saved (version {given}, now {self.questions.version})."


def assessment_view(*, session: Session, actor: User, use_case_id: int,
                    questions: QuestionsFile | None = None) -> AssessmentView:
    """The use case's assessment, the questions now, and what this person may do with them."""
    use_case = get_use_case(session=session, actor=actor, use_case_id=use_case_id)
    row = _assessment(session, use_case.id)
    concluded_by = session.get(User, row.concluded_by_id) if row and row.concluded_by_id else None
    return AssessmentView(
        questions=questions or default_questions(), assessment=row,
        concluded_by=concluded_by.email if concluded_by else "",
        may_answer=_answer_refusal(actor, use_case) is None,
        may_conclude=row is not None and row.status == AssessmentStatus.SUBMITTED.value
        and _conclude_refusal(actor, use_case) is None)


def save_answers(*, session: Session, actor: User, use_case_id: int, answers: dict[str, Any], submit: bool,
                 base_revision: int, questions: QuestionsFile | None = None) -> RiskAssessment:
    """The owner saves the answers as a draft, or submits them (every required answer given) for a risk reviewer."""
    require(actor, Permission.BROWSE)
    use_case = get_use_case(session=session, actor=actor, use_case_id=use_case_id)
    if refusal := _answer_refusal(actor, use_case):
        raise PermissionDenied(refusal)
    questions = questions or default_questions()
    answers = {key: value.strip() if isinstance(value, str) else value for key, value in answers.items()
               if value is not None and value != ""}
    if problems := questions.problems(answers, complete=submit):
        prefix = "Before submitting, fix or answer: " if submit else "Cannot save the draft: "
        raise InvalidInput(prefix + "; ".join(problems) + ". Nothing was saved.")
    row = _assessment(session, use_case.id)
    status = AssessmentStatus.SUBMITTED if submit else AssessmentStatus.DRAFT
    old = row.answers if row else {}
    changed = sorted(key for key in {*old, *answers} if old.get(key) != answers.get(key))
    if row is not None and not changed and (row.status == status.value or not submit):
        raise InvalidInput(f"Nothing changed: the assessment is still {AssessmentStatus(row.status).label}.")
    values = {"answers": answers, "questions_version": questions.version, "status": status.value,
              "updated_by_id": actor.id, "updated_at": utcnow()}
    if row is None:
        if base_revision:
            raise StaleEdit(noun=NOUN, base=base_revision, latest=None)
        row = RiskAssessment(use_case_id=use_case.id, **values)
        insert_new(session, row, noun=NOUN)  # two first saves at once: the unique use case refuses the second
    else:
        save_if_unchanged(session, row, base_revision=base_revision, values=values, noun=NOUN)
    record(session, actor, RiskAssessmentSaved(use_case_id=use_case.id, title=use_case.title, revision=row.revision,
                                               questions_version=questions.version, status=status.value,
                                               changed=changed))
    return row


def conclude(*, session: Session, actor: User, use_case_id: int, conclusion: Conclusion, note: str,
             base_revision: int) -> RiskAssessment:
    """A risk reviewer who is not the owner accepts the submitted answers they read, or sends them back saying why."""
    require(actor, Permission.REVIEW_RISK)
    use_case = get_use_case(session=session, actor=actor, use_case_id=use_case_id)
    if refusal := _conclude_refusal(actor, use_case):
        raise PermissionDenied(refusal)
    conclusion, note = Conclusion(conclusion), (note or "").strip()
    if len(note) > MAX_LONG or (conclusion == Conclusion.NEEDS_CHANGES and len(note) < MIN_REASON):
        raise InvalidInput(f"Say what must change (between {MIN_REASON} and {MAX_LONG} characters).")
    row = _assessment(session, use_case.id)
    if row is None or row.status != AssessmentStatus.SUBMITTED.value:
        state = "not answered yet" if row is None else AssessmentStatus(row.status).label
        raise InvalidInput(f"Only a submitted assessment can be concluded; this one is {state}.")
    if row.revision != base_revision:
        raise StaleEdit(noun=NOUN, base=base_revision, latest=row.revision, message=(
            f"The owner saved revision {row.revision} of the answers after you read revision {base_revision}; nothing "
            "was concluded. Read the latest answers, then conclude."))
    save_if_unchanged(session, row, base_revision=base_revision, noun=NOUN, values={
        "status": conclusion.value, "conclusion": conclusion.value, "concluded_by_id": actor.id,
        "concluded_at": utcnow(), "conclusion_note": note, "concluded_version": row.questions_version})
    record(session, actor, RiskAssessmentConcluded(use_case_id=use_case.id, title=use_case.title,
                                                   revision=row.revision, questions_version=row.questions_version,
                                                   conclusion=conclusion.value, note=note))
    return row


def assessment_problem(session: Session, use_case: UseCase) -> str | None:
    """Why the use case's risk assessment is not accepted, or None (the risk-assessment criterion's check)."""
    status = session.exec(select(RiskAssessment.status).where(RiskAssessment.use_case_id == use_case.id)).first()
    if status is None:
        return "the owner has not answered the risk assessment yet"
    return {AssessmentStatus.ACCEPTED: None,
            AssessmentStatus.DRAFT: "the risk assessment is a draft: the owner submits it for review",
            AssessmentStatus.SUBMITTED: "the risk assessment waits for a risk reviewer",
            AssessmentStatus.NEEDS_CHANGES: "a risk reviewer sent the risk assessment back for changes",
            }[AssessmentStatus(status)]


def _assessment(session: Session, use_case_id: int) -> RiskAssessment | None:
    return session.exec(select(RiskAssessment).where(RiskAssessment.use_case_id == use_case_id)).first()


def _answer_refusal(actor: User, use_case: UseCase) -> str | None:
    if use_case.tier != RiskTier.FULL_REVIEW or use_case.draft:
        return "Only a submitted tier-3 use case has a risk assessment."
    if actor.id != use_case.owner_id:
        return "Only the use case's owner answers its risk assessment."
    return None


def _conclude_refusal(actor: User, use_case: UseCase) -> str | None:
    if not has_permission(actor, Permission.REVIEW_RISK):
        return "Only a risk reviewer concludes a risk assessment."
    if actor.id == use_case.owner_id:
        return "You own this use case, so a risk reviewer who does not must conclude its assessment."
    return None
