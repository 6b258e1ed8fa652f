"""The use-case page's risk assessment (tier 3): the owner answers the CoE's questions, a risk reviewer concludes."""

from __future__ import annotations

from typing import Any

import streamlit as st

from portal.core.db import Engine, session_scope
from portal.core.users import User
from portal.ui import plain, run_action
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
    saved = view.assessment.answers if view.assessment else {}
    with st.form("uc_assess_form"):
        answers = {}
        for section in view.questions.sections:
            st.markdown(f"**{plain(section.title)}**")
            for question in section.questions:
                answers[question.key] = _widget(question, saved.get(question.key))
        draft_col, submit_col = st.columns(2)
        draft = draft_col.form_submit_button("Save draft", icon=":material/save:")
        submit = submit_col.form_submit_button("Submit for review", type="primary", icon=":material/send:")
    if draft or submit:
        run_action(lambda s: save_answers(session=s, actor=user, use_case_id=use_case_id, answers=answers,
                                          submit=submit, base_revision=view.revision, questions=view.questions),
                   engine=engine, success="Risk assessment submitted: it waits for a risk reviewer." if submit
                   else "Risk assessment draft saved.")


def _widget(question: Question, value: Any) -> Any:
    label, key = question.text + ("" if question.required else " (optional)"), f"uc_ra_{question.key}"
    if question.kind == QuestionKind.CHOICE:
        index = question.options.index(value) if value in question.options else None
        return st.selectbox(label, question.options, index=index, help=question.help, key=key,
                            placeholder="Choose an answer")
    if question.kind == QuestionKind.YES_NO:
        index = None if not isinstance(value, bool) else (0 if value else 1)
        chosen = st.radio(label, list(YES_NO), index=index, help=question.help, key=key, horizontal=True)
        return None if chosen is None else YES_NO[chosen]
    return st.text_area(label, value=value or "", help=question.help, key=key, height=90)


def _conclusion_form(view: AssessmentView, *, engine: Engine, user: User, use_case_id: int) -> None:
    st.markdown("**Your conclusion** (as a risk reviewer)")
    note = st.text_area("Note (sending it back says what must change)", key="uc_ra_note")
    accept_col, back_col = st.columns(2)
    for conclusion, column, label in ((Conclusion.ACCEPTED, accept_col, "Accept"),
                                      (Conclusion.NEEDS_CHANGES, back_col, "Send back for changes")):
        if column.button(label, key=f"uc_ra_{conclusion.name.lower()}",
                         type="primary" if conclusion == Conclusion.ACCEPTED else "secondary"):
            run_action(lambda s, conclusion=conclusion: conclude(
                session=s, actor=user, use_case_id=use_case_id, conclusion=conclusion, note=note,
                base_revision=view.revision), engine=engine, success=f"Risk assessment {conclusion.value}.")
