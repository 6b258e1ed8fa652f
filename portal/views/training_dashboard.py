"""The CoE's upskilling dashboard: completion by department, team and course, overdue work, completions over time,
quiz scores; every table downloadable as CSV, and the learning statements as xAPI JSON Lines.
"""

import json

import altair as alt
import pandas as pd
import streamlit as st

from portal import deps
from portal.core.db import session_scope
from portal.core.users import User
from training.dashboard import Dashboard, as_records, to_csv, training_dashboard
from training.statements import export_statements

REFRESH_S = 60

context = deps.portal_context()
user = deps.require_user(context)
st.title("Training dashboard")
deps.require_page(user, __file__)


# The aggregates read every enrolment; they are the same for the whole CoE team, so they are computed at most once
# a minute per database (the service still checks the actor on a miss).
@st.cache_data(ttl=REFRESH_S, max_entries=8, show_spinner="Counting completions…")
def dashboard(database_url: str, _actor: User) -> Dashboard:
    with session_scope(context.engine) as session:
        return training_dashboard(session=session, actor=_actor)


@st.cache_data(show_spinner=False)  # the spec depends only on the field names: build and validate it once
def bar_spec(x: str, y: str, x_type: str = "N", percent: bool = False) -> str:
    axis = alt.Axis(format="%") if percent else alt.Axis()
    value, tooltip = alt.X(f"{y}:Q", axis=axis), [f"{x}:{x_type}", f"{y}:Q"]
    if x_type == "N":  # groups (courses, teams) as horizontal bars, so their names stay readable
        chart = alt.Chart().mark_bar().encode(y=alt.Y(f"{x}:N", sort=None, title=None, axis=alt.Axis(labelLimit=320)), x=value, tooltip=tooltip)
    else:
        chart = alt.Chart().mark_bar().encode(x=alt.X(f"{x}:{x_type}", sort=None),
                                              y=alt.Y(f"{y}:Q", axis=axis), tooltip=tooltip)
    spec = chart.to_dict()
    spec.pop("data", None), spec.pop("datasets", None)
    return json.dumps(spec)


def table(title: str, rows: list, key: str, chart: tuple[str, str, str, bool] | None = None) -> None:
    """A section: optional bar chart, the table, and its CSV download."""
    st.subheader(title)
    records = as_records(rows) if rows and not isinstance(rows[0], dict) else rows
    if not records:
        st.caption("Nothing yet.")
        return
    frame = pd.DataFrame(records)
    if chart:
        st.vega_lite_chart(frame, json.loads(bar_spec(*chart)), key=f"{key}_chart")
    percent = {"rate": st.column_config.NumberColumn(format="percent")} if "rate" in frame else None
    st.dataframe(frame, hide_index=True, width="stretch", key=f"{key}_table", column_config=percent)
    # Deferred: the CSV text is built only when the button is clicked, not on every rerun.
    st.download_button("Download CSV", lambda: to_csv(records), file_name=f"training-{key}.csv", mime="text/csv",
                       key=f"{key}_csv", icon=":material/download:")


if st.button("Refresh", key="dashboard_refresh", icon=":material/refresh:"):
    dashboard.clear()
board = None
with deps.showing_errors():
    board = dashboard(context.settings.database_url, user)
if board is None:
    st.stop()
st.caption(f"Figures are refreshed at least every {REFRESH_S} seconds.")
totals = board.totals
columns = st.columns(5)
columns[0].metric("Learners", f"{totals.learners:,}")
columns[1].metric("Enrolments", f"{totals.enrolments:,}")
columns[2].metric("Completed", f"{totals.completions:,}")
columns[3].metric("Overdue", f"{totals.overdue:,}")
columns[4].metric("Average quiz score", "—" if totals.average_quiz_score is None
                  else f"{totals.average_quiz_score:.0f}%")

SECTIONS = ["By course", "By department", "By team", "Over time", "Quiz scores", "Overdue", "Export"]
# on_change="rerun" makes the tabs lazy: only the open tab's charts and tables are drawn.
tabs = dict(zip(SECTIONS, st.tabs(SECTIONS, key="dashboard_tab", on_change="rerun"), strict=True))
shown = f" (the first {len(board.overdue):,})" if totals.overdue > len(board.overdue) else ""
sections = {
    "By course": lambda: table("Completion by course", board.by_course, "by_course", ("group", "rate", "N", True)),
    "By department": lambda: table("Completion by department", board.by_department, "by_department",
                                   ("group", "rate", "N", True)),
    "By team": lambda: table("Completion by team", board.by_team, "by_team", ("group", "rate", "N", True)),
    "Over time": lambda: table("Completions per month", [{"month": m, "completions": n}
                                                         for m, n in board.completions_by_month],
                               "completions", ("month", "completions", "O", False)),
    "Quiz scores": lambda: table("Quiz scores", [{"score from (%)": b, "attempts": n} for b, n in board.quiz_scores],
                                 "quiz_scores", ("score from (%)", "attempts", "O", False)),
    "Overdue": lambda: table(f"Overdue assignments: {totals.overdue:,} people{shown}", board.overdue, "overdue"),
    "Export": lambda: export_section(),
}


def statements_jsonl() -> bytes:
    """Every learning statement as xAPI JSON Lines, built only when the download is clicked."""
    with session_scope(context.engine) as session:
        return "".join(export_statements(session=session, actor=user)).encode("utf-8")


def export_section() -> None:
    st.subheader("Learning record store export")
    st.caption("Every learning event (registered, experienced, passed, failed, completed) as xAPI statements, one per "
               "line, for a learning record store.")
    st.download_button("Download xAPI statements (JSON Lines)", statements_jsonl,
                       file_name="training-statements.jsonl", mime="application/x-ndjson", key="statements_jsonl",
                       icon=":material/download:")


for name, tab in tabs.items():
    if tab.open:
        with tab:
            sections[name]()
