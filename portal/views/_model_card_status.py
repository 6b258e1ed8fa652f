"""The model card's status form: move the model along its lifecycle, with a reason and what the target needs."""

from __future__ import annotations

from datetime import date

import streamlit as st

from catalog.lifecycle import APPROVING, TRANSITIONS, TransitionRequest, allowed_targets
from catalog.models import ModelStatus
from catalog.service import CatalogFilter, browse_catalog, transition_model
from portal.core.db import session_scope
from portal.ui import run_action
from portal.views._model_card_fields import dependents_list


def names_from(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def replacement_candidates(context, user, model) -> dict[str, str]:
    """Approved and restricted models of the same mode, other than this one, for the replacement drop-down."""
    same_mode = CatalogFilter(statuses=APPROVING, mode=model.mode)
    with session_scope(context.engine) as session:
        page = browse_catalog(session=session, actor=user, filters=same_mode, limit=500)
    return {m.name: f"{m.display_name} ({m.name})" for m in page.models if m.name != model.name}


def transition_form(context, user, model, dependents) -> None:
    """Move the model to one of the statuses allowed from here, with a reason and what the target needs."""
    st.subheader("Change status")
    status = model.status
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
            candidates = replacement_candidates(context, user, model)
            replacement = st.selectbox("Replacement", list(candidates), index=None, key=f"{key}_replacement",
                                       format_func=candidates.__getitem__, placeholder="Pick an approved model")
        if target in (ModelStatus.DEPRECATED, ModelStatus.RETIRED):
            st.markdown("**What depends on this model**")
            dependents_list(dependents)
        verb = TRANSITIONS[(status, target)]
        submitted = st.form_submit_button(verb.capitalize(), type="primary", key=f"{key}_submit")
    if not submitted:
        return
    request = TransitionRequest(target=target, reason=reason, teams=teams, departments=departments,
                                next_review_on=review_on, deprecated_on=deprecated_on,
                                replacement_name=replacement or "")
    run_action(lambda session: transition_model(session=session, actor=user, name=model.name, request=request),
               engine=context.engine, success=f"{verb.capitalize()}: {model.name} is now {target.label}.")
