"""A course's quiz: questions shuffled per attempt, graded on the server, a pass mark and limited attempts."""

import streamlit as st

from portal import deps
from portal.core.db import session_scope
from portal.ui import plain, plain_message, run_action
from portal.views._training import course_links, require_course_slug
from training.learning import progress
from training.quiz import QuizResult, quiz_sheet, submit_quiz

RESULT, RENDERED = "quiz_result", "quiz_rendered_attempt"

context = deps.portal_context()
user = deps.require_user(context)
deps.require_page(user, __file__)
slug = require_course_slug()

found = sheet = None
with deps.showing_errors(shown_as=plain_message), session_scope(context.engine) as session:
    found = progress(session=session, user=user, slug=slug)
    if found.enrolment is not None:
        sheet = quiz_sheet(session=session, user=user, enrolment_id=found.enrolment.id)
if found is None:
    st.stop()
st.title(f"Quiz — {plain(found.version.title)}")
course_links(slug, labs=bool(found.labs))
if found.enrolment is None:
    st.info("Enrol in the course first; the quiz is part of it.")
    st.stop()


def show_result(result: QuizResult) -> None:
    """The score, the verdict, and each question right or wrong with its explanation."""
    verdict = st.success if result.passed else st.error
    verdict(f"You scored {result.score}% — " + ("passed." if result.passed else
            f"not passed (pass mark {found.version.pass_mark}%). {result.attempts_left} attempt(s) left."))
    if result.certificate is not None:
        st.success(f"Course completed — certificate **{result.certificate.code}**.",
                   icon=":material/workspace_premium:")
    for question in result.questions:
        mark = ":material/check_circle:" if question.correct else ":material/cancel:"
        st.markdown(f"{mark} **{question.number}.** {plain(question.text)}")
        if question.explanation:
            st.caption(plain(question.explanation))


if (result := st.session_state.pop(RESULT, None)) is not None:
    show_result(result)
if found.quiz_passed:
    st.success(f"You passed this quiz (best score {found.best_score}%).", icon=":material/verified:")
    st.stop()
if sheet.attempts_left == 0:
    st.error(f"You have used all {found.version.max_quiz_attempts} attempts at this quiz. Ask the CoE team if you "
             "need another.", icon=":material/block:")
    st.stop()

st.caption(f"Attempt {sheet.attempt_number} of {found.version.max_quiz_attempts} · pass mark {sheet.pass_mark}% · "
           "answer every question.")
rendered = st.session_state.get(RENDERED, sheet.attempt_number)
with st.form("quiz_form"):
    for question in sheet.questions:
        key = f"q_{sheet.attempt_number}_{question.id}"
        labels = dict(question.options)
        if question.kind == "single":
            st.radio(f"{question.number}. {question.text}", [i for i, _ in question.options], index=None,
                     format_func=labels.get, key=key)
        else:
            st.markdown(f"{question.number}. {plain(question.text)} *(pick every right answer)*")
            for index, label in question.options:
                st.checkbox(label, key=f"{key}_{index}")
    submitted = st.form_submit_button("Submit answers", type="primary")
st.session_state[RENDERED] = sheet.attempt_number


def answers_given() -> dict[int, list[int]]:
    """What the learner picked, by question id, as option indexes."""
    answers = {}
    for question in sheet.questions:
        key = f"q_{sheet.attempt_number}_{question.id}"
        if question.kind == "single":
            picked = st.session_state.get(key)
            answers[question.id] = [] if picked is None else [picked]
        else:
            answers[question.id] = [i for i, _ in question.options if st.session_state.get(f"{key}_{i}")]
    return answers


if submitted:
    # The attempt the learner saw: a second click on an already graded form is refused, not counted again.
    run_action(lambda session: submit_quiz(session=session, user=user, enrolment_id=found.enrolment.id,
                                           attempt_number=rendered, answers=answers_given()),
               engine=context.engine, success=None, then=lambda graded: st.session_state.update({RESULT: graded}))
