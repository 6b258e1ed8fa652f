"""Catalog operations: the review queue for reviewers; gateway sync, registration and probes for admins."""

import streamlit as st

from catalog.health import probe_models, register_from_gateway, sync_with_gateway
from metering.probes import metered_probe_call
from catalog.models import CatalogModel, DataClassification, ModelStatus, RiskTier
from catalog.risk_changes import decide_risk_change, pending_risk_changes, propose_risk_change, risk_change_summary
from catalog.service import CatalogFilter, browse_catalog
from portal import deps
from portal.core.auth import Permission, has_permission
from portal.core.db import session_scope
from portal.core.users import describe_user
from portal.ui import plain, run_action
from portal.views import _links as links

QUEUE_LIMIT = 200
SYNC_REPORT, PROBE_RESULTS = "catalog_sync_report", "catalog_probe_results"

context = deps.portal_context()
user = deps.require_user(context)

st.title("Catalog operations")
deps.require_page(user, __file__)


def card_link(name: str, label: str) -> None:
    links.model_card(name).show(label, icon=":material/description:")


def review_queue() -> None:
    """Proposed models and models under review, by name, each linked to its card."""
    st.subheader("Review queue")
    queue = CatalogFilter(statuses=(ModelStatus.PROPOSED, ModelStatus.UNDER_REVIEW))
    with session_scope(context.engine) as session:
        page = browse_catalog(session=session, actor=user, filters=queue, limit=QUEUE_LIMIT)
    if not page.models:
        st.info("Nothing waits for review.")
        return
    st.caption(f"{page.total} model(s) wait for review" + (f"; the first {QUEUE_LIMIT} are listed"
                                                            if page.total > QUEUE_LIMIT else ""))
    for m in page.models:
        team = f" for {m.request_team}" if m.request_team else ""
        card_link(m.name, f"{plain(m.display_name)} ({plain(m.name)}) — {m.status.label}{plain(team)}")


def sync_section() -> None:
    """Compare the catalog with the gateway's model list; the last report stays until the next sync."""
    st.subheader("Gateway")
    st.caption(f"Gateway: {plain(context.gateway.base_url)}")
    sync_col, probe_col = st.columns(2)
    if sync_col.button("Sync with gateway", key="catalog_sync", icon=":material/sync:"):
        with deps.showing_errors(), session_scope(context.engine) as session:
            report = sync_with_gateway(session=session, actor=user, gateway=context.gateway)
            st.session_state[SYNC_REPORT] = {"served": report.served, "unregistered": report.unregistered,
                                             "unavailable": report.unavailable}
    if probe_col.button("Probe now", key="catalog_probe", icon=":material/monitor_heart:"):
        probe()
    report = st.session_state.get(SYNC_REPORT)
    if report is None:
        st.caption("Sync to see which catalog models the gateway serves and which served models have no card.")
    else:
        show_report(report)
    if (results := st.session_state.get(PROBE_RESULTS)) is not None:
        show_probe_results(results)


def show_report(report: dict[str, list[str]]) -> None:
    served_col, unregistered_col, unavailable_col = st.columns(3)
    served_col.metric("Served", len(report["served"]))
    unregistered_col.metric("Unregistered", len(report["unregistered"]), help="Served, but no card in the catalog")
    unavailable_col.metric("Unavailable", len(report["unavailable"]), help="Usable in the catalog, not served")
    if report["served"]:
        st.markdown("**Served:** " + ", ".join(plain(n) for n in report["served"]))
    st.markdown("**Unregistered** — served by the gateway, no card yet")
    if not report["unregistered"]:
        st.caption("None.")
    for name in report["unregistered"]:
        name_col, button_col = st.columns([3, 1], vertical_alignment="center")
        name_col.markdown(plain(name))
        if button_col.button("Register", key=f"register_{name}", icon=":material/add_circle:"):
            register(name, report)
    st.markdown("**Unavailable** — usable in the catalog, not served by the gateway")
    if not report["unavailable"]:
        st.caption("None.")
    for name in report["unavailable"]:
        card_link(name, plain(name))


