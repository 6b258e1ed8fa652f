"""Model card: every field of one model, its health and dependents, and the lifecycle and edit forms."""

import re
from datetime import date

import streamlit as st

from catalog.health import probe_stats
from catalog.lifecycle import APPROVING, TRANSITIONS, TransitionRequest, allowed_targets
from catalog.models import USABLE_STATUSES, DataClassification, Hosting, Mode, ModelStatus, RiskTier
from catalog.service import CatalogFilter, browse_catalog, get_model, is_available_to, transition_model, update_card
from portal import deps
from portal.core.auth import Permission, has_permission
from portal.core.db import session_scope
from portal.core.users import describe_user
from portal.ui import plain
from sandbox.compare import vote_summary

CATALOG_PAGE = "views/catalog.py"
SANDBOX_PAGE = "views/sandbox.py"
# The sandbox page reads (and removes) this key to preselect the model; views/sandbox.py uses the same name.
SANDBOX_PRESELECT = "sandbox_model"
FLASH = "model_card_flash"
MODALITIES = ["text", "image", "audio"]
HOSTING_LABELS = {Hosting.SELF_HOSTED: "self-hosted (gateway GPUs)", Hosting.THIRD_PARTY_API: "third-party API"}
RISK_LABELS = {1: "1 — self-service with guardrails", 2: "2 — light-touch review", 3: "3 — full review"}
# Features register what depends on a model here; none does yet (the sandbox, prompts and templates will).

context = deps.portal_context()
user = deps.require_user(context)
deps.require_page(user, __file__)


def text(value: object) -> str:
    """User-supplied text for st.markdown: plain, with its line breaks kept."""
    return plain(value).replace("\n", "  \n")


def person(session, user_id: int | None) -> str:
    return describe_user(session=session, user_id=user_id)


def tokens(n: int | None) -> str:
    return f"{n:,} tokens" if n else "—"


def day(d) -> str:
    return f"{d:%Y-%m-%d}" if d else "—"


def demoted(markdown: str) -> str:
    """The body with its headings two levels down, so its "## Limitations" sits under the card's headings."""
    lines, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,4}\s", line):
            line = "##" + line
        lines.append(line)
    return "\n".join(lines)


def fields(rows: list[tuple[str, str]]) -> None:
    """Label/value lines; values are already Markdown-safe."""
    st.markdown("  \n".join(f"**{label}:** {value}" for label, value in rows))


name = st.query_params.get("model") or st.session_state.get("model_card_name")
if not name:
    st.title("Model card")
    st.info("Pick a model in the catalog to see its card.")
    st.page_link(CATALOG_PAGE, label="Model catalog", icon=":material/menu_book:")
    st.stop()

model = None
with deps.showing_errors(), session_scope(context.engine) as session:
    model = get_model(session=session, name=name)
    stats = probe_stats(session=session, model_id=model.id)
    requester, approver = person(session, model.requested_by_id), person(session, model.approved_by_id)
    dependents = deps.catalog_dependents().dependents(session=session, model_name=model.name)
    votes = vote_summary(session=session, model_name=model.name)
if model is None:
    st.page_link(CATALOG_PAGE, label="Back to the model catalog", icon=":material/arrow_back:")
    st.stop()
st.session_state["model_card_name"] = model.name
status = ModelStatus(model.status)

st.page_link(CATALOG_PAGE, label="Model catalog", icon=":material/arrow_back:")
st.title(plain(model.display_name))
st.markdown(f"{plain(model.name)} · :blue-badge[{status.label}] · risk tier {model.risk_tier} · cleared up to "
            f"**{DataClassification(model.max_classification).label}**")
if flash := st.session_state.pop(FLASH, None):
    st.success(flash, icon=":material/check_circle:")
if (status in USABLE_STATUSES and model.mode == Mode.CHAT and is_available_to(model, user)
        and has_permission(user, Permission.USE_SANDBOX)):
    if st.button("Try in sandbox", key="try_in_sandbox", icon=":material/chat:",
                 help="Open the sandbox with this model chosen."):
        st.session_state[SANDBOX_PRESELECT] = model.name
        st.switch_page(SANDBOX_PAGE)


