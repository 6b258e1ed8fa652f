"""My usage: your tokens and cost by day and model; for reviewers and admins, everyone's by team, department or
source (what the calls were made for, as the installed features declare it)."""

import json

import altair as alt
import pandas as pd
import streamlit as st

from portal import deps, installed
from portal.core.auth import Permission, has_permission
from portal.core.db import session_scope
from portal.core.features import usage_source_labels
from portal.core.users import User
from metering.budgets import BudgetStanding, budget_standing
from portal.ui import plain
from sandbox.dashboard import ORG_GROUPINGS, GroupBy, UsageReport, my_usage, org_usage

PERIODS = {7: "Last 7 days", 30: "Last 30 days", 90: "Last 90 days"}
GROUP_LABELS = {"model": "model", "team": "team", "department": "department", "source": "source"}
# Stored source -> its label, from the installed manifests; a source no installed feature declares shows as stored.
SOURCE_LABELS = usage_source_labels(installed.INSTALLED_FEATURES)
ORG_REFRESH_S = 300

context = deps.portal_context()
user = deps.require_user(context)

st.title("My usage")
deps.require_page(user, __file__)
days = st.selectbox("Period (UTC days, today included)", list(PERIODS), index=1, format_func=PERIODS.get,
                    key="usage_days")


def metrics(report: UsageReport) -> None:
    """The window's totals in one row."""
    totals = report.totals
    calls, failures, tokens_in, tokens_out, cost = st.columns(5)
    calls.metric("Calls", f"{totals.calls:,}")
    failures.metric("Failed calls", f"{totals.failures:,}")
    tokens_in.metric("Tokens in", f"{totals.tokens_in:,}")
    tokens_out.metric("Tokens out", f"{totals.tokens_out:,}")
    cost.metric("Cost", f"${totals.cost_usd:,.2f}")
    if totals.in_flight:
        st.caption(f"Of these, {totals.in_flight:,} call(s) are still running and count at their worst case "
                   f"(\\${totals.in_flight_usd:,.4f} reserved) until they finish.")


def budgets(standing: BudgetStanding) -> None:
    """What is left of the day's tokens and the month's budget, calls still running counted at their worst case."""
    if standing.quota:
        running = (f", {standing.tokens_in_flight:,} of them reserved for calls still running"
                   if standing.tokens_in_flight else "")
        st.caption(f"Tokens today: {standing.tokens_used:,} of {standing.quota:,} used{running}; "
                   f"{standing.tokens_left:,} left (resets at 00:00 UTC).")
    if standing.cap:
        whose = f"Team {plain(standing.team)}'s" if standing.team else "Your personal"
        running = (f", \\${standing.spent_in_flight:,.4f} of it reserved for calls still running"
                   if standing.spent_in_flight else "")
        st.caption(f"{whose} budget this month: \\${standing.spent:,.2f} of \\${standing.cap:,.2f} spent{running}; "
                   f"\\${standing.usd_left:,.2f} left.")


def stacked_bars(label: str, measure: str) -> dict:
    """An Altair bar chart of `measure` per UTC day stacked by `label`, as a Vega-Lite spec without its data."""
    return json.loads(_stacked_bars_json(label, measure))  # a fresh dict: Streamlit may add to the spec


@st.cache_data(show_spinner=False)  # a page module runs afresh on every rerun, so functools.cache would not last
def _stacked_bars_json(label: str, measure: str) -> str:
    # st.altair_chart validates the spec against the Vega-Lite schema on every rerun (about 13 ms a chart); the
    # spec depends only on the labels, so Altair builds and validates it once and st.vega_lite_chart shows it.
    chart = alt.Chart().mark_bar().encode(
        x=alt.X("day:O", title="day (UTC)"), y=alt.Y(field=measure, aggregate="sum", type="quantitative",
                                                     title=measure),
        color=alt.Color(f"{label}:N", title=label),
        tooltip=["day:O", f"{label}:N", alt.Tooltip(field=measure, type="quantitative"), "calls:Q"])
    spec = chart.to_dict()
    spec.pop("data", None), spec.pop("datasets", None)
    return json.dumps(spec)