def register(name: str, report: dict[str, list[str]]) -> None:
    """Create a proposed card for a served model; it then goes through review like any other."""
    def registered(_) -> None:
        report["unregistered"] = [n for n in report["unregistered"] if n != name]
        report["served"] = sorted([*report["served"], name])

    run_action(lambda session: register_from_gateway(session=session, actor=user, name=name,
                                                     gateway=context.gateway),
               engine=context.engine, then=registered,
               success=f"Registered {plain(name)} as a proposed model; it is in the review queue.")


def probe() -> None:
    with deps.showing_errors(), session_scope(context.engine) as session:
        # Paid for by system:probe on the metered path: reserved, settled and recorded as usage (source "probe").
        outcomes = probe_models(session=session, actor=user, call=metered_probe_call(context.metered))
        st.session_state[PROBE_RESULTS] = [
            {"model": o.model_name, "ok": o.result.success, "latency (s)": o.result.latency_s,
             "time to first token (s)": o.result.time_to_first_token_s, "tokens/s": o.result.tokens_per_second,
             "error": o.result.error} for o in outcomes]


def show_probe_results(rows: list[dict]) -> None:
    st.markdown("**Last probe**")
    if not rows:
        st.info("No served, usable chat model to probe. Sync with the gateway first.")
        return
    failed = sum(not row["ok"] for row in rows)
    st.caption(f"Probed {len(rows)} model(s), {failed} failed.")
    st.dataframe(rows, hide_index=True, width="stretch")


def risk_changes() -> None:
    """Pending risk changes, each decided by someone other than its proposer, and the form to propose one."""
    st.subheader("Risk changes")
    st.caption("Clearing a model for more sensitive data or lowering its risk tier needs a reason and a second "
               "reviewer or admin.")
    with session_scope(context.engine) as session:
        rows = [(change, session.get(CatalogModel, change.model_id).name,
                 describe_user(session=session, user_id=change.proposed_by_id))
                for change in pending_risk_changes(session=session)]
    if not rows:
        st.caption("No risk change waits for a decision.")
    for change, name, proposer in rows:
        with st.container(border=True):
            st.markdown(f"**{plain(name)}**: {risk_change_summary(change)}  \nProposed by {plain(proposer)}: "
                        f"{plain(change.reason)}")
            if change.proposed_by_id == user.id:
                st.caption("You proposed this; another reviewer or admin decides.")
                continue
            note = st.text_input("Note (required to reject)", key=f"risk_note_{change.id}")
            approve_col, reject_col = st.columns(2)
            if approve_col.button("Approve", key=f"risk_approve_{change.id}", type="primary"):
                decide(change.id, name, True, note)
            if reject_col.button("Reject", key=f"risk_reject_{change.id}"):
                decide(change.id, name, False, note)
    propose_form()


def decide(change_id: int, name: str, approve: bool, note: str) -> None:
    run_action(lambda session: decide_risk_change(session=session, actor=user, change_id=change_id,
                                                  approve=approve, note=note),
               engine=context.engine,
               success=f"{'Approved' if approve else 'Rejected'} the risk change of {plain(name)}.")


def propose_form() -> None:
    with session_scope(context.engine) as session:
        cards = {m.name: m for m in browse_catalog(session=session, actor=user, filters=CatalogFilter(),
                                                   limit=1000).models}
    name = st.selectbox("Model", list(cards), index=None, key="risk_model", placeholder="Pick a model")
    if name is None:
        return
    card = cards[name]
    with st.form("risk_form"):
        tier = st.selectbox("Risk tier", list(RiskTier), index=list(RiskTier).index(card.risk_tier),
                            format_func=lambda r: r.label, key=f"risk_tier_{name}")
        level = st.selectbox("Cleared up to", list(DataClassification), key=f"risk_cleared_{name}",
                             index=list(DataClassification).index(card.max_classification),
                             format_func=lambda c: c.label)
        reason = st.text_area("Reason (goes into the audit log)", max_chars=1000, key=f"risk_reason_{name}")
        submitted = st.form_submit_button("Propose", type="primary")
    if not submitted:
        return
    run_action(lambda session: propose_risk_change(session=session, actor=user, name=name, reason=reason,
                                                   risk_tier=tier, max_classification=level),
               engine=context.engine,
               success=f"Proposed a risk change of {plain(name)}; another reviewer or admin decides.")


review_queue()
risk_changes()
if has_permission(user, Permission.MANAGE_CATALOG):
    sync_section()
