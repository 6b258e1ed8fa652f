"""The portfolio's pages: propose (drafts kept on bad input), the board and table with filters, the use-case page."""

from __future__ import annotations

from sqlmodel import Session, select

from catalog.models import DataClassification
from portal.core.db import session_scope
from portal.core.users import User
from portfolio.models import Autonomy, PeopleAffected, StageMove, UseCase
from portfolio.service import save_use_case
from portal.core.principals import SYSTEM_CLI
from portfolio.stages import decide_move, request_move
from tests.portfolio.conftest import complete_form
from tests.views.support import errors, unescaped
from tests.training.conftest import complete
from tests.views.test_pages import texts
from training.sync import sync_courses

PROPOSE, BOARD, USE_CASE = "views/portfolio_propose.py", "views/portfolio.py", "views/use_case.py"


def user(portal_db, email: str) -> User:
    with Session(portal_db) as session:
        return session.exec(select(User).where(User.email == email)).one()


def submitted(portal_db, owner: User, tier: int, **changes) -> int:
    with session_scope(portal_db) as session:
        return save_use_case(session=session, actor=owner, form=complete_form(owner, tier, **changes), submit=True).id


def fill(at, **values) -> None:
    for name, value in values.items():
        widget = next(w for w in at.main if getattr(w, "key", None) == f"pf_{name}")
        widget.set_value(value) if not hasattr(widget, "input") else widget.input(value)


def test_a_viewer_saves_a_draft_then_a_bad_submit_keeps_every_answer(open_page, portal_db) -> None:
    at = open_page("viewer", PROPOSE)
    fill(at, title="Meeting minutes", problem="Minutes take an hour after every meeting.")
    at.button(key="FormSubmitter:pf_form-Save draft").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Draft saved: Meeting minutes" in texts(at)
    with Session(portal_db) as session:
        draft = session.exec(select(UseCase)).one()
    assert (draft.draft, draft.problem) == (True, "Minutes take an hour after every meeting.")
    at.button(key="FormSubmitter:pf_form-Submit").click().run()
    assert errors(at)[0].startswith("Before submitting, fix or fill in: who has the problem;")
    assert at.text_input(key="pf_title").value == "Meeting minutes"
    assert at.text_area(key="pf_problem").value == "Minutes take an hour after every meeting."


def test_a_complete_proposal_opens_its_page_with_the_tier_and_its_reasons(open_page, portal_db) -> None:
    at = open_page("viewer", PROPOSE)
    fill(at, title="Refund replies", problem="Agents write refund replies by hand.", who_has_it="Service agents",
         value_amount=20000.0, value_assumption="40 agents save 10 minutes a day",
         classification=DataClassification.INTERNAL, people_affected=PeopleAffected.CUSTOMERS, human_review=True,
         autonomy=Autonomy.ASSISTS)
    at.button(key="FormSubmitter:pf_form-Submit").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = texts(at)
    assert "Proposed tier 2" in shown and "its output reaches customers (a person reviews each one)" in shown
    assert "one reviewer who is not the owner" in shown
    assert "Submitted: Refund replies." in shown  # said once, on the page the submission opened


def test_the_board_and_the_table_filter_by_stage_tier_department_and_owner(open_page, portal_db) -> None:
    chen, dana = user(portal_db, "chen.contributor@example.com"), user(portal_db, "dana.developer@example.com")
    submitted(portal_db, chen, 1, title="Invoice matching")
    submitted(portal_db, dana, 3, title="Credit limit advice", department="Risk")
    at = open_page("viewer", BOARD)
    assert "**Invoice matching**" in texts(at) and "**Credit limit advice**" in texts(at)
    assert "tier 3 · Risk · dana" in texts(at)
    at.segmented_control(key="pf_view").set_value("Table").run()
    assert sorted(at.dataframe[0].value["use case"]) == ["Credit limit advice", "Invoice matching"]
    at.selectbox(key="pf_f_tier").select_index(2).run()
    assert list(at.dataframe[0].value["use case"]) == ["Credit limit advice"]
    at.selectbox(key="pf_f_tier").set_value(None).run()
    at.selectbox(key="pf_f_owner").set_value(chen.email).run()
    assert list(at.dataframe[0].value["use case"]) == ["Invoice matching"]
    at.selectbox(key="pf_f_department").set_value("Risk").run()
    assert "No use case matches these filters." in texts(at)


