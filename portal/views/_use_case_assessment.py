"""The use-case page's risk assessment (tier 3): the owner answers the CoE's questions, a risk reviewer concludes."""

from __future__ import annotations

from typing import Any

import streamlit as st

from portal.core.db import Engine, session_scope
from portal.core.errors import StaleEdit
from portal.core.users import User
from portal.ui import plain, run_action
from portal.views._edit_base import forget, form_base, take_latest, widget
from portfolio.assessment import AssessmentView, assessment_view, conclude, save_answers
from portfolio.assessment_models import AssessmentStatus, Conclusion
from portfolio.assessment_questions import Question, QuestionKind

YES_NO = {"Yes": True, "No": False}
STATUS_ICONS = {AssessmentStatus.DRAFT: ":material/edit_note:", AssessmentStatus.SUBMITTED: ":material/hourglass_top:",
                AssessmentStatus.ACCEPTED: ":material/verified:", AssessmentStatus.NEEDS_CHANGES: ":material/undo:"}


def show(*, engine: Engine, user: User, use_case_id: int) -> None:
    """The assessment's state, its questions (a form for the owner), and the risk reviewer's conclusion."""
    with session_scope(engine) as session:
        view = assessment_view(session=session, actor=user, use_case_id=use_case_id)
    st.subheader("Risk assessment", anchor=False)
    _status(view)
    if view.may_answer:
        _answer_form(view, engine=engine, user=user, use_case_id=use_case_id)
    else:
        _answers(view)
    if view.may_conclude:
        _conclusion_form(view, engine=engine, user=user, use_case_id=use_case_id)


def _status(view: AssessmentView) -> None:
    row = view.assessment
    if row is None:
        st.info("The owner has not answered the risk assessment yet; a tier-3 use case needs it accepted by a risk "
                "reviewer before it moves to pilot.", icon=":material/assignment:")
        return
    status = AssessmentStatus(row.status)
    st.markdown(f"{STATUS_ICONS[status]} **{status.label.capitalize()}** · revision {row.revision} · questions "
                f"version {row.questions_version}")
    if row.conclusion:
        said = f": {plain(row.conclusion_note)}" if row.conclusion_note else ""
        latest = "" if status in (AssessmentStatus.ACCEPTED, AssessmentStatus.NEEDS_CHANGES) else "Latest review: "
        st.caption(f"{latest}{row.conclusion} by "
                   f"{plain(view.concluded_by)} on questions version {row.concluded_version}{said}")
    if view.questions_changed:
        st.warning(view.questions_changed, icon=":material/published_with_changes:")


def _answers(view: AssessmentView) -> None:
    answers = view.assessment.answers if view.assessment else {}
    if not answers:
        return
    for section in view.questions.sections:
        st.markdown(f"**{plain(section.title)}**")
        for question in section.questions:
            value = answers.get(question.key)
            shown = "—" if value is None else ("Yes" if value is True else "No" if value is False else value)
            st.markdown(f"- {plain(question.text)}  \n  {plain(shown)}")


def _answer_form(view: AssessmentView, *, engine: Engine, user: User, use_case_id: int) -> None:
    key = f"uc_ra{use_case_id}"  # one form per use case: its widgets never carry over to another use case's page
    base = form_base(key, view.revision, _form_values(view))
    if view.status == AssessmentStatus.ACCEPTED:
        st.caption("Changing an answer asks a risk reviewer for a new review; until then the move to pilot and beyond "
                   "waits.")
    with st.form(f"{key}_form"):
        for section in view.questions.sections:
            st.markdown(f"**{plain(section.title)}**")
            for question in section.questions:
                _widget(question, widget(key, question.key))
        draft_col, submit_col = st.columns(2)
        draft = draft_col.form_submit_button("Save draft", icon=":material/save:")
        submit = submit_col.form_submit_button("Submit for review", type="primary", icon=":material/send:")
    if not (draft or submit):
        return
    answers = {q.key: _answer(q, st.session_state[widget(key, q.key)]) for q in view.questions.questions}
    refused = run_action(lambda s: save_answers(session=s, actor=user, use_case_id=use_case_id, answers=answers,
                                                submit=submit, base_revision=base["revision"],
                                                questions=view.questions),
                         engine=engine, then=lambda _: forget(key),
                         success="Risk assessment submitted: it waits for a risk reviewer." if submit
                         else "Risk assessment draft saved.")
    if isinstance(refused, StaleEdit):
        st.button("Take the latest answers, keep my changes", key=f"{key}_take_latest", on_click=take_latest,
                  args=(key, view.revision, _form_values(view)))  # this run read the latest


def _form_values(view: AssessmentView) -> dict[str, Any]:
    """The saved answers as the widgets hold them (Yes/No for yes-no questions, '' for unanswered text)."""
    saved = view.assessment.answers if view.assessment else {}
    return {q.key: _widget_value(q, saved.get(q.key)) for q in view.questions.questions}


def _widget_value(question: Question, value: Any) -> Any:
    if question.kind == QuestionKind.YES_NO:
        return None if not isinstance(value, bool) else ("Yes" if value else "No")
    if question.kind == QuestionKind.CHOICE:
        return value if value in question.options else None
    return value if isinstance(value, str) else ""


def _answer(question: Question, shown: Any) -> Any:
    return YES_NO.get(shown) if question.kind == QuestionKind.YES_NO else shown


def _widget(question: Question, key: str) -> None:
    label = question.text + ("" if question.required else " (optional)")
    if question.kind == QuestionKind.CHOICE:
        st.selectbox(label, question.options, index=None, help=question.help, key=key, placeholder="Choose an answer")
    elif question.kind == QuestionKind.YES_NO:
        st.radio(label, list(YES_NO), index=None, help=question.help, key=key, horizontal=True)
    else:
        st.text_area(label, help=question.help, key=key, height=90)


def _conclusion_form(view: AssessmentView, *, engine: Engine, user: User, use_case_id: int) -> None:
    # The revision the reviewer read, kept from the run that showed it: an owner's save meanwhile refuses the click.
    seen_key = f"uc_ra{use_case_id}_seen"
    seen = st.session_state.setdefault(seen_key, view.revision)
    st.markdown("**Your conclusion** (as a risk reviewer)")
    note = st.text_area("Note (sending it back says what must change)", key="uc_ra_note")
    accept_col, back_col = st.columns(2)
    for conclusion, column, label in ((Conclusion.ACCEPTED, accept_col, "Accept"),
                                      (Conclusion.NEEDS_CHANGES, back_col, "Send back for changes")):
        if column.button(label, key=f"uc_ra_{conclusion.name.lower()}",
                         type="primary" if conclusion == Conclusion.ACCEPTED else "secondary"):
            refused = run_action(lambda s, conclusion=conclusion: conclude(
                session=s, actor=user, use_case_id=use_case_id, conclusion=conclusion, note=note, base_revision=seen),
                engine=engine, success=f"Risk assessment {conclusion.value}.",
                then=lambda _: st.session_state.pop(seen_key, None))
            if isinstance(refused, StaleEdit):
                st.session_state.pop(seen_key, None)  # the next look shows, and concludes on, the latest answers
