"""Training courses: every course with your status, what is assigned to you and when it is due."""

import streamlit as st

from portal import deps
from portal.core.db import session_scope
from portal.ui import plain, run_action
from portal.views import _links as links
from training.certificates import expiry_notices
from training.learning import Status, course_list, enrol

context = deps.portal_context()
user = deps.require_user(context)
deps.require_page(user, __file__)

st.title("Training courses")
st.caption("Short, practical courses; some use the sandbox. Completing one gives you a certificate colleagues "
           "can verify.")
BADGE_COLOURS = {Status.NOT_STARTED: "gray", Status.IN_PROGRESS: "blue", Status.COMPLETED: "green",
                 Status.EXPIRED: "orange"}

rows, notices = [], []
with deps.showing_errors(), session_scope(context.engine) as session:
    rows = course_list(session=session, user=user)
    notices = expiry_notices(session=session, user=user)
for notice in notices:
    st.warning(notice, icon=":material/event_busy:")
if not rows:
    st.info("No courses are loaded yet. An admin runs `coe-portal training sync`.")


def open_course(slug: str, *, enrolling: bool) -> None:
    """Enrol when asked to, then go to the course's lessons."""
    if enrolling:
        run_action(lambda session: enrol(session=session, user=user, slug=slug), engine=context.engine,
                   success=None, then=lambda _: links.course(slug).open())
    else:
        links.course(slug).open()


def badge(status: Status) -> str:
    return f":{BADGE_COLOURS[status]}-badge[{status.label}]"


if not rows:
    st.stop()
# One table and one picker rather than a card per course: the page costs the same with 4 courses or 40.
st.dataframe([{"course": row.version.title, "status": row.status.label, "level": row.version.level,
               "minutes": row.version.duration_minutes, "for": row.version.audience,
               "due": ("overdue since " if row.overdue else "") + f"{row.due_on:%Y-%m-%d}" if row.due_on else ""}
              for row in rows], hide_index=True, width="stretch", key="courses_table")
by_slug = {row.slug: row for row in rows}
slug = st.selectbox("Course", list(by_slug), format_func=lambda s: by_slug[s].version.title, key="courses_pick")
row = by_slug[slug]
version = row.version
with st.container(border=True, key="course_card"):
    due = ""
    if row.due_on:
        due = (f" · :red-badge[overdue since {row.due_on:%Y-%m-%d}]" if row.overdue
               else f" · :violet-badge[assigned, due {row.due_on:%Y-%m-%d}]")
    st.markdown(f"#### {plain(version.title)}\n{badge(row.status)}{due}\n\n{plain(version.summary)}")
    st.caption(f"{version.level} · about {version.duration_minutes} min · for {version.audience} · "
               f"version {version.version}" + (" · a newer version is available" if row.newer_version else ""))
    retake = row.status == Status.EXPIRED or (row.status == Status.COMPLETED and row.newer_version)
    label = "Start" if row.status == Status.NOT_STARTED else "Retake" if retake else "Open"
    if st.button(label, key="open_course", type="primary" if label != "Open" else "secondary"):
        open_course(row.slug, enrolling=label != "Open")
