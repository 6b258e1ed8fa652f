"""The model card's edit form for admins: descriptive fields, saved only over the revision the form opened with."""

from __future__ import annotations

import streamlit as st

from catalog.models import EDITABLE_FIELDS, DataClassification, Hosting, Mode, RiskTier
from catalog.service import CardEditConflict, get_model, update_card
from portal.core.db import session_scope
from portal.ui import leave_message, run_action
from portal.views._model_card_status import names_from

MODALITIES = ["text", "image", "audio"]
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


def editing_base(key: str, model) -> dict:
    """The revision and values the form started from; a form not on screen (first visit, after a save) restarts."""
    state = st.session_state
    if f"{key}_base" not in state or widget_key(key, "display_name") not in state:
        values = form_values(model)
        state[f"{key}_base"] = {"revision": model.revision, "values": values}
        for field, value in values.items():
            state[widget_key(key, field)] = value
    return state[f"{key}_base"]


def take_latest(engine, key: str, name: str) -> None:
    """After a conflict: the fields the user left alone take the latest card's values; their edits stay."""
    state, started_from = st.session_state, st.session_state[f"{key}_base"]["values"]
    with session_scope(engine) as session:
        latest = get_model(session=session, name=name)
        state[f"{key}_base"] = {"revision": latest.revision, "values": form_values(latest)}
    for field, value in state[f"{key}_base"]["values"].items():
        if state.get(widget_key(key, field)) == started_from[field]:
            state[widget_key(key, field)] = value
    leave_message(f"The form now starts from revision {latest.revision}, with your changes kept. Check them, then save.",
                  kind="info", icon=":material/merge_type:")


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


def edit_form(context, user, model) -> None:
    """The admin's form for the card's descriptive fields; lifecycle fields change only through moves."""
    key = f"edit_{model.id}"
    base = editing_base(key, model)
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
    refused = run_action(lambda session: update_card(session=session, actor=user, name=model.name,
                                                     base_revision=base["revision"], changes=changes),
                         engine=context.engine, success=f"Saved the card: {', '.join(changes)}.",
                         then=lambda _: forget(key))
    if isinstance(refused, CardEditConflict):
        st.button("Take the latest card, keep my changes", key=f"{key}_take_latest", on_click=take_latest,
                  args=(context.engine, key, model.name))


def forget(key: str) -> None:
    """After a save: the next visit starts from the saved card."""
    for state_key in [f"{key}_base", *(widget_key(key, field) for field in EDITED)]:
        st.session_state.pop(state_key, None)
