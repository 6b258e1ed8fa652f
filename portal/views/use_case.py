"""One use case: its answers, the tier and why, the move waiting for approval, and its timeline."""

import streamlit as st

from catalog.models import RiskTier
from portal import deps
from portal.core.db import session_scope
from portal.core.errors import NotFound
from portal.ui import plain, plain_message, run_action
from portal.views import _links as links
from portal.views import _use_case_assessment as assessment
from portal.views._use_case_scoring import priority_tab
from portal.views._use_case_links import linked_assets
from portfolio.detail import use_case_detail
from portfolio.graduation import decide_criterion, save_operations
from portfolio.models import CriterionKind
from portfolio.service import set_tier
from portfolio.stages import decide_move, request_move

BOARD_PAGE = "views/portfolio.py"

context = deps.portal_context()
user = deps.require_user(context)
deps.require_page(user, __file__)
policy = deps.graduation_policy(context.settings)

wanted = links.use_case.require(title="Use case")
detail, missing = None, ""
if not wanted.isdigit():
    missing = f"The address names no use case: “{plain_message(wanted)}” is not a use-case number."
else:
    try:
        with session_scope(context.engine) as session:
            detail = use_case_detail(session=session, actor=user, use_case_id=int(wanted), policy=policy)
    except NotFound as exc:
        missing = exc.message  # it names the address bar's value only once it is known to be digits
if detail is None:
    st.title("Use case")
    st.error(missing)
    st.page_link(BOARD_PAGE, label="Back to the portfolio", icon=":material/arrow_back:")
    st.stop()
uc = detail.use_case
links.use_case.keep(str(uc.id))

st.title(plain(uc.title), anchor=False)
tier_text = f"tier {int(uc.tier)}" if uc.tier else "no tier yet"
st.markdown(f"**Stage:** `{uc.stage}` · **{tier_text}** · **Department:** {plain(uc.department or '—')}"
            f" · **Owner:** {plain(detail.owner or '—')} · revision {uc.revision}")
if uc.draft:
    st.warning("This is a draft: finish and submit it to get a tier and move it on.", icon=":material/edit_note:")
if uc.stage_reason:
    st.caption(f"{uc.stage.capitalize()} because: {plain(uc.stage_reason)}")
if detail.may_move or uc.draft:
    links.use_case_form(str(uc.id)).show("Edit the answers", icon=":material/edit:")


about, risk, stage_tab, graduation, priority, history = st.tabs(["About", "Risk tier", "Stage and approvals",
                                                                 "Graduation criteria", "Priority", "Timeline"])
with about:
    st.markdown(f"**The problem.** {plain(uc.problem or '—')}")
    st.markdown(f"**Who has it.** {plain(uc.who_has_it or '—')} ({plain(uc.team or 'no team named')})")
    value = "—" if uc.value_amount is None else (
        f"{uc.value_amount:,.0f} hours saved a year" if uc.value_unit == "hours" else f"{uc.value_amount:,.0f} a year")
    st.markdown(f"**Expected value.** {value}; assumption: {plain(uc.value_assumption or '—')}")
    linked_assets(detail.links)
    st.caption(f"Proposed by {plain(detail.proposed_by)}.")

with risk:
    if detail.proposal is None:
        st.info("The portal proposes a tier once every risk answer is given.")
    else:
        st.markdown(f"**Proposed tier {int(detail.proposal.tier)}** ({RiskTier(detail.proposal.tier).label}) because:")
        st.markdown("\n".join(f"- {reason}" for reason in detail.proposal.reasons))  # the portal's own words
    if uc.reviewer_tier:
        st.markdown(f"**A reviewer set tier {int(uc.reviewer_tier)}:** {plain(uc.tier_reason)}")
    st.markdown(f"**Signatures each stage move needs:** {detail.signatures_needed}.")
    if detail.may_review and uc.proposed_tier:
        with st.form("uc_tier_form"):
            higher = [t for t in RiskTier if t >= uc.proposed_tier and t != uc.tier]
            tier = st.selectbox("Set the tier to", higher, format_func=lambda t: t.label, key="uc_tier")
            reason = st.text_input("Why", key="uc_tier_reason", placeholder="The letters quote contract terms")
            if st.form_submit_button("Change the tier", disabled=not higher):
                run_action(lambda s: set_tier(session=s, actor=user, use_case_id=uc.id, tier=tier, reason=reason,
                                              base_revision=uc.revision),
                           engine=context.engine, success=f"Tier set to {int(tier)}.")
    if uc.tier == RiskTier.FULL_REVIEW and not uc.draft:
        assessment.show(engine=context.engine, user=user, use_case_id=uc.id)