def test_a_reviewer_approves_a_waiting_move_on_the_use_case_page(open_page, portal_db) -> None:
    chen = user(portal_db, "chen.contributor@example.com")
    use_case_id = submitted(portal_db, chen, 2)
    with session_scope(portal_db) as session:
        request_move(session=session, actor=chen, use_case_id=use_case_id, to_stage="assessment", base_revision=1)
    owner_view = open_page(chen, USE_CASE, use_case=str(use_case_id))
    assert "Waiting for approval:** idea → assessment" in texts(owner_view)
    assert not [b for b in owner_view.button if b.key == "uc_approve"]  # the owner is no reviewer here
    at = open_page("reviewer", USE_CASE, use_case=str(use_case_id))
    at.button(key="uc_approve").click().run()
    assert not at.error, [e.value for e in at.error]
    assert "You approved the move to assessment." in texts(at) and "**Stage:** `assessment`" in texts(at)
    assert list(at.dataframe[0].value["what"])[:2] == ["stage_moved", "move_approved"]  # the timeline, newest first
    with Session(portal_db) as session:
        assert session.exec(select(StageMove)).one().state == "approved"


def test_a_use_case_that_does_not_exist_is_said_so(open_page) -> None:
    at = open_page("viewer", USE_CASE, use_case="999")
    assert [e.value for e in at.error] == ["There is no use case 999 (or it is someone else's draft)."]


def test_a_hostile_title_is_shown_as_text_on_the_board_and_its_page(open_page, portal_db) -> None:
    hostile = "[x](javascript:alert(1)) **bold**"
    chen = user(portal_db, "chen.contributor@example.com")
    use_case_id = submitted(portal_db, chen, 1, title=hostile)
    for at in (open_page("viewer", BOARD), open_page("viewer", USE_CASE, use_case=str(use_case_id))):
        shown_text = texts(at)
        assert hostile not in shown_text and "](javascript" not in shown_text
        assert hostile in unescaped(shown_text)


def test_the_use_case_page_shows_each_criterion_and_a_reviewer_waives_one(open_page, portal_db) -> None:
    chen = user(portal_db, "chen.contributor@example.com")
    use_case_id = submitted(portal_db, chen, 1)
    with session_scope(portal_db) as session:
        for revision, stage in ((1, "assessment"), (2, "pilot")):
            request_move(session=session, actor=chen, use_case_id=use_case_id, to_stage=stage, base_revision=revision)
    owner_view = open_page(chen, USE_CASE, use_case=str(use_case_id))
    shown = texts(owner_view)
    assert "Criteria for the move to production" in shown
    assert "missing an on-call owner, a rollback plan, a monitoring link" in unescaped(shown)
    assert not [b for b in owner_view.button if (b.key or "").startswith("uc_waived_")]  # the owner may not waive
    owner_view.text_input(key="uc_on_call").input("AP rota")
    owner_view.text_input(key="uc_monitoring").input("grafana")
    owner_view.button(key="FormSubmitter:uc_ops_form-Save the operations").click().run()
    assert errors(owner_view) == ["Cannot save the operations: the monitoring link must be a web address starting "
                                  "with https://. Nothing was saved."]
    at = open_page("reviewer", USE_CASE, use_case=str(use_case_id))
    at.button(key="uc_waived_operations-ready").click().run()
    assert errors(at)[0].startswith("Say why the criterion is waived")
    at.text_input(key="uc_crit_reason_operations-ready").input("**Runs** in the team's rota")
    at.button(key="uc_waived_operations-ready").click().run()
    assert not at.error, [e.value for e in at.error]
    shown = texts(at)
    assert "**waived**" in shown and "\\*\\*Runs\\*\\* in the team's rota" in shown
    with Session(portal_db) as session:
        assert session.get(UseCase, use_case_id).on_call_owner == ""  # the bad save changed nothing


def test_the_courses_criterion_shows_the_share_of_the_team_the_setting_asks_for(open_page, portal_db,
                                                                               monkeypatch) -> None:
    chen, ravi = user(portal_db, "chen.contributor@example.com"), user(portal_db, "ravi.reviewer@example.com")
    # Owned by chen for the Model Risk team (ravi and rosa): chen alone takes the courses, 1 of 3.
    use_case_id = submitted(portal_db, chen, 2, team="Model Risk")
    with session_scope(portal_db) as session:
        sync_courses(session=session, actor=SYSTEM_CLI)
        move = request_move(session=session, actor=chen, use_case_id=use_case_id, to_stage="assessment",
                            base_revision=1)
        decide_move(session=session, actor=ravi, move_id=move.id, approve=True, seen_version=move.version)
    with Session(portal_db, expire_on_commit=False) as session:
        for slug in ("genai-fundamentals", "responsible-ai"):
            complete(session, chen, slug)
    shown = unescaped(texts(open_page(chen, USE_CASE, use_case=str(use_case_id))))
    assert "Criteria for the move to pilot" in shown
    assert "1 of 3 in the Model Risk team (the owner included) (33%; 50% needed) hold" in shown
    monkeypatch.setenv("PORTAL_PORTFOLIO_TEAM_TRAINED_SHARE", "0.3")
    shown = unescaped(texts(open_page(chen, USE_CASE, use_case=str(use_case_id))))
    assert "the owner and 1 of 3 in the Model Risk team (the owner included) (33%; 30% needed) hold" in shown
