"""The use-case portfolio: every submitted use case as a board by stage, or as a table with filters."""

import streamlit as st

from catalog.models import RiskTier
from portal import deps
from portal.core.db import session_scope
from portal.ui import open_picker, plain
from portal.views import _links as links
from portal.views import _portfolio_transfer as transfer
from portal.views._portfolio_chart import value_feasibility
from portfolio.board import PortfolioFilter, board_lanes, portfolio_count, portfolio_facets, portfolio_rows
from portfolio.models import Stage
from portfolio.scoring import Standing, priority_order, standings
from portfolio.table import table_records

BOARD, TABLE, CHART = "Board", "Table", "Value × feasibility"
NEWEST, BY_PRIORITY = "newest first", "the CoE's priority"
CARDS_PER_COLUMN = 10  # the newest of each lane; the lane's count covers all of them
TABLE_ROWS = 200  # the newest; filters narrow the rest (a bigger table or chart only slows the page)

context = deps.portal_context()
user = deps.require_user(context)
deps.require_page(user, __file__)
st.title("Use-case portfolio")
st.caption("Every AI use case from idea to production. The risk tier, proposed from the answers, decides who "
           "signs each stage move: tier 1 moves on its own, tier 2 needs a reviewer, tier 3 two (one a risk reviewer).")
st.page_link(links.use_case_form.page, label="Propose a use case", icon=":material/add_circle:")
transfer.transfer_section(context, user)

rows, departments, owners = [], [], []
with deps.showing_errors(), session_scope(context.engine) as session:
    departments, owners = portfolio_facets(session=session, actor=user)
stage_col, tier_col, dept_col, owner_col = st.columns(4)
stage = stage_col.selectbox("Stage", list(Stage), index=None, placeholder="any", key="pf_f_stage")
tier = tier_col.selectbox("Tier", list(RiskTier), index=None, placeholder="any", format_func=lambda t: t.label,
                          key="pf_f_tier")
department = dept_col.selectbox("Department", departments, index=None, placeholder="any", key="pf_f_department")
owner = owner_col.selectbox("Owner", owners, index=None, placeholder="any", key="pf_f_owner")
filters = PortfolioFilter(stage=stage, tier=tier, department=department or "", owner_email=owner or "")
view = st.segmented_control("Show", [BOARD, TABLE, CHART], default=BOARD, key="pf_view") or BOARD
lanes, total, standing = [], 0, {}
with deps.showing_errors(), session_scope(context.engine) as session:
    if view == BOARD:  # each lane counted and cut to its newest cards in SQL
        lanes = board_lanes(session=session, actor=user, filters=filters, per_lane=CARDS_PER_COLUMN)
    else:
        rows = portfolio_rows(session=session, actor=user, filters=filters, limit=TABLE_ROWS)
        total = portfolio_count(session=session, actor=user, filters=filters) if len(rows) == TABLE_ROWS else 0
        standing = standings(session=session, actor=user, use_case_ids=[r.use_case.id for r in rows])
if not rows and not any(lane.count for lane in lanes):
    st.info("No use case matches these filters." if any((stage, tier, department, owner))
            else "No use case is submitted yet: propose the first one.")
    st.stop()


def card(container, row) -> None:
    """One use case on the board: title, tier, department, owner, and a link to open it."""
    uc = row.use_case
    owner = row.owner.split("@")[0] or "no owner"  # the full address wraps (and links) in a narrow lane
    with container.container(border=True):
        st.markdown(f"**{plain(uc.title)}**")
        st.caption(f"tier {int(uc.tier)} · {plain(uc.department)} · {plain(owner)}"
                   + (f" · waiting: → {row.waiting_for}" if row.waiting_for else ""))
        links.use_case(str(uc.id)).show("Open", icon=":material/open_in_new:", help=plain(uc.title))


if view == BOARD:
    for column, lane in zip(st.columns(len(lanes)), lanes):
        column.markdown(f"**{lane.title}** ({lane.count})")
        for row in lane.rows:
            card(column, row)
        if lane.count > len(lane.rows):
            column.caption(f"and {lane.count - len(lane.rows)} more: filter, or use the table")
else:
    if total > len(rows):
        st.caption(f"The newest {len(rows)} of {total:,} use cases: filter to find the others.")
    if view == CHART:
        value_feasibility(rows, standing)
    else:
        if st.radio("Order", [NEWEST, BY_PRIORITY], horizontal=True, key="pf_order") == BY_PRIORITY:
            position = {r.use_case.id: i for i, r in enumerate(rows)}
            rows = sorted(rows, key=lambda r: priority_order(standing.get(r.use_case.id, Standing()),
                                                             position[r.use_case.id]))
        st.dataframe(table_records(rows, standing), hide_index=True, width="stretch", key="pf_table")
        transfer.csv_download(rows, standing)
    labels = {r.use_case.id: f"{r.use_case.title} ({r.use_case.stage}, tier {int(r.use_case.tier)})" for r in rows}
    if chosen := open_picker(labels, label="Open a use case", placeholder="Pick a use case", key="pf_open",
                             button="Open use case", icon=":material/open_in_new:"):
        links.use_case(str(chosen)).open()