def identity_and_capabilities() -> None:
    left, right = st.columns(2, gap="large")
    with left:
        st.subheader("Identity")
        fields([("Gateway name", plain(model.name)), ("Provider", plain(model.provider or "—")),
                ("Family", plain(model.family or "—")), ("Version", plain(model.version or "—")),
                ("Hosting", HOSTING_LABELS.get(model.hosting, plain(model.hosting))),
                ("Owner", plain(model.owner or "—")),
                ("Released on", day(model.released_on))])
        st.subheader("Cost")
        fields([("Input", f"\\${model.input_price_per_mtok:.2f} per million tokens"),
                ("Output", f"\\${model.output_price_per_mtok:.2f} per million tokens")])
    with right:
        st.subheader("Capabilities")
        yes_no = {True: "yes", False: "no"}
        fields([("Mode", plain(model.mode)), ("Input", plain(", ".join(model.input_modalities) or "—")),
                ("Output", plain(", ".join(model.output_modalities) or "—")),
                ("Context window", tokens(model.max_input_tokens)), ("Max output", tokens(model.max_output_tokens)),
                ("Tool calling", yes_no[model.supports_tools]), ("Vision", yes_no[model.supports_vision]),
                ("JSON output", yes_no[model.supports_json_output])])


def use_and_risk() -> None:
    st.subheader("Use and risk")
    cleared = ", ".join(c.label for c in model.allowed_classifications)
    fields([("Risk tier", RISK_LABELS.get(model.risk_tier, str(model.risk_tier))),
            ("Cleared for", cleared), ("License", plain(model.license or "—")),
            ("Guardrails", plain(", ".join(model.guardrails) or "—"))])
    uses, out = st.columns(2, gap="large")
    uses.markdown("**Intended uses**")
    uses.markdown(model.intended_uses or "—")  # Markdown by the CoE; raw HTML is not rendered
    out.markdown("**Out of scope**")
    out.markdown(model.out_of_scope or "—")
    if model.evaluations:
        st.markdown("**Evaluations**")
        st.dataframe(model.evaluations, hide_index=True, width="stretch")


def lifecycle() -> None:
    st.subheader("Lifecycle")
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


def seconds(value: float | None) -> str:
    return f"{value:.2f} s" if value is not None else "—"


def health() -> None:
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


def comparison_votes() -> None:
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


def dependents_list() -> None:
    if not dependents:
        st.caption("Nothing recorded depends on this model yet.")
        return
    st.dataframe([{"kind": d.kind, "name": d.name, "detail": d.detail} for d in dependents], hide_index=True,
                 width="stretch")


identity_and_capabilities()
use_and_risk()
lifecycle()
health()
comparison_votes()
st.subheader("Depends on it")
dependents_list()
if model.body_markdown.strip():
    st.subheader("About this model")
    st.markdown(demoted(model.body_markdown))  # Markdown only: raw HTML is shown as text, never rendered


def replacement_candidates() -> dict[str, str]:
    """Approved and restricted models of the same mode, other than this one, for the replacement drop-down."""
    same_mode = CatalogFilter(statuses=APPROVING, mode=Mode(model.mode))
    with session_scope(context.engine) as session:
        page = browse_catalog(session=session, actor=user, filters=same_mode, limit=500)
    return {m.name: f"{m.display_name} ({m.name})" for m in page.models if m.name != model.name}


