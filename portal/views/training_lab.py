"""A course's labs: write a prompt, run it on an approved model through the gateway, see how the checks grade it."""

import streamlit as st

from portal import deps
from portal.core.db import session_scope
from portal.ui import plain, plain_message, untrusted_markdown
from portal.views._sandbox_messages import show_notice
from portal.views._training import course_links, require_course_slug
from training.labs import LabRun, lab_checks, lab_models, run_lab
from training.learning import progress

context = deps.portal_context()
user = deps.require_user(context)
deps.require_page(user, __file__)
slug = require_course_slug()

found, models = None, []
with deps.showing_errors(shown_as=plain_message), session_scope(context.engine) as session:
    found = progress(session=session, user=user, slug=slug)
    models = lab_models(session=session, user=user)
if found is None:
    st.stop()
st.title(f"Labs — {plain(found.version.title)}")
course_links(slug, labs=True)
if not found.labs:
    st.info("This course has no labs.")
    st.stop()
if found.enrolment is None:
    st.info("Enrol in the course first; the labs are part of it.")
    st.stop()

titles = {lab.id: f"{'✓' if lab.id in found.labs_passed else '○'} {lab.title}" for lab in found.labs}
lab_id = st.radio("Labs", list(titles), format_func=titles.get, key="lab_pick", horizontal=True)
lab = next(lab for lab in found.labs if lab.id == lab_id)

with st.container(border=True, key="lab_task"):
    st.subheader(plain(lab.title))
    st.markdown(lab.task_markdown)  # course content from the reviewed repository; raw HTML stays off
    st.caption("Passes when the answer " + "; ".join(check.describe() for check in lab_checks(lab)) + ".")
    if lab.system_prompt:
        st.caption(f"System prompt: {plain(lab.system_prompt)}")
if lab.id in found.labs_passed:
    st.success("You have passed this lab. You may run it again to practise.", icon=":material/verified:")
if not models:
    st.warning("No approved model is served by the gateway right now, so labs cannot run. Try again later.")
    st.stop()

names = {m.name: f"{m.display_name} ({m.name})" for m in models}
model_name = st.selectbox("Model", list(names), format_func=names.get, key="lab_model")
limit = context.settings.training_lab_max_prompt_chars
# The prompt's key is per lab: a failed run or a refusal leaves it in the box.
prompt = st.text_area("Your prompt", key=f"lab_prompt_{lab.id}", height=160,
                      help=f"At most {limit:,} characters. It runs as a sandbox turn; usage counts to your quota.")


def show_run(run: LabRun) -> None:
    """What the guardrails did, the model's answer and each check's verdict."""
    show_notice(run.notice)
    if run.error:
        st.error(run.error, icon=":material/cloud_off:")
        return
    (st.success if run.passed else st.error)("Passed." if run.passed else "Not passed yet: see the checks below.")
    with st.container(border=True):
        untrusted_markdown(run.output)
    for outcome in run.outcomes:
        mark = ":material/check_circle:" if outcome.passed else ":material/cancel:"
        st.markdown(f"{mark} answer {plain(outcome.check.describe())} — {plain(outcome.detail)}")
    if run.certificate is not None:
        st.success(f"Course completed — certificate **{run.certificate.code}**.", icon=":material/workspace_premium:")


if st.button("Run", key="lab_run", type="primary", icon=":material/play_arrow:"):
    run = None
    with st.spinner("Running your prompt…"), deps.showing_errors(), session_scope(context.engine) as session:
        run = run_lab(session=session, user=user, gateway=context.metered, policy=deps.sandbox_policy(context.settings),
                      enrolment_id=found.enrolment.id, lab_id=lab.id, model_name=model_name, prompt=prompt,
                      max_prompt_chars=limit)
    if run is not None:
        show_run(run)
