"""Model card: every field of one model, its health and dependents, and the lifecycle and edit forms."""

from datetime import date

import streamlit as st

from catalog.health import probe_stats
from catalog.lifecycle import APPROVING, TRANSITIONS, TransitionRequest, allowed_targets
from catalog.models import EDITABLE_FIELDS, USABLE_STATUSES, DataClassification, Hosting, Mode, ModelStatus, RiskTier
from catalog.service import (
    CardEditConflict,
    CatalogFilter,
    browse_catalog,
    get_model,
    is_available_to,
    transition_model,
    update_card,
)
from portal import deps
from portal.core.auth import Permission, has_permission
from portal.core.db import session_scope
from portal.core.users import describe_user
from portal.ui import plain, plain_message, untrusted_markdown
from sandbox.compare import vote_summary

CATALOG_PAGE = "views/catalog.py"
SANDBOX_PAGE = "views/sandbox.py"
# The sandbox page reads (and removes) this key to preselect the model; views/sandbox.py uses the same name.
SANDBOX_PRESELECT = "sandbox_model"
FLASH, FLASH_INFO = "model_card_flash", "model_card_edit_info"
MODALITIES = ["text", "image", "audio"]

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
with deps.showing_errors(shown_as=plain_message), session_scope(context.engine) as session:
    model = get_model(session=session, name=name)
    stats = probe_stats(session=session, model_id=model.id)
    requester, approver = person(session, model.requested_by_id), person(session, model.approved_by_id)
    dependents = deps.catalog_dependents().dependents(session=session, model_name=model.name)
    votes = vote_summary(session=session, model_name=model.name)
if model is None:
    st.page_link(CATALOG_PAGE, label="Back to the model catalog", icon=":material/arrow_back:")
    st.stop()
st.session_state["model_card_name"] = model.name
status = model.status

st.page_link(CATALOG_PAGE, label="Model catalog", icon=":material/arrow_back:")
st.title(plain(model.display_name))
st.markdown(f"{plain(model.name)} · :blue-badge[{status.label}] · risk tier {int(model.risk_tier)} · cleared up to "
            f"**{model.max_classification.label}**")
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


def use_and_risk() -> None:
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
    untrusted_markdown(model.body_markdown)  # headings two levels down, under the card's own


def replacement_candidates() -> dict[str, str]:
    """Approved and restricted models of the same mode, other than this one, for the replacement drop-down."""
    same_mode = CatalogFilter(statuses=APPROVING, mode=model.mode)
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


# The edit form's widget key suffixes, where they are not the card field's name.
EDIT_KEYS = {"modalities_in": "in", "max_input_tokens": "context", "max_output_tokens": "max_output",
             "input_price_per_mtok": "in_price", "output_price_per_mtok": "out_price", "risk_tier": "risk",
             "max_classification": "cleared", "supports_tools": "tools", "supports_vision": "vision",
             "supports_json_output": "json", "intended_uses": "uses", "out_of_scope": "out", "body_markdown": "body"}
# The card's editable fields this form shows (output modalities and dates are edited in catalog files).
EDITED = tuple(f for f in EDITABLE_FIELDS if f not in ("modalities_out", "next_review_on", "released_on"))


def widget_key(key: str, field: str) -> str:
    return f"{key}_{EDIT_KEYS.get(field, field)}"


def form_values(card) -> dict:
    """The edit form's widget values for a card."""
    values = {field: getattr(card, field) for field in EDITED}
    values["modalities_in"] = [m for m in card.input_modalities if m in MODALITIES]
    values["guardrails"] = ", ".join(card.guardrails)
    values["input_price_per_mtok"] = float(card.input_price_per_mtok)
    values["output_price_per_mtok"] = float(card.output_price_per_mtok)
    return values


def editing_base(key: str) -> dict:
    """The revision and values the form started from; a form not on screen (first visit, after a save) restarts."""
    state = st.session_state
    if f"{key}_base" not in state or widget_key(key, "display_name") not in state:
        values = form_values(model)
        state[f"{key}_base"] = {"revision": model.revision, "values": values}
        for field, value in values.items():
            state[widget_key(key, field)] = value
    return state[f"{key}_base"]


