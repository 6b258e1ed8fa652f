"""Assignments: the CoE team asks people, teams or departments to complete a course by a date."""

from datetime import timedelta

import streamlit as st

from portal import deps
from portal.core.audit import utcnow
from portal.core.db import session_scope
from portal.ui import plain, run_action
from training.assignments import (
    assign_course,
    list_assignments,
    normalised_target,
    remove_assignment,
)
from training.dashboard import as_records, to_csv
from training.learning import course_list
from training.models import TargetKind

SEEN = "assign_seen_revisions"

context = deps.portal_context()
user = deps.require_user(context)
st.title("Course assignments")
deps.require_page(user, __file__)

courses, rows = [], []
with deps.showing_errors(), session_scope(context.engine) as session:
    courses = course_list(session=session, user=user)
    rows = list_assignments(session=session, actor=user)
titles = {row.slug: row.version.title for row in courses}
# Each assignment's revision as the editor first saw it: a change someone saves meanwhile is refused, not overwritten.
seen = st.session_state.setdefault(SEEN, {(r.course_slug, r.target_kind, r.target): (r.id, r.revision) for r in rows})


def change(action, done: str) -> None:
    """Apply an assignment change; saved or refused, the next change starts from what the table shows."""
    st.session_state.pop(SEEN, None)
    run_action(action, engine=context.engine, success=done)


with st.form("assign_form"):
    slug = st.selectbox("Course", list(titles), format_func=titles.get, key="assign_course")
    left, right = st.columns(2)
    kind = left.radio("Assign to", [k.value for k in TargetKind], horizontal=True, key="assign_kind")
    target = right.text_input("E-mail, team or department", key="assign_target",
                              help="A person's e-mail address, or a team or department name exactly as in the portal.")
    due_on = st.date_input("Due on", value=utcnow().date() + timedelta(days=30), key="assign_due")
    assign = st.form_submit_button("Assign", type="primary")
if assign and slug:
    _, base = seen.get((slug, kind, normalised_target(kind, target)), (None, 0))
    change(lambda session: assign_course(session=session, actor=user, slug=slug, target_kind=kind, target=target,
                                         due_on=due_on, base_revision=base),
           f"Assigned {plain(titles[slug])} to {kind} {plain(target.strip())}, due {due_on:%Y-%m-%d}.")

st.subheader("Assigned")
if not rows:
    st.caption("Nothing is assigned yet.")
    st.stop()
records = [{"id": r.id, "course": r.course_title, "to": f"{r.target_kind} {r.target}", "due on": r.due_on,
            "people": r.people, "completed": r.completed, "overdue": r.overdue} for r in rows]
st.dataframe(records, hide_index=True, width="stretch", key="assignments_table")
st.download_button("Download CSV", to_csv(as_records(rows)), file_name="assignments.csv", mime="text/csv",
                   key="assignments_csv", icon=":material/download:")
labels = {r.id: f"{r.course_title} — {r.target_kind} {r.target} (due {r.due_on:%Y-%m-%d})" for r in rows}
chosen = st.selectbox("Withdraw an assignment", list(labels), format_func=labels.get, index=None,
                      key="withdraw_pick", placeholder="Pick one")
if chosen is not None and st.button("Withdraw", key="withdraw"):
    base = next((revision for assignment_id, revision in seen.values() if assignment_id == chosen), 0)
    change(lambda session: remove_assignment(session=session, actor=user, assignment_id=chosen, base_revision=base),
           f"Withdrawn: {plain(labels[chosen])}. Learners keep their progress.")
