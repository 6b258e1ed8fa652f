"""The use-case page's risk assessment (the owner answers, conflicts told, a risk reviewer accepts), and tier 1's
move to pilot on its own."""

from __future__ import annotations

from sqlmodel import Session, select

from catalog.models import CatalogModel, ModelStatus
from portal.core.db import session_scope
from portfolio.assessment import save_answers
from portfolio.assessment_models import RiskAssessment
from portfolio.assessment_questions import QuestionKind, default_questions
from portfolio.stages import request_move
from tests.views.support import errors, unescaped
from tests.views.test_pages import texts
from tests.views.test_portfolio_pages import USE_CASE, submitted, user


def answer_everything(at, use_case_id: int) -> None:
    for question in default_questions().questions:
        key = f"uc_ra{use_case_id}_{question.key}"
        if question.kind == QuestionKind.CHOICE:
            at.selectbox(key=key).set_value(question.options[0])
        elif question.kind == QuestionKind.YES_NO:
            at.radio(key=key).set_value("Yes")
        else:
            at.text_area(key=key).input("A considered answer. " * 5)


def test_the_owner_answers_and_submits_and_a_risk_reviewer_accepts(open_page, portal_db) -> None:
    dana = user(portal_db, "dana.developer@example.com")
    use_case_id = submitted(portal_db, dana, 3, title="Credit limit advice")
    at = open_page(dana, USE_CASE, use_case=str(use_case_id))
    assert "The owner has not answered the risk assessment yet" in texts(at)
    at.text_area(key=f"uc_ra{use_case_id}_intended-purpose").input("Suggests credit limits; a person decides.")
    at.button(key=f"FormSubmitter:uc_ra{use_case_id}_form-Submit for review").click().run()
    assert errors(at)[0].startswith("Before submitting, fix or answer: “What exactly will the system do, for whom, "
                                    "and what will it not be us…” needs at least 80 characters")
    assert at.text_area(key=f"uc_ra{use_case_id}_intended-purpose").value == "Suggests credit limits; a person decides."
    at.button(key=f"FormSubmitter:uc_ra{use_case_id}_form-Save draft").click().run()
    assert not at.error, [e.value for e in at.error]
    assert "Risk assessment draft saved." in texts(at) and "**A draft**" in texts(at)
    answer_everything(at, use_case_id)
    at.button(key=f"FormSubmitter:uc_ra{use_case_id}_form-Submit for review").click().run()
    assert not at.error, [e.value for e in at.error]
    assert "**Waiting for a risk reviewer**" in texts(at)
    assert not [b for b in at.button if b.key == "uc_ra_accepted"]  # the owner does not conclude
    viewer = open_page("viewer", USE_CASE, use_case=str(use_case_id))
    assert not [b for b in viewer.button if "uc_ra" in (b.key or "")]  # neither answers nor concludes
    assert "A considered answer" in texts(viewer)  # everyone may read the answers
    risk = open_page("risk_reviewer", USE_CASE, use_case=str(use_case_id))
    with session_scope(portal_db) as session:  # the owner changes an answer after the reviewer opened the page
        save_answers(session=session, actor=dana, use_case_id=use_case_id, answers={
            **session.exec(select(RiskAssessment.answers)).one(), "prohibited-practice": False}, submit=True,
            base_revision=2)
    risk.button(key="uc_ra_accepted").click().run()
    assert errors(risk) == ["The owner saved revision 3 of the answers after you read revision 2; nothing was "
                            "concluded. Read the latest answers, then conclude."]
    risk.run()
    risk.button(key="uc_ra_accepted").click().run()
    assert not risk.error, [e.value for e in risk.error]
    shown = texts(risk)
    assert "Risk assessment accepted." in shown and "**Accepted**" in shown
    assert "assessment_concluded" in list(risk.dataframe[0].value["what"])  # on the timeline


def test_a_save_on_top_of_someone_elses_is_told_and_the_answers_are_kept(open_page, portal_db) -> None:
    dana = user(portal_db, "dana.developer@example.com")
    use_case_id = submitted(portal_db, dana, 3)
    at = open_page(dana, USE_CASE, use_case=str(use_case_id))
    with session_scope(portal_db) as session:  # the owner's other tab saves first
        save_answers(session=session, actor=dana, use_case_id=use_case_id, answers={"prohibited-practice": False},
                     submit=False, base_revision=0)
    at.text_area(key=f"uc_ra{use_case_id}_data-retention").input("Logs for 90 days in the portal.")
    at.button(key=f"FormSubmitter:uc_ra{use_case_id}_form-Save draft").click().run()
    assert "Someone saved revision 1 of this risk assessment while you were filling in the form" in \
        unescaped(errors(at)[0])
    assert at.text_area(key=f"uc_ra{use_case_id}_data-retention").value == "Logs for 90 days in the portal."
    with Session(portal_db) as session:
        assert session.exec(select(RiskAssessment.answers)).one() == {"prohibited-practice": False}
    at.button(key=f"uc_ra{use_case_id}_take_latest").click().run()
    assert at.radio(key=f"uc_ra{use_case_id}_prohibited-practice").value == "No"  # the other save, taken over
    assert at.text_area(key=f"uc_ra{use_case_id}_data-retention").value == "Logs for 90 days in the portal."
    at.button(key=f"FormSubmitter:uc_ra{use_case_id}_form-Save draft").click().run()
    assert not at.error, [e.value for e in at.error]
    with Session(portal_db) as session:
        assert session.exec(select(RiskAssessment.answers)).one() == {
            "prohibited-practice": False, "data-retention": "Logs for 90 days in the portal."}


def test_a_waiver_on_the_page_moves_a_ready_tier1_use_case_to_pilot_as_the_system(open_page, portal_db) -> None:
    chen = user(portal_db, "chen.contributor@example.com")
    with session_scope(portal_db) as session:
        session.add(CatalogModel(name="acme/draft", display_name="Draft", provider="Acme", max_input_tokens=8192,
                                 status=ModelStatus.PROPOSED.value, max_classification=2, risk_tier=1))
    use_case_id = submitted(portal_db, chen, 1, models=["acme/draft"])
    with session_scope(portal_db) as session:
        request_move(session=session, actor=chen, use_case_id=use_case_id, to_stage="assessment", base_revision=1)
    at = open_page("reviewer", USE_CASE, use_case=str(use_case_id))
    assert "Tier 1: it moves to pilot on its own once every criterion below is met." in texts(at)
    at.text_input(key="uc_crit_reason_models-cleared").input("Synthetic data only in the pilot")
    at.button(key="uc_waived_models-cleared").click().run()
    assert not at.error, [e.value for e in at.error]
    assert "**Stage:** `pilot`" in texts(at)
    timeline = at.dataframe[0].value
    assert (list(timeline["what"])[0], list(timeline["who"])[0]) == ("stage_moved", "system:portfolio")