def take_latest(key: str, name: str) -> None:
    """After a conflict: the fields the user left alone take the latest card's values; their edits stay."""
    state, started_from = st.session_state, st.session_state[f"{key}_base"]["values"]
    with session_scope(context.engine) as session:
        latest = get_model(session=session, name=name)
        state[f"{key}_base"] = {"revision": latest.revision, "values": form_values(latest)}
    for field, value in state[f"{key}_base"]["values"].items():
        if state.get(widget_key(key, field)) == started_from[field]:
            state[widget_key(key, field)] = value
    state[FLASH_INFO] = (f"The form now starts from revision {latest.revision}, with your changes kept. "
                         "Check them, then save.")


def edit_widgets(key: str) -> None:
    left, right = st.columns(2)
    left.text_input("Display name", key=widget_key(key, "display_name"))
    right.text_input("Provider", key=widget_key(key, "provider"))
    left.text_input("Family", key=widget_key(key, "family"))
    right.text_input("Version", key=widget_key(key, "version"))
    left.selectbox("Hosting", list(Hosting), format_func=lambda h: h.label, key=widget_key(key, "hosting"))
    right.text_input("Owner", key=widget_key(key, "owner"))
    left.selectbox("Mode", list(Mode), format_func=lambda m: m.label, key=widget_key(key, "mode"))
    right.multiselect("Input modalities", MODALITIES, key=widget_key(key, "modalities_in"))
    left.number_input("Context window (tokens)", min_value=1, step=1024, key=widget_key(key, "max_input_tokens"))
    right.number_input("Max output (tokens)", min_value=1, step=1024, key=widget_key(key, "max_output_tokens"))
    left.number_input("Input $ per M tokens", min_value=0.0, step=0.05, key=widget_key(key, "input_price_per_mtok"))
    right.number_input("Output $ per M tokens", min_value=0.0, step=0.05,
                       key=widget_key(key, "output_price_per_mtok"))
    left.selectbox("Risk tier", list(RiskTier), format_func=lambda r: r.label, key=widget_key(key, "risk_tier"))
    right.selectbox("Cleared up to", list(DataClassification), format_func=lambda c: c.label,
                    key=widget_key(key, "max_classification"))
    left.text_input("License", key=widget_key(key, "license"))
    left.checkbox("Tool calling", key=widget_key(key, "supports_tools"))
    left.checkbox("Vision", key=widget_key(key, "supports_vision"))
    left.checkbox("JSON output", key=widget_key(key, "supports_json_output"))
    right.text_input("Guardrails (comma-separated)", key=widget_key(key, "guardrails"))
    st.text_area("Intended uses (Markdown)", key=widget_key(key, "intended_uses"))
    st.text_area("Out of scope (Markdown)", key=widget_key(key, "out_of_scope"))
    st.text_area("About this model (Markdown)", height=200, key=widget_key(key, "body_markdown"))


def edit_form() -> None:
    """The admin's form for the card's descriptive fields; lifecycle fields change only through moves."""
    key = f"edit_{model.id}"
    base = editing_base(key)
    if info := st.session_state.pop(FLASH_INFO, None):
        st.info(info, icon=":material/merge_type:")
    with st.expander("Edit card", icon=":material/edit:"), st.form(f"{key}_form"):
        edit_widgets(key)
        submitted = st.form_submit_button("Save card", type="primary")
    if not submitted:
        return
    # Changes are what the user changed since the form opened, so fields they left alone never undo others' edits.
    values = {field: st.session_state[widget_key(key, field)] for field in EDITED}
    changes = {field: value for field, value in values.items() if value != base["values"][field]}
    if "guardrails" in changes:
        changes["guardrails"] = names_from(changes["guardrails"])
    if not changes:
        st.info("Nothing changed.")
        return
    saved = False
    with deps.showing_errors():
        try:
            with session_scope(context.engine) as session:
                update_card(session=session, actor=user, name=model.name, base_revision=base["revision"],
                            changes=changes)
            saved = True
        except CardEditConflict as conflict:
            st.error(conflict.message, icon=":material/merge_type:")
            st.button("Take the latest card, keep my changes", key=f"{key}_take_latest", on_click=take_latest,
                      args=(key, model.name))
    if saved:
        for state_key in [f"{key}_base", *(widget_key(key, field) for field in EDITED)]:
            st.session_state.pop(state_key, None)
        st.session_state[FLASH] = f"Saved the card: {', '.join(changes)}."
        st.rerun()


if has_permission(user, Permission.REVIEW):
    transition_form()
if has_permission(user, Permission.MANAGE_CATALOG):
    edit_form()
