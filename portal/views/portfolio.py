"""The use-case portfolio: every submitted use case as a board by stage, or as a table with filters."""

import streamlit as st

from catalog.models import RiskTier
from portal import deps
from portal.core.db import session_scope
from portal.ui import open_picker, plain
from portal.views import _links as links
from portal.views import _portfolio_transfer as transfer
from portal.views._portfolio_chart import value_feasibility
from portfolio.board import PortfolioFilter, portfolio_facets, portfolio_rows
from portfolio.models import FORWARD_STAGES, Stage
from portfolio.table import table_records
from portfolio.scoring import Standing, priority_order, standings

BOARD, TABLE, CHART = "Board", "Table", "Value × feasibility"
NEWEST, BY_PRIORITY = "newest first", "the CoE's priority"
CARDS_PER_COLUMN = 30

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
with deps.showing_errors(), session_scope(context.engine) as session:
    rows = portfolio_rows(session=session, actor=user, filters=filters)
    standing = standings(session=session, actor=user, use_case_ids=[r.use_case.id for r in rows])

view = st.segmented_control("Show", [BOARD, TABLE, CHART], default=BOARD, key="pf_view") or BOARD
if not rows:
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
    columns = st.columns(len(FORWARD_STAGES) + 1)
    lanes = [*[(s.value, [s]) for s in FORWARD_STAGES], ("paused / retired", [Stage.PAUSED, Stage.RETIRED])]
    for column, (title, stages) in zip(columns, lanes):
        in_lane = [r for r in rows if Stage(r.use_case.stage) in stages]
        column.markdown(f"**{title}** ({len(in_lane)})")
        for row in in_lane[:CARDS_PER_COLUMN]:
            card(column, row)
        if len(in_lane) > CARDS_PER_COLUMN:
            column.caption(f"and {len(in_lane) - CARDS_PER_COLUMN} more: filter, or use the table")
elif view == CHART:
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
