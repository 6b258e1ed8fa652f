"""A course: its lessons with your progress, what completion still needs, and the certificate when done."""

import streamlit as st

from portal import deps
from portal.core.db import session_scope
from portal.ui import plain, plain_message, run_action
from portal.views._training import CERTIFICATES_PAGE, course_links, require_course_slug
from training.learning import enrol, mark_lesson_read, progress

context = deps.portal_context()
user = deps.require_user(context)
deps.require_page(user, __file__)
slug = require_course_slug()

found = None
with deps.showing_errors(shown_as=plain_message), session_scope(context.engine) as session:
    found = progress(session=session, user=user, slug=slug)
if found is None:
    st.stop()
version = found.version
st.title(plain(version.title))
course_links(slug, labs=bool(found.labs))

if found.enrolment is None:
    st.markdown(plain(version.summary))
    st.caption(f"{len(found.lessons)} lessons · quiz (pass mark {version.pass_mark}%) · {len(found.labs)} lab(s)")
    if st.button("Enrol", key="enrol", type="primary"):
        run_action(lambda session: enrol(session=session, user=user, slug=slug), engine=context.engine, success=None)
    st.stop()

done = len(found.read)
st.progress(done / len(found.lessons), text=f"{done} of {len(found.lessons)} lessons read")
if found.certificate is not None:
    st.success(f"Completed — certificate **{found.certificate.code}**.", icon=":material/workspace_premium:")
    st.page_link(CERTIFICATES_PAGE, label="My certificates", icon=":material/workspace_premium:")
elif missing := found.missing():
    st.info("To complete the course: " + "; ".join(missing) + ".", icon=":material/flag:")

titles = {lesson.id: f"{'✓' if lesson.id in found.read else '○'} {lesson.title}" for lesson in found.lessons}
unread = [lesson.id for lesson in found.lessons if lesson.id not in found.read]
if "lesson_pick" not in st.session_state or st.session_state["lesson_pick"] not in titles:
    st.session_state["lesson_pick"] = unread[0] if unread else found.lessons[0].id
lesson_id = st.radio("Lessons", list(titles), format_func=titles.get, key="lesson_pick", horizontal=False)
lesson = next(lesson for lesson in found.lessons if lesson.id == lesson_id)

with st.container(border=True, key="lesson_body"):
    st.header(plain(lesson.title))
    st.markdown(lesson.body_markdown)  # course content from the reviewed repository; raw HTML stays off
if lesson.id in found.read:
    st.caption("You have read this lesson.")
elif st.button("Mark as read", key="mark_read", type="primary", icon=":material/done:"):
    # Next run opens the first lesson still unread.
    run_action(lambda session: mark_lesson_read(session=session, user=user, enrolment_id=found.enrolment.id,
                                                lesson_id=lesson.id),
               engine=context.engine, success=None, then=lambda _: st.session_state.pop("lesson_pick", None))