def names_from(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def transition_form() -> None:
    """Move the model to one of the statuses allowed from here, with a reason and what the target needs."""
    st.subheader("Change status")
    targets = allowed_targets(status)
    if not targets:
        st.caption(f"This model is {status.label}; its lifecycle has ended.")
        return
    # The status is part of the key: after a move, the next form starts empty instead of showing stale choices.
    key = f"transition_{model.id}_{status.value}"
    target = st.selectbox("Move to", targets, index=None, placeholder="Choose a move",
                          format_func=lambda t: f"{TRANSITIONS[(status, t)]} → {t.label}", key=f"{key}_target")
    if target is None:
        return
    teams, departments, review_on, deprecated_on, replacement = [], [], None, None, ""
    with st.form(f"{key}_form"):
        reason = st.text_area("Reason (goes into the audit log)", key=f"{key}_reason", max_chars=1000)
        if target == ModelStatus.RESTRICTED:
            teams = names_from(st.text_input("Teams (comma-separated)", key=f"{key}_teams",
                                             value=", ".join(model.restricted_teams)))
            departments = names_from(st.text_input("Departments (comma-separated)", key=f"{key}_departments",
                                                   value=", ".join(model.restricted_departments)))
        if target in APPROVING:
            review_on = st.date_input("Next review on", value=None, key=f"{key}_review",
                                      help="Empty: in 180 days.")
        if target == ModelStatus.DEPRECATED:
            deprecated_on = st.date_input("Deprecated from", value=date.today(), key=f"{key}_date")
            candidates = replacement_candidates()
            replacement = st.selectbox("Replacement", list(candidates), index=None, key=f"{key}_replacement",
                                       format_func=candidates.__getitem__, placeholder="Pick an approved model")
        if target in (ModelStatus.DEPRECATED, ModelStatus.RETIRED):
            st.markdown("**What depends on this model**")
            dependents_list()
        verb = TRANSITIONS[(status, target)]
        submitted = st.form_submit_button(verb.capitalize(), type="primary", key=f"{key}_submit")
    if not submitted:
        return
    request = TransitionRequest(target=target, reason=reason, teams=teams, departments=departments,
                                next_review_on=review_on, deprecated_on=deprecated_on,
                                replacement_name=replacement or "")
    moved = False
    with deps.showing_errors(), session_scope(context.engine) as session:
        transition_model(session=session, actor=user, name=model.name, request=request)
        moved = True
    if moved:
        st.session_state[FLASH] = f"{verb.capitalize()}: {model.name} is now {target.label}."
        st.rerun()


def edit_form() -> None:
    """The admin's form for the card's descriptive fields; lifecycle fields change only through moves."""
    key = f"edit_{model.id}"
    with st.expander("Edit card", icon=":material/edit:"), st.form(f"{key}_form"):
        left, right = st.columns(2)
        values = {
            "display_name": left.text_input("Display name", value=model.display_name, key=f"{key}_display_name"),
            "provider": right.text_input("Provider", value=model.provider, key=f"{key}_provider"),
            "family": left.text_input("Family", value=model.family, key=f"{key}_family"),
            "version": right.text_input("Version", value=model.version, key=f"{key}_version"),
            "hosting": left.selectbox("Hosting", list(Hosting), index=list(Hosting).index(Hosting(model.hosting)),
                                      format_func=HOSTING_LABELS.__getitem__, key=f"{key}_hosting"),
            "owner": right.text_input("Owner", value=model.owner, key=f"{key}_owner"),
            "mode": left.selectbox("Mode", list(Mode), index=list(Mode).index(Mode(model.mode)), key=f"{key}_mode"),
            "modalities_in": right.multiselect("Input modalities", MODALITIES, key=f"{key}_in",
                                               default=[m for m in model.input_modalities if m in MODALITIES]),
            "max_input_tokens": left.number_input("Context window (tokens)", min_value=1, value=model.max_input_tokens,
                                                  step=1024, key=f"{key}_context"),
            "max_output_tokens": right.number_input("Max output (tokens)", min_value=1, step=1024,
                                                    value=model.max_output_tokens, key=f"{key}_max_output"),
            "input_price_per_mtok": left.number_input("Input $ per M tokens", min_value=0.0, step=0.05,
                                                      value=float(model.input_price_per_mtok), key=f"{key}_in_price"),
            "output_price_per_mtok": right.number_input("Output $ per M tokens", min_value=0.0, step=0.05,
                                                        value=float(model.output_price_per_mtok),
                                                        key=f"{key}_out_price"),
            "risk_tier": left.selectbox("Risk tier", list(RiskTier), index=model.risk_tier - 1,
                                        format_func=lambda r: RISK_LABELS[int(r)], key=f"{key}_risk"),
            "max_classification": right.selectbox("Cleared up to", list(DataClassification),
                                                  index=model.max_classification - 1, key=f"{key}_cleared",
                                                  format_func=lambda c: c.label),
            "license": left.text_input("License", value=model.license, key=f"{key}_license"),
            "supports_tools": left.checkbox("Tool calling", value=model.supports_tools, key=f"{key}_tools"),
            "supports_vision": left.checkbox("Vision", value=model.supports_vision, key=f"{key}_vision"),
            "supports_json_output": left.checkbox("JSON output", value=model.supports_json_output,
                                                  key=f"{key}_json"),
            "guardrails": names_from(right.text_input("Guardrails (comma-separated)", key=f"{key}_guardrails",
                                                      value=", ".join(model.guardrails))),
            "intended_uses": st.text_area("Intended uses (Markdown)", value=model.intended_uses,
                                          key=f"{key}_uses"),
            "out_of_scope": st.text_area("Out of scope (Markdown)", value=model.out_of_scope, key=f"{key}_out"),
            "body_markdown": st.text_area("About this model (Markdown)", value=model.body_markdown, height=200,
                                          key=f"{key}_body"),
        }
        submitted = st.form_submit_button("Save card", type="primary")
    if not submitted:
        return
    current = {field: getattr(model, field) for field in values}
    current["modalities_in"] = model.input_modalities
    changes = {field: value for field, value in values.items() if value != current[field]}
    if not changes:
        st.info("Nothing changed.")
        return
    saved = False
    with deps.showing_errors(), session_scope(context.engine) as session:
        update_card(session=session, actor=user, name=model.name, changes=changes)
        saved = True
    if saved:
        st.session_state[FLASH] = f"Saved the card: {', '.join(changes)}."
        st.rerun()


if has_permission(user, Permission.REVIEW):
    transition_form()
if has_permission(user, Permission.MANAGE_CATALOG):
    edit_form()
