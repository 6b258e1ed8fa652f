"""The sandbox page's settings column: the data classification, the model, the system prompt and sampling.

Not a page: portal/views/sandbox.py imports it. The widgets' keys live here because the page fills them before
they are drawn: from a reopened conversation, a model card's or a prompt's "Try in sandbox".
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from catalog.models import CatalogModel, DataClassification, ModelStatus
from portal.core.db import Engine, session_scope
from portal.core.users import User
from portal.ui import plain
from metering.budgets import daily_quota
from sandbox.chat import SandboxPolicy, offered_models
from sandbox.models import Conversation

C = DataClassification
CLASSIFICATION, MODEL = "sandbox_classification", "sandbox_model_choice"
SYSTEM_PROMPT, TEMPERATURE, TOP_P, MAX_TOKENS = ("sandbox_system_prompt", "sandbox_temperature", "sandbox_top_p",
                                                 "sandbox_max_tokens")
DEFAULTS = {CLASSIFICATION: C.INTERNAL, SYSTEM_PROMPT: "", TEMPERATURE: 0.7, TOP_P: 1.0, MAX_TOKENS: 512}
MAX_TOKENS_CAP = 8192  # for models whose card names no output limit
CLASSIFICATION_HELP = {
    C.PUBLIC: "already published or meant for anyone: press releases, the public website, open documentation.",
    C.INTERNAL: "for staff only and harmless if leaked: the intranet, org charts, most everyday e-mail.",
    C.CONFIDENTIAL: "would hurt the company or people if leaked: contracts, customer records, unreleased figures.",
    C.RESTRICTED: "the most sensitive: health, salaries, credentials, deals in progress. Few models are cleared.",
}
state = st.session_state  # a proxy: each run reads and writes its own session's state


@dataclass(frozen=True)
class ChatSettings:
    """What the settings column chose for the next turn."""

    classification: DataClassification
    model: CatalogModel
    system_prompt: str
    temperature: float
    top_p: float
    max_tokens: int


def offered(*, engine: Engine, user: User, classification: DataClassification) -> list[CatalogModel]:
    with session_scope(engine) as session:
        return offered_models(session=session, user=user, classification=classification)


def apply_settings(conversation: Conversation) -> None:
    """Put a conversation's model, data classification and generation settings into the widgets."""
    state[CLASSIFICATION] = C(conversation.classification)
    state[MODEL] = conversation.model_name
    state[SYSTEM_PROMPT] = conversation.system_prompt
    state[TEMPERATURE] = conversation.temperature
    state[TOP_P] = conversation.top_p
    state[MAX_TOKENS] = conversation.max_tokens


def settings_panel(*, engine: Engine, user: User, policy: SandboxPolicy,
                   conversation: Conversation | None) -> ChatSettings | None:
    """The settings column; None when no model can take the chosen data."""
    st.subheader("Settings")
    floor = _classification_floor(conversation)
    options = [c for c in C if c >= floor]
    if state[CLASSIFICATION] not in options:
        state[CLASSIFICATION] = options[0]
    classification = st.selectbox("Data you are about to paste", options, format_func=lambda c: c.label,
                                  key=CLASSIFICATION, help="Only models cleared for this level are offered.")
    st.caption(f"**{classification.label.capitalize()}** — {CLASSIFICATION_HELP[classification]}")
    if conversation is not None and floor > C.PUBLIC:
        st.caption(f"This conversation started with {floor.label} data, so it goes on at that level or above.")
    model = _pick_model(classification, engine=engine, user=user)
    system_prompt = st.text_area("System prompt", key=SYSTEM_PROMPT, height=100,
                                 placeholder="Optional: how the model should behave, e.g. 'Answer in one sentence.'",
                                 help=f"Up to {policy.max_system_prompt_chars:,} characters. It goes through the "
                                      "same guardrails as your message.")
    if model is None:
        return None
    temperature, top_p, max_tokens = _generation_settings(model)
    _budget_caption(engine=engine, user=user, policy=policy)
    return ChatSettings(classification=classification, model=model, system_prompt=system_prompt,
                        temperature=temperature, top_p=top_p, max_tokens=max_tokens)


def _classification_floor(conversation: Conversation | None) -> DataClassification:
    """A conversation goes on at its data's level or above, so earlier messages never reach a less cleared model."""
    return C(conversation.classification) if conversation is not None else C.PUBLIC


def _model_label(model: CatalogModel) -> str:
    return (f"{model.display_name} — {model.provider or 'unknown provider'} · "
            f"${model.input_price_per_mtok:.2f} in / ${model.output_price_per_mtok:.2f} out per M tokens")


def _pick_model(classification: DataClassification, *, engine: Engine, user: User) -> CatalogModel | None:
    """The model selectbox for the classification, or why there is none."""
    models = offered(engine=engine, user=user, classification=classification)
    if not models:
        st.warning(f"No model approved for {classification.label} data is served by the gateway right now, so "
                   "nothing can be sent. If your data allows it, pick a lower classification; otherwise ask the "
                   "CoE team.", icon=":material/block:")
        return None
    by_name = {m.name: m for m in models}
    if state.get(MODEL) not in by_name:
        state[MODEL] = models[0].name
    model = by_name[st.selectbox("Model", list(by_name), format_func=lambda n: _model_label(by_name[n]), key=MODEL,
                                 help="The models approved for this data that the gateway serves to you.")]
    facts = [f"\\${model.input_price_per_mtok:.2f} in / \\${model.output_price_per_mtok:.2f} out per M tokens",
             f"context {model.max_input_tokens:,} tokens" if model.max_input_tokens else "",
             f"answers up to {model.max_output_tokens:,} tokens" if model.max_output_tokens else ""]
    st.caption(" · ".join(f for f in facts if f))
    if model.status == ModelStatus.DEPRECATED:
        replacement = f"; use {plain(model.replacement_name)} instead" if model.replacement_name else ""
        st.warning(f"Deprecated{replacement}.", icon=":material/schedule:")
    return model


def _generation_settings(model: CatalogModel) -> tuple[float, float, int]:
    temperature = st.slider("Temperature", 0.0, 2.0, step=0.05, key=TEMPERATURE,
                            help="Higher is more varied, lower more predictable.")
    top_p = st.slider("Top-p", 0.05, 1.0, step=0.05, key=TOP_P,
                      help="Sample only from the most likely words that together make up this share.")
    limit = model.max_output_tokens or MAX_TOKENS_CAP
    state[MAX_TOKENS] = max(16, min(int(state[MAX_TOKENS]), limit))
    max_tokens = st.number_input("Longest answer (tokens)", min_value=16, max_value=limit, step=16, key=MAX_TOKENS)
    return temperature, top_p, int(max_tokens)


def _budget_caption(*, engine: Engine, user: User, policy: SandboxPolicy) -> None:
    """Today's tokens against the user's daily quota; nothing when there is no quota."""
    with session_scope(engine) as session:
        today = daily_quota(session=session, user=user, defaults=policy.budgets)
    if today is not None:
        st.caption(f"Today you have used {today.used:,} of your {today.quota:,} sandbox tokens "
                   "(resets at 00:00 UTC).")
