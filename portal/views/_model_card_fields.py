"""The model card's read-only sections: identity, capabilities, use and risk, lifecycle, health, votes, dependents."""

from __future__ import annotations

import streamlit as st

from portal.ui import plain, untrusted_markdown


def text(value: object) -> str:
    """User-supplied text for st.markdown: plain, with its line breaks kept."""
    return plain(value).replace("\n", "  \n")


def tokens(n: int | None) -> str:
    return f"{n:,} tokens" if n else "—"


def day(d) -> str:
    return f"{d:%Y-%m-%d}" if d else "—"


def seconds(value: float | None) -> str:
    return f"{value:.2f} s" if value is not None else "—"


def fields(rows: list[tuple[str, str]]) -> None:
    """Label/value lines; values are already Markdown-safe."""
    st.markdown("  \n".join(f"**{label}:** {value}" for label, value in rows))


def identity_and_capabilities(model) -> None:
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("Identity")
        fields([("Gateway name", plain(model.name)), ("Provider", plain(model.provider or "—")),
                ("Family", plain(model.family or "—")), ("Version", plain(model.version or "—")),
                ("Hosting", model.hosting.label),
                ("Owner", plain(model.owner or "—")),
                ("Released on", day(model.released_on))])
        st.subheader("Cost")
        fields([("Input", f"\\${model.input_price_per_mtok:.2f} per million tokens"),
                ("Output", f"\\${model.output_price_per_mtok:.2f} per million tokens")])
    with right:
        st.subheader("Capabilities")
        yes_no = {True: "yes", False: "no"}
        fields([("Mode", model.mode.label), ("Input", plain(", ".join(model.input_modalities) or "—")),
                ("Output", plain(", ".join(model.output_modalities) or "—")),
                ("Context window", tokens(model.max_input_tokens)), ("Max output", tokens(model.max_output_tokens)),
                ("Tool calling", yes_no[model.supports_tools]), ("Vision", yes_no[model.supports_vision]),
                ("JSON output", yes_no[model.supports_json_output])])


def use_and_risk(model) -> None:
    st.subheader("Use and risk")
    cleared = ", ".join(c.label for c in model.allowed_classifications)
    fields([("Risk tier", model.risk_tier.label),
            ("Cleared for", cleared), ("License", plain(model.license or "—")),
            ("Guardrails", plain(", ".join(model.guardrails) or "—"))])
    uses, out = st.columns(2, gap="large")
    uses.markdown("**Intended uses**")
    # Model cards come from imports and vendors' cards too: the same rule as a model's answer.
    untrusted_markdown(model.intended_uses or "—", heading_offset=3, container=uses)
    out.markdown("**Out of scope**")
    untrusted_markdown(model.out_of_scope or "—", heading_offset=3, container=out)
    if model.evaluations:
        st.markdown("**Evaluations**")
        st.dataframe(model.evaluations, hide_index=True, width="stretch")


def lifecycle(model, *, requester: str, approver: str) -> None:
    st.subheader("Lifecycle")
    status = model.status
    rows = [("Status", status.label)]
    if model.restricted_teams or model.restricted_departments:
        rows.append(("Restricted to", plain(", ".join([*model.restricted_teams, *model.restricted_departments]))))
    if model.approved_by_id:
        rows.append(("Approved by", plain(approver)))
    if model.approved_at:
        rows.append(("Approved on", day(model.approved_at)))
    rows.append(("Next review", day(model.next_review_on)))
    if model.deprecated_on:
        rows += [("Deprecated from", day(model.deprecated_on)), ("Replaced by", plain(model.replacement_name))]
    if model.retired_on:
        rows.append(("Retired on", day(model.retired_on)))
    served = {True: "yes", False: "no", None: "not checked yet"}[model.served]
    checked = f" (checked {model.served_checked_at:%Y-%m-%d %H:%M} UTC)" if model.served_checked_at else ""
    rows.append(("Served by the gateway", served + checked))
    fields(rows)
    st.markdown("**Request**")
    if model.requested_by_id is None:
        st.caption("Registered by the CoE; no request.")
    else:
        fields([("Requested by", plain(requester)), ("For team", plain(model.request_team or "—")),
                ("Use case", text(model.request_use_case or "—")),
                ("Justification", text(model.request_justification or "—"))])


def health(stats) -> None:
    st.subheader("Health")
    rate = f"{stats.success_rate:.0%}" if stats.success_rate is not None else "—"
    rate_col, latency_col, ttft_col = st.columns(3)
    rate_col.metric("Success rate (7 days)", rate, help=f"{stats.successes} of {stats.probes} probe(s) succeeded")
    latency_col.metric("Latency p50 / p95", f"{seconds(stats.p50_latency_s)} / {seconds(stats.p95_latency_s)}")
    ttft_col.metric("Time to first token p50 / p95", f"{seconds(stats.p50_ttft_s)} / {seconds(stats.p95_ttft_s)}")
    last = stats.last
    if last is None:
        st.caption("Never probed.")
    elif last.success:
        st.caption(f"Last probe {last.at:%Y-%m-%d %H:%M} UTC: answered in {seconds(last.latency_s)}.")
    else:
        st.caption(f"Last probe {last.at:%Y-%m-%d %H:%M} UTC failed: {plain(last.error)}")


def comparison_votes(votes) -> None:
    st.subheader("Comparison votes")
    if not votes.comparisons:
        st.caption("No one has voted on a comparison with this model yet.")
        return
    wins_col, losses_col, ties_col, bad_col = st.columns(4)
    wins_col.metric("Wins", votes.wins)
    losses_col.metric("Losses", votes.losses)
    ties_col.metric("Ties", votes.ties)
    bad_col.metric("All bad", votes.all_bad)
    st.caption(f"From {votes.comparisons} voted comparison(s) against other models in Compare models.")


def dependents_list(dependents) -> None:
    if not dependents:
        st.caption("Nothing recorded depends on this model yet.")
        return
    st.dataframe([{"kind": d.kind, "name": d.name, "detail": d.detail} for d in dependents], hide_index=True,
                 width="stretch")