def charts(report: UsageReport, key: str) -> None:
    """Tokens and cost per UTC day, stacked by model, team or department, then the same as a table."""
    label = GROUP_LABELS[report.group_by]
    frame = pd.DataFrame([{"day": b.day.isoformat(), label: key_label(report, b.key), "tokens": b.totals.tokens,
                           "tokens in": b.totals.tokens_in, "tokens out": b.totals.tokens_out,
                           "cost (USD)": round(b.totals.cost_usd, 4), "calls": b.totals.calls,
                           "failed": b.totals.failures} for b in report.buckets])
    tokens_col, cost_col = st.columns(2)
    tokens_col.vega_lite_chart(frame, stacked_bars(label, "tokens"), key=f"{key}_tokens_chart")
    cost_col.vega_lite_chart(frame, stacked_bars(label, "cost (USD)"), key=f"{key}_cost_chart")
    st.dataframe(frame, hide_index=True, width="stretch", key=f"{key}_table")


def key_label(report: UsageReport, key: str) -> str:
    """How a bucket's key reads: a source by its declared label, anything else as it is."""
    return SOURCE_LABELS.get(key, key) if report.group_by == "source" else key


def ranked(title: str, rows, key: str, report: UsageReport | None = None) -> None:
    """A top-by-cost list: users, or teams, departments or sources (named as `report`'s buckets are)."""
    st.caption(title)
    st.dataframe([{"name": key_label(report, r.name) if report else r.name, "cost (USD)": round(r.totals.cost_usd, 4), "tokens": r.totals.tokens,
                   "calls": r.totals.calls, "failed": r.totals.failures} for r in rows],
                 hide_index=True, width="stretch", key=key)


def mine_section() -> None:
    """The signed-in user's own usage."""
    with deps.showing_errors(), session_scope(context.engine) as session:
        budgets(budget_standing(session=session, user=user, defaults=deps.budget_policy(context.settings)))
        report = my_usage(session=session, user=user, days=days)
        if report.empty:
            st.info(f"You have no usage yet in the {PERIODS[days].lower()}. Calls you make in the sandbox show "
                    "up here.", icon=":material/query_stats:")
            return
        metrics(report)
        charts(report, key="mine")


# Everyone's usage reads every event in the window (about 1.5 s per million on SQLite), and is the same for
# every reviewer, so it is summed at most once per refresh interval; the service still checks the actor on a miss.
@st.cache_data(ttl=ORG_REFRESH_S, max_entries=64, show_spinner="Summing everyone's usage…")
def everyones_usage(database_url: str, days: int, group_by: GroupBy, source: str, _actor: User) -> UsageReport:
    """org_usage, cached per database, window, grouping and source."""
    with session_scope(context.engine) as session:
        return org_usage(session=session, actor=_actor, days=days, group_by=group_by, source=source)


def org_section() -> None:
    """Everyone's usage by team, department or source, with the top users and groups by cost."""
    group_col, source_col = st.columns(2)
    group_by = group_col.selectbox("Group by", list(ORG_GROUPINGS), key="usage_group_by")
    source = source_col.selectbox("Calls made for", ["", *SOURCE_LABELS], key="usage_source",
                                  format_func=lambda value: SOURCE_LABELS.get(value, "anything"))
    deps.require_permission(user, Permission.VIEW_TEAM_USAGE)
    with deps.showing_errors():
        report = everyones_usage(context.settings.database_url, days, group_by, source, user)
        st.caption(f"Everyone's figures are refreshed every {ORG_REFRESH_S // 60} minutes.")
        if report.empty:
            st.info(f"There is no usage yet in the {PERIODS[days].lower()}.", icon=":material/query_stats:")
            return
        metrics(report)
        charts(report, key="org")
        groups_col, users_col = st.columns(2)
        with groups_col:
            ranked(f"Top {group_by}s by cost", report.top_groups, key="org_top_groups", report=report)
        with users_col:
            ranked("Top users by cost", report.top_users, key="org_top_users")


if has_permission(user, Permission.VIEW_TEAM_USAGE):
    # on_change="rerun" makes the tabs lazy: only the open tab's queries run.
    mine_tab, org_tab = st.tabs(["Mine", "Teams and departments"], key="usage_tab", on_change="rerun")
    if mine_tab.open:
        with mine_tab:
            mine_section()
    if org_tab.open:
        with org_tab:
            org_section()
else:
    mine_section()