with stage_tab:
    move = detail.move
    if move is not None:
        st.markdown(f"**Waiting for approval:** {move.from_stage} → {move.to_stage}"
                    + (f" — {plain(move.reason)}" if move.reason else ""))
        for approval in detail.approvals:
            who = "risk reviewer" if approval.risk_reviewer else "reviewer"
            st.markdown(f"- approved by {plain(approval.approver)} ({who})"
                        + (f": {plain(approval.note)}" if approval.note else ""))
        if detail.may_review:
            note = st.text_input("Note (a rejection says why)", key="uc_note")
            approve_col, reject_col = st.columns(2)
            if approve_col.button("Approve", key="uc_approve", type="primary", icon=":material/check:"):
                run_action(lambda s: decide_move(session=s, actor=user, move_id=move.id, approve=True, note=note,
                                                 seen_version=move.version, policy=policy),
                           engine=context.engine, success=f"You approved the move to {move.to_stage}.")
            if reject_col.button("Reject", key="uc_reject", icon=":material/close:"):
                run_action(lambda s: decide_move(session=s, actor=user, move_id=move.id, approve=False, note=note,
                                                 seen_version=move.version),
                           engine=context.engine, success=f"You rejected the move to {move.to_stage}.")
    elif not uc.draft:
        st.caption("No move is waiting for approval.")
    if detail.may_move and detail.next_stages:
        with st.form("uc_move_form"):
            to = st.selectbox("Move to", detail.next_stages, key="uc_move_to")
            why = st.text_input("Reason (needed to pause or retire)", key="uc_move_reason")
            if st.form_submit_button("Ask for the move"):
                run_action(lambda s: request_move(session=s, actor=user, use_case_id=uc.id, to_stage=to, reason=why,
                                                  base_revision=uc.revision, policy=policy),
                           engine=context.engine, success=lambda waiting: f"Move to {to} requested: it waits for "
                           "approval." if waiting else f"Moved to {to}.")

STATE_ICONS = {"met": ":material/check_circle:", "not met": ":material/cancel:", "waived": ":material/do_not_disturb_on:"}

with graduation:
    if detail.criteria_stage is None:
        st.caption("No forward move is open, so no graduation criteria apply now.")
    else:
        st.markdown(f"**Criteria for the move to {detail.criteria_stage}** (tier {int(uc.tier)}); the move is "
                    "refused until each one is met or waived.")
    if uc.tier == RiskTier.SELF_SERVICE and uc.stage == "assessment":
        st.caption("Tier 1: it moves to pilot on its own once every criterion below is met.")
    if detail.criteria_stage and not detail.criteria:
        st.caption("The criteria file asks nothing for this move.")
    for crit in detail.criteria:
        how = "checked by the portal" if crit.checked else "signed off by a reviewer who is not the owner"
        st.markdown(f"{STATE_ICONS[crit.state]} **{crit.state}** · {plain(crit.title)} ({how})")
        st.caption(plain(crit.detail))
        if detail.may_decide_criteria and crit.state == "not met":
            why = st.text_input("Reason (needed to waive)", key=f"uc_crit_reason_{crit.key}")
            kinds = [CriterionKind.WAIVED] if crit.checked else [CriterionKind.SIGNED, CriterionKind.WAIVED]
            for kind, column in zip(kinds, st.columns(len(kinds))):
                if column.button("Sign off" if kind == CriterionKind.SIGNED else "Waive",
                                 key=f"uc_{kind.value}_{crit.key}"):
                    run_action(lambda s, kind=kind, crit=crit, why=why: decide_criterion(
                        session=s, actor=user, use_case_id=uc.id, criterion=crit.key,
                        to_stage=detail.criteria_stage, kind=kind, reason=why),
                        engine=context.engine, success=f"Criterion {kind.value}.")
    st.markdown("**Operations** (the operations-ready criterion checks these)")
    if detail.may_move:
        with st.form("uc_ops_form"):
            on_call = st.text_input("On-call owner", value=uc.on_call_owner, key="uc_on_call")
            rollback = st.text_area("Rollback plan", value=uc.rollback_plan, key="uc_rollback")
            monitoring = st.text_input("Monitoring link", value=uc.monitoring_url, key="uc_monitoring",
                                       placeholder="https://")
            if st.form_submit_button("Save the operations"):
                run_action(lambda s: save_operations(session=s, actor=user, use_case_id=uc.id, on_call_owner=on_call,
                                                     rollback_plan=rollback, monitoring_url=monitoring,
                                                     base_revision=uc.revision),
                           engine=context.engine, success="Operations saved.")
    else:
        st.markdown(f"On call: {plain(uc.on_call_owner or '—')} · monitoring: {plain(uc.monitoring_url or '—')}")
        st.markdown(f"Rollback plan: {plain(uc.rollback_plan or '—')}")

with priority:
    priority_tab(engine=context.engine, user=user, use_case_id=uc.id)

with history:
    st.dataframe([{"at": e.at, "who": e.actor_email, "what": e.action.removeprefix("use_case."), "summary": e.summary}
                  for e in reversed(detail.history)], hide_index=True, width="stretch", key="uc_timeline")

st.page_link(BOARD_PAGE, label="Back to the portfolio", icon=":material/arrow_back:")
