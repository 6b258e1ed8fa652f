"""The tier-3 risk assessment: the questions file, who answers and concludes, drafts and conflicts, and the criterion."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session, select

from portal.core.audit import AuditEvent
from portal.core.errors import InvalidInput, PermissionDenied, StaleEdit
from portal.core.yaml_models import YamlFileError
from portfolio.assessment import assessment_view, conclude, save_answers
from portfolio.assessment_models import AssessmentStatus, Conclusion
from portfolio.assessment_questions import default_questions, load_questions
from portfolio.criteria import criteria_states
from portfolio.models import Stage
from portfolio.service import timeline
from portfolio.stages import decide_move, request_move
from tests.concurrency import run_together

QUESTIONS = """\
version: 2
sections:
  - key: purpose
    title: Purpose
    questions:
      - key: what-for
        kind: text
        min_length: 10
        text: What is it for?
        help: Say what it does.
      - key: basis
        kind: choice
        options: [Contract, Consent]
        text: On what basis?
        help: Ask privacy.
      - key: informed
        kind: yes_no
        text: Are people told?
        help: They should be.
      - key: trained
        kind: yes_no
        required: false
        text: Are reviewers trained?
        help: Optional.
"""
SMALL = load_questions(QUESTIONS, source="small.yaml")
COMPLETE = {"what-for": "Drafts replies to customers.", "basis": "Contract", "informed": True}


def test_the_repository_questions_are_valid_and_cover_the_themes_a_risk_team_expects() -> None:
    questions = default_questions()
    assert 15 <= len(questions.questions) <= 20
    assert [s.key for s in questions.sections] == ["purpose", "data", "fairness", "transparency", "oversight",
                                                   "robustness", "incidents"]
    assert {q.kind.value for q in questions.questions} == {"choice", "yes_no", "text"}
    assert all(q.help for q in questions.questions)


def test_a_questions_file_with_a_bad_field_names_the_file_and_line() -> None:
    text = QUESTIONS.replace("        help: Ask privacy.\n", "        help: Ask privacy.\n        weight: 3\n")
    text = text.replace("      - key: trained\n        kind: yes_no\n",
                        "      - key: trained\n        kind: yes_no\n        min_length: 5\n")
    with pytest.raises(YamlFileError) as refused:
        load_questions(text, source="portfolio/risk_assessment.yaml")
    problems = {(p.line, p.field) for p in refused.value.problems}
    assert (16, "sections.0.questions.1.weight") in problems
    assert "portfolio/risk_assessment.yaml, line 16: sections.0.questions.1.weight: is not a known field" in \
        refused.value.message
    assert "line 21: sections.0.questions.3: only a text question has a min_length; 'trained' is yes_no" in \
        refused.value.message
    with pytest.raises(YamlFileError, match="line 11: .*the choice 'basis' needs at least two different options"):
        load_questions(QUESTIONS.replace("options: [Contract, Consent]", "options: [Contract]"), source="q.yaml")
    twice = QUESTIONS + "  - key: more\n    title: More\n    questions:\n      - {key: basis, kind: text, " \
                        "text: Again, help: Twice}\n"
    with pytest.raises(YamlFileError, match="line 25: .*section 2: the key 'basis' is already used in section 1"):
        load_questions(twice, source="q.yaml")


@pytest.fixture
def tier3(make_use_case, make_user):
    owner = make_user("contributor")
    return make_use_case(3, owner=owner), owner


# (who acts, what they do) -> "ok" or the refusal's start.
PERMISSIONS = [
    ("owner", "answer", "ok"),
    ("contributor", "answer", "Only the use case's owner answers its risk assessment."),
    ("reviewer", "answer", "Only the use case's owner answers its risk assessment."),
    ("risk_reviewer", "conclude", "ok"),
    ("admin", "conclude", "ok"),
    ("owner_risk_reviewer", "conclude", "You own this use case, so a risk reviewer who does not must conclude"),
    ("reviewer", "conclude", "Your role (reviewer) may not be the risk reviewer of a tier-3 use case"),
    ("viewer", "conclude", "Your role (viewer) may not be the risk reviewer of a tier-3 use case"),
    ("viewer", "answer", "Only the use case's owner answers its risk assessment."),
]


@pytest.mark.parametrize("who, act, outcome", PERMISSIONS)
def test_who_may_answer_and_who_may_conclude(session, make_user, make_use_case, who, act, outcome) -> None:
    owner = make_user("risk_reviewer" if who == "owner_risk_reviewer" else "contributor")
    use_case = make_use_case(3, owner=owner)
    if act == "conclude":
        save_answers(session=session, actor=owner, use_case_id=use_case.id, answers=COMPLETE, submit=True,
                     base_revision=0, questions=SMALL)
        session.commit()
    actor = owner if who.startswith("owner") else make_user(who)
    try:
        if act == "answer":
            save_answers(session=session, actor=actor, use_case_id=use_case.id, answers=COMPLETE, submit=False,
                         base_revision=0, questions=SMALL)
        else:
            conclude(session=session, actor=actor, use_case_id=use_case.id, conclusion=Conclusion.ACCEPTED,
                     note="", base_revision=1)
        session.commit()
    except PermissionDenied as refused:
        session.rollback()
        assert refused.message.startswith(outcome), refused.message
        view = assessment_view(session=session, actor=owner, use_case_id=use_case.id, questions=SMALL)
        assert view.status in (None, AssessmentStatus.SUBMITTED)  # nothing changed
        return
    assert outcome == "ok"


def test_a_draft_keeps_partial_answers_and_a_submit_names_what_is_missing(session, tier3) -> None:
    use_case, owner = tier3
    with pytest.raises(InvalidInput, match="“On what basis\\?” has no option 'Vibes'"):
        save_answers(session=session, actor=owner, use_case_id=use_case.id, answers={"basis": "Vibes"},
                     submit=False, base_revision=0, questions=SMALL)
    row = save_answers(session=session, actor=owner, use_case_id=use_case.id, answers={"what-for": "Short"},
                       submit=False, base_revision=0, questions=SMALL)
    assert (row.status, row.revision, row.answers) == ("draft", 1, {"what-for": "Short"})
    with pytest.raises(InvalidInput) as refused:
        save_answers(session=session, actor=owner, use_case_id=use_case.id, answers={"what-for": "Short"},
                     submit=True, base_revision=1, questions=SMALL)
    assert refused.value.message == (
        "Before submitting, fix or answer: “What is it for?” needs at least 10 characters (it has 5); "
        "“On what basis?” is not answered; “Are people told?” is not answered. Nothing was saved.")
    row = save_answers(session=session, actor=owner, use_case_id=use_case.id, answers=COMPLETE, submit=True,
                       base_revision=1, questions=SMALL)
    assert (row.status, row.revision, row.questions_version) == ("submitted", 2, 2)


def test_two_saves_from_the_same_revision_the_second_is_told_and_nothing_is_lost(engine, session, tier3) -> None:
    use_case, owner = tier3
    save_answers(session=session, actor=owner, use_case_id=use_case.id, answers={"basis": "Contract"}, submit=False,
                 base_revision=0, questions=SMALL)
    session.commit()
    with Session(engine) as first, Session(engine) as second:
        save_answers(session=first, actor=owner, use_case_id=use_case.id, answers={"basis": "Consent"},
                     submit=False, base_revision=1, questions=SMALL)
        first.commit()
        with pytest.raises(StaleEdit) as refused:
            save_answers(session=second, actor=owner, use_case_id=use_case.id, answers={"informed": False},
                         submit=False, base_revision=1, questions=SMALL)
        second.rollback()
    assert refused.value.message.startswith("Someone saved revision 2 of this risk assessment while you edited "
                                            "revision 1. Nothing was saved")
    session.expire_all()
    view = assessment_view(session=session, actor=owner, use_case_id=use_case.id, questions=SMALL)
    assert (view.revision, view.assessment.answers) == (2, {"basis": "Consent"})


def test_two_first_saves_at_once_the_second_is_told(engine, session, tier3) -> None:
    use_case, owner = tier3
    with Session(engine) as first, Session(engine) as second:
        save_answers(session=first, actor=owner, use_case_id=use_case.id, answers={"basis": "Consent"},
                     submit=False, base_revision=0, questions=SMALL)
        first.commit()
        with pytest.raises(StaleEdit, match="while you were filling in the form"):
            save_answers(session=second, actor=owner, use_case_id=use_case.id, answers={"informed": True},
                         submit=False, base_revision=0, questions=SMALL)
        second.rollback()


def _to_assessment(session, use_case, owner, make_user) -> None:
    move = request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage.ASSESSMENT,
                        base_revision=use_case.revision)
    for role in ("reviewer", "risk_reviewer"):
        decide_move(session=session, actor=make_user(role), move_id=move.id, approve=True, seen_version=move.version)
    session.commit()


def _pilot_refusal(session, use_case, owner) -> str:
    with pytest.raises(InvalidInput) as refused:
        request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage.PILOT,
                     base_revision=use_case.revision)
    session.rollback()
    return refused.value.message


def test_a_tier3_move_to_pilot_waits_for_an_accepted_assessment(session, make_user, tier3, trained) -> None:
    use_case, owner = tier3
    trained(owner)  # the courses criterion of a tier-3 pilot is met, so the assessment is what the move waits for
    _to_assessment(session, use_case, owner, make_user)
    assert "the owner has not answered the risk assessment yet" in _pilot_refusal(session, use_case, owner)
    save_answers(session=session, actor=owner, use_case_id=use_case.id, answers=COMPLETE, submit=True,
                 base_revision=0, questions=SMALL)
    session.commit()
    assert "the risk assessment waits for a risk reviewer" in _pilot_refusal(session, use_case, owner)
    risk = make_user("risk_reviewer")
    with pytest.raises(InvalidInput, match="Say what must change"):
        conclude(session=session, actor=risk, use_case_id=use_case.id, conclusion=Conclusion.NEEDS_CHANGES,
                 note="", base_revision=1)
    conclude(session=session, actor=risk, use_case_id=use_case.id, conclusion=Conclusion.NEEDS_CHANGES,
             note="Name the complaints channel.", base_revision=1)
    session.commit()
    assert "sent the risk assessment back for changes" in _pilot_refusal(session, use_case, owner)
    save_answers(session=session, actor=owner, use_case_id=use_case.id, answers=COMPLETE, submit=True,
                 base_revision=2, questions=SMALL)
    conclude(session=session, actor=risk, use_case_id=use_case.id, conclusion=Conclusion.ACCEPTED, note="",
             base_revision=3)
    session.commit()
    state = next(s for s in criteria_states(session=session, use_case=use_case, to_stage="pilot")
                 if s.key == "risk-assessment")
    assert (state.state, state.checked) == ("met", True)
    move = request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage.PILOT,
                        base_revision=use_case.revision)
    assert move is not None  # the criteria pass; the tier's two approvers still sign
    session.commit()
    actions = [e.action for e in timeline(session=session, actor=owner, use_case_id=use_case.id)]
    assert actions.count("use_case.assessment_saved") == 2 and actions.count("use_case.assessment_concluded") == 2


def test_a_conclusion_on_answers_changed_meanwhile_is_refused(engine, session, make_user, tier3) -> None:
    use_case, owner = tier3
    save_answers(session=session, actor=owner, use_case_id=use_case.id, answers=COMPLETE, submit=True,
                 base_revision=0, questions=SMALL)
    session.commit()
    seen = assessment_view(session=session, actor=make_user("risk_reviewer"), use_case_id=use_case.id)
    assert seen.may_conclude and seen.revision == 1
    save_answers(session=session, actor=owner, use_case_id=use_case.id, answers={**COMPLETE, "basis": "Consent"},
                 submit=True, base_revision=1, questions=SMALL)
    session.commit()
    with pytest.raises(StaleEdit):
        conclude(session=session, actor=make_user("risk_reviewer"), use_case_id=use_case.id,
                 conclusion=Conclusion.ACCEPTED, note="", base_revision=1)


def test_changed_questions_keep_an_acceptance_for_its_version_and_the_page_says_so(session, make_user,
                                                                                  tier3) -> None:
    use_case, owner = tier3
    save_answers(session=session, actor=owner, use_case_id=use_case.id, answers=COMPLETE, submit=True,
                 base_revision=0, questions=SMALL)
    conclude(session=session, actor=make_user("risk_reviewer"), use_case_id=use_case.id,
             conclusion=Conclusion.ACCEPTED, note="Fine for the pilot", base_revision=1)
    session.commit()
    assert assessment_view(session=session, actor=owner, use_case_id=use_case.id,
                           questions=SMALL).questions_changed == ""
    newer = load_questions(QUESTIONS.replace("version: 2", "version: 3"), source="newer.yaml")
    view = assessment_view(session=session, actor=owner, use_case_id=use_case.id, questions=newer)
    assert view.questions_changed.startswith("The questions changed since this assessment was accepted (version 2, "
                                             "now 3). The acceptance stays valid for version 2")
    state = next(s for s in criteria_states(session=session, use_case=use_case, to_stage="pilot")
                 if s.key == "risk-assessment")
    assert state.state == "met"
    # Changed answers are another matter: they need a new review.
    save_answers(session=session, actor=owner, use_case_id=use_case.id, answers={**COMPLETE, "basis": "Consent"},
                 submit=True, base_revision=2, questions=newer)
    session.commit()
    state = next(s for s in criteria_states(session=session, use_case=use_case, to_stage="pilot")
                 if s.key == "risk-assessment")
    assert (state.state, state.detail) == ("not met", "the risk assessment waits for a risk reviewer")
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "use_case.assessment_saved")
                         .order_by(AuditEvent.id.desc())).first()
    assert event.after == {"revision": 3, "questions_version": 3, "status": "submitted", "changed": ["basis"]}


def test_only_a_tier3_use_case_has_an_assessment(session, make_user, make_use_case) -> None:
    owner = make_user("contributor")
    use_case = make_use_case(2, owner=owner)
    with pytest.raises(PermissionDenied, match="Only a submitted tier-3 use case has a risk assessment"):
        save_answers(session=session, actor=owner, use_case_id=use_case.id, answers=COMPLETE, submit=False,
                     base_revision=0, questions=SMALL)


def test_ten_saves_from_one_revision_at_the_same_moment_only_one_lands(engine, session, tier3) -> None:
    use_case, owner = tier3
    save_answers(session=session, actor=owner, use_case_id=use_case.id, answers={"basis": "Contract"}, submit=False,
                 base_revision=0, questions=SMALL)
    session.commit()
    opened = threading.Barrier(10)

    def save(i: int) -> str:
        with Session(engine) as own:
            opened.wait()  # every editor read revision 1 before anyone saved
            save_answers(session=own, actor=owner, use_case_id=use_case.id, answers={"what-for": f"Editor {i}"},
                         submit=False, base_revision=1, questions=SMALL)
            own.commit()
            return f"Editor {i}"

    results = run_together(10, save)
    won = [r for r in results if isinstance(r, str)]
    assert len(won) == 1 and all(isinstance(r, StaleEdit) for r in results if not isinstance(r, str)), results
    session.expire_all()
    view = assessment_view(session=session, actor=owner, use_case_id=use_case.id, questions=SMALL)
    assert (view.revision, view.assessment.answers) == (2, {"what-for": won[0]})
    saved = session.exec(select(AuditEvent).where(AuditEvent.action == "use_case.assessment_saved")).all()
    assert len(saved) == 2
