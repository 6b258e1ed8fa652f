"""Sandbox: chat with the approved models the gateway serves, with guardrails, budgets and costs shown."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st
from sqlmodel import Session

from catalog.models import CatalogModel, DataClassification, ModelStatus
from portal import deps
from portal.core.audit import utcnow
from portal.core.auth import Permission
from portal.core.db import session_scope
from portal.core.errors import NotFound
from portal.ui import plain
from portal.views import _sandbox_documents as docs
from portal.views import _sandbox_sharing as sharing
from portal.views._sandbox_messages import (
    TurnNotice,
    as_text,
    guardrail_notice,
    show_guardrail_notice,
    show_messages,
)
from sandbox.budgets import effective_budget
from sandbox.chat import TurnRequest, TurnStream, offered_models, own_conversation, prepare_turn, record_turn
from sandbox.conversations import (
    conversation_messages,
    delete_conversation,
    export_conversation,
    list_conversations,
    rename_conversation,
)
from sandbox.guardrails import describe
from sandbox.models import ChatMessage, Conversation
from sandbox.usage import tokens_used_since

C = DataClassification
# The model card's "Try in sandbox" button puts a model's gateway name here (views/model_card.py uses the same
# name); this page takes it out, preselects the model and starts a new conversation.
PRESELECT = "sandbox_model"
# The prompt library's "Try in sandbox" puts {system_prompt, message, models} here (views/prompt.py uses the same
# name); this page takes it out and starts a new conversation with them filled in.
PREFILL = "sandbox_prefill"
CONVERSATION = "sandbox_conversation_id"  # the conversation being continued; absent or None = a new one
NOTICE = "sandbox_notice"  # what the last turn left to say (guardrails, a failure), shown after its rerun
FLASH = "sandbox_flash"  # a one-time success message after renaming or deleting
CLEAR_DRAFT = "sandbox_clear_draft"  # set after a turn that got a whole answer: the next run empties the draft
DRAFT = "sandbox_draft"
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

context = deps.portal_context()
user = deps.require_user(context)
deps.require_permission(user, Permission.USE_SANDBOX)
policy = deps.sandbox_policy(context.settings)
state = st.session_state
documents_context = docs.DocumentsContext(
    engine=context.engine, user=user, policy=policy, make_embeddings=lambda: deps.embeddings_for_user(context, user),
    vectors=deps.vector_store(str(context.settings.chroma_path), context.settings.chroma_host,
                              context.settings.chroma_port),
    limits=deps.document_limits(context.settings), top_k=context.settings.documents_top_k)


@dataclass(frozen=True)
class ChatSettings:
    """What the settings column chose for the next turn."""

    classification: DataClassification
    model: CatalogModel
    system_prompt: str
    temperature: float
    top_p: float
    max_tokens: int


def offered(classification: DataClassification) -> list[CatalogModel]:
    with session_scope(context.engine) as session:
        return offered_models(session=session, user=user, classification=classification)


def apply_settings(conversation: Conversation) -> None:
    """Put a conversation's model, data classification and generation settings into the widgets."""
    state[CLASSIFICATION] = C(conversation.classification)
    state[MODEL] = conversation.model_name
    state[SYSTEM_PROMPT] = conversation.system_prompt
    state[TEMPERATURE] = conversation.temperature
    state[TOP_P] = conversation.top_p
    state[MAX_TOKENS] = conversation.max_tokens


def open_conversation(conversation: Conversation) -> None:
    sharing.close_shared()
    state[CONVERSATION] = conversation.id
    state.pop(NOTICE, None)
    apply_settings(conversation)


def start_new_conversation() -> None:
    sharing.close_shared()
    state[CONVERSATION] = None
    state.pop(NOTICE, None)


def preselect(name: str) -> None:
    """Choose the model the card sent us here for, at the lowest data classification it is offered for."""
    start_new_conversation()
    current = state.get(CLASSIFICATION, DEFAULTS[CLASSIFICATION])
    for classification in [current, *C]:
        if any(m.name == name for m in offered(classification)):
            state[CLASSIFICATION], state[MODEL] = classification, name
            return
    state[FLASH] = ("warning", f"{plain(name)} is not offered to you in the sandbox right now: the gateway does not "
                               "serve it, or it is restricted to other teams. Pick one of the models listed.")


def current_conversation() -> tuple[Conversation | None, list[ChatMessage]]:
    """The conversation being continued and its messages; forgotten when it no longer exists."""
    conversation_id = state.get(CONVERSATION)
    if conversation_id is None:
        return None, []
    try:
        with session_scope(context.engine) as session:
            conversation = own_conversation(session=session, user=user, conversation_id=conversation_id)
            messages = conversation_messages(session=session, user=user, conversation_id=conversation_id)
    except NotFound:
        state[CONVERSATION] = None
        return None, []
    return conversation, messages


# --- before any widget exists: changes to widget values ---------------------------------------------------------

if state.pop(CLEAR_DRAFT, False):
    state[DRAFT] = ""
if (wanted := state.pop(PRESELECT, None)) is not None:
    preselect(wanted)
if (prefill := state.pop(PREFILL, None)) is not None:
    start_new_conversation()
    offered_names = {m.name for classification in C for m in offered(classification)}
    # The first recommended model this user is offered; none offered leaves the model choice as it was.
    recommended = next((m for m in prefill.get("models", []) if m in offered_names), None)
    if recommended is not None:
        preselect(recommended)
    state[SYSTEM_PROMPT], state[DRAFT] = prefill.get("system_prompt", ""), prefill.get("message", "")
conversation, history = current_conversation()
if conversation is not None and MODEL not in state:
    apply_settings(conversation)  # back from another page: Streamlit dropped the widgets' values
for key, value in DEFAULTS.items():
    state.setdefault(key, value)


# --- conversations, in the sidebar --------------------------------------------------------------------------------

def conversation_list() -> None:
    with session_scope(context.engine) as session:
        conversations = list_conversations(session=session, user=user)
    st.subheader("Your conversations")
    st.button("New conversation", key="sandbox_new", icon=":material/add_comment:", width="stretch",
              on_click=start_new_conversation, type="primary" if conversation is None else "secondary")
    if not conversations:
        st.caption("None yet: your first message starts one.")
    for c in conversations:
        current = conversation is not None and c.id == conversation.id
        about = f"{plain(c.model_name)} · {C(c.classification).label} data · {c.updated_at:%Y-%m-%d %H:%M} UTC"
        st.button(plain(c.title), key=f"sandbox_open_{c.id}", on_click=open_conversation, args=(c,),
                  type="primary" if current else "tertiary", width="stretch", help=about)


with st.sidebar:
    conversation_list()
    sharing.shared_with_you(engine=context.engine, user=user, required_courses=policy.required_courses)


# --- settings -------------------------------------------------------------------------------------------------------

def model_label(model: CatalogModel) -> str:
    return (f"{model.display_name} — {model.provider or 'unknown provider'} · "
            f"${model.input_price_per_mtok:.2f} in / ${model.output_price_per_mtok:.2f} out per M tokens")


def classification_floor() -> DataClassification:
    """A conversation goes on at its data's level or above, so earlier messages never reach a less cleared model."""
    return C(conversation.classification) if conversation is not None else C.PUBLIC


def pick_model(classification: DataClassification) -> CatalogModel | None:
    """The model selectbox for the classification, or why there is none."""
    models = offered(classification)
    if not models:
        st.warning(f"No model approved for {classification.label} data is served by the gateway right now, so "
                   "nothing can be sent. If your data allows it, pick a lower classification; otherwise ask the "
                   "CoE team.", icon=":material/block:")
        return None
    by_name = {m.name: m for m in models}
    if state.get(MODEL) not in by_name:
        state[MODEL] = models[0].name
    model = by_name[st.selectbox("Model", list(by_name), format_func=lambda n: model_label(by_name[n]), key=MODEL,
                                 help="The models approved for this data that the gateway serves to you.")]
    facts = [f"\\${model.input_price_per_mtok:.2f} in / \\${model.output_price_per_mtok:.2f} out per M tokens",
             f"context {model.max_input_tokens:,} tokens" if model.max_input_tokens else "",
             f"answers up to {model.max_output_tokens:,} tokens" if model.max_output_tokens else ""]
    st.caption(" · ".join(f for f in facts if f))
    if model.status == ModelStatus.DEPRECATED:
        replacement = f"; use {plain(model.replacement_name)} instead" if model.replacement_name else ""
        st.warning(f"Deprecated{replacement}.", icon=":material/schedule:")
    return model


def generation_settings(model: CatalogModel) -> tuple[float, float, int]:
    temperature = st.slider("Temperature", 0.0, 2.0, step=0.05, key=TEMPERATURE,
                            help="Higher is more varied, lower more predictable.")
    top_p = st.slider("Top-p", 0.05, 1.0, step=0.05, key=TOP_P,
                      help="Sample only from the most likely words that together make up this share.")
    limit = model.max_output_tokens or MAX_TOKENS_CAP
    state[MAX_TOKENS] = max(16, min(int(state[MAX_TOKENS]), limit))
    max_tokens = st.number_input("Longest answer (tokens)", min_value=16, max_value=limit, step=16, key=MAX_TOKENS)
    return temperature, top_p, int(max_tokens)


def budget_caption() -> None:
    with session_scope(context.engine) as session:
        quota = effective_budget(session=session, user=user, defaults=policy.budgets).daily_tokens_per_user
        if not quota:
            return
        used = tokens_used_since(session=session, user_id=user.id,
                                 since=utcnow().replace(hour=0, minute=0, second=0, microsecond=0))
    st.caption(f"Today you have used {used:,} of your {quota:,} sandbox tokens (resets at 00:00 UTC).")


def settings_panel() -> ChatSettings | None:
    st.subheader("Settings")
    options = [c for c in C if c >= classification_floor()]
    if state[CLASSIFICATION] not in options:
        state[CLASSIFICATION] = options[0]
    classification = st.selectbox("Data you are about to paste", options, format_func=lambda c: c.label,
                                  key=CLASSIFICATION, help="Only models cleared for this level are offered.")
    st.caption(f"**{classification.label.capitalize()}** — {CLASSIFICATION_HELP[classification]}")
    if conversation is not None and classification_floor() > C.PUBLIC:
        st.caption(f"This conversation started with {classification_floor().label} data, so it goes on at that "
                   "level or above.")
    model = pick_model(classification)
    system_prompt = st.text_area("System prompt", key=SYSTEM_PROMPT, height=100,
                                 placeholder="Optional: how the model should behave, e.g. 'Answer in one sentence.'")
    if model is None:
        return None
    temperature, top_p, max_tokens = generation_settings(model)
    budget_caption()
    return ChatSettings(classification=classification, model=model, system_prompt=system_prompt,
                        temperature=temperature, top_p=top_p, max_tokens=max_tokens)


# --- the chat -------------------------------------------------------------------------------------------------------

def show_history() -> None:
    if not history:
        st.caption("Pick the data classification and a model, then write your message below, or add a document "
                   "to ask about. Answers are saved as a conversation you can continue, rename, download or delete.")
    passages = docs.passages_of(documents_context, conversation)
    show_messages(history, under_answer=lambda message: docs.show_citations(message, passages))


def conversation_actions() -> None:
    """Rename, share, download and delete the conversation on screen."""
    # A row that wraps: five equal columns cut the labels to "R…" in the chat column's width.
    bar = st.container(horizontal=True)
    with bar.popover("Rename", icon=":material/edit:"):
        title = st.text_input("New title", value=conversation.title, key=f"sandbox_title_{conversation.id}",
                              max_chars=200)
        if st.button("Save title", key="sandbox_rename"):
            change(lambda session: rename_conversation(session=session, user=user, conversation_id=conversation.id,
                                                       title=title), "Renamed the conversation.")
    sharing.share_popover(bar, engine=context.engine, user=user, conversation=conversation, change=change,
                          required_courses=policy.required_courses)
    with bar.popover("Delete", icon=":material/delete:"):
        st.markdown("Delete this conversation and its messages? This cannot be undone; the usage records stay.")
        if st.button("Yes, delete it", key="sandbox_delete", type="primary"):
            change(lambda session: delete_conversation(session=session, user=user, conversation_id=conversation.id,
                                                       vectors=documents_context.vectors),
                   f"Deleted “{plain(conversation.title)}”.", leave=True)
    stem = f"conversation-{conversation.id}"
    bar.download_button("Markdown", exporter(conversation.id, "markdown"), file_name=f"{stem}.md",
                        mime="text/markdown", key="sandbox_download_markdown", on_click="ignore",
                        icon=":material/download:")
    bar.download_button("JSON", exporter(conversation.id, "json"), file_name=f"{stem}.json",
                        mime="application/json", key="sandbox_download_json", on_click="ignore",
                        icon=":material/download:")


def change(action: Callable[[Session], object], done: str, *, leave: bool = False) -> None:
    """Apply a change to the conversation on screen; on success say so after a rerun, else show why."""
    changed = False
    with deps.showing_errors(), session_scope(context.engine) as session:
        action(session)
        changed = True
    if changed:
        if leave:
            state[CONVERSATION] = None
        state[FLASH] = ("success", done)
        st.rerun()


def exporter(conversation_id: int, fmt: str) -> Callable[[], str]:
    """The export, made only when the download is clicked rather than on every run of the page."""
    engine, owner = context.engine, user

    def export() -> str:
        with session_scope(engine) as session:
            return export_conversation(session=session, user=owner, conversation_id=conversation_id, fmt=fmt)

    return export


def show_notice() -> bool:
    """The last turn's notice and failure; True when its Retry button was pressed."""
    notice: TurnNotice | None = state.get(NOTICE)
    if notice is None:
        return False
    show_guardrail_notice(notice)
    if not notice.error:
        return False
    st.error(plain(notice.error), icon=":material/cloud_off:")
    return st.button("Retry", key="sandbox_retry", icon=":material/refresh:",
                     help="Send the same message again.")


def run_turn(message: str, settings: ChatSettings, live, *, from_documents: bool) -> None:
    """Check, stream and record one turn into `live`; the draft is emptied only when a whole answer arrived."""
    request = TurnRequest(message=message, model_name=settings.model.name, classification=settings.classification,
                          conversation_id=state.get(CONVERSATION), system_prompt=settings.system_prompt,
                          temperature=settings.temperature, top_p=settings.top_p, max_tokens=settings.max_tokens)
    turn = None
    with live, deps.showing_errors(), session_scope(context.engine) as session:
        turn = (docs.prepare(documents_context, session, request) if from_documents
                else prepare_turn(session=session, user=user, policy=policy, request=request))
    if turn is None:
        return
    prepared = turn.prepared if from_documents else turn
    if from_documents and turn.error:  # the question could not be embedded; the failed call is recorded
        state[NOTICE] = TurnNotice(error=turn.error, retry_message=message)
        st.rerun()
    if turn.blocked:
        blocked = docs.blocked_message(turn) if from_documents else describe(prepared.guardrails)
        live.error(plain(blocked), icon=":material/block:")
        return
    notice = docs.turn_notice(turn) if from_documents else guardrail_notice(prepared.guardrails)
    with live:
        show_guardrail_notice(notice)
        with st.chat_message("user"):
            st.markdown(as_text(turn.question if from_documents else prepared.messages[-1]["content"]))
        stream = TurnStream(prepared, context.gateway)
        with st.chat_message("assistant"):
            st.write_stream(as_text(delta) for delta in stream)
    recorded = None
    with live, deps.showing_errors(), session_scope(context.engine) as session:
        recorded = (docs.record(session, turn, stream) if from_documents
                    else record_turn(session=session, stream=stream))
    if recorded is None:
        return
    if recorded.conversation_id is not None:
        state[CONVERSATION] = recorded.conversation_id
    if stream.error is not None:
        notice.error, notice.retry_message = stream.error.message, message
    else:
        state[CLEAR_DRAFT] = True
    state[NOTICE] = notice
    st.rerun()


def chat_panel(settings: ChatSettings | None) -> None:
    if conversation is not None:
        st.subheader(plain(conversation.title))
        conversation_actions()
    if flash := state.pop(FLASH, None):
        kind, text = flash
        getattr(st, kind)(text)
    documents = docs.documents_panel(documents_context, conversation=conversation, state_key=CONVERSATION,
                                     classification=state[CLASSIFICATION],
                                     model_name=settings.model.name if settings else None)
    show_history()
    notice_slot = st.empty()
    with notice_slot.container():
        retry = show_notice()
    live = st.container()
    with st.form("sandbox_form", border=False):
        st.text_area("Your message", key=DRAFT, height=140, placeholder="Write or paste your message here.",
                     help=f"Up to {policy.max_message_chars:,} characters. Ctrl+Enter sends it.")
        send = st.form_submit_button("Send", type="primary", icon=":material/send:", disabled=settings is None)
    if not (send or retry) or settings is None:
        return
    message = state[NOTICE].retry_message if retry else state.get(DRAFT, "")
    state.pop(NOTICE, None)
    notice_slot.empty()
    run_turn(message, settings, live, from_documents=bool(documents) and state.get(docs.USE_DOCUMENTS, True))



st.title("Sandbox")
st.caption("Try the approved models on your own text. Every answer counts against your daily token quota and your "
           "team's monthly budget; personal and secret data is warned about, replaced or blocked according to the "
           "classification you pick.")
shared_id = state.get(sharing.SHARED)
if shared_id is None or not sharing.show_shared(engine=context.engine, user=user, conversation_id=shared_id,
                                                required_courses=policy.required_courses):
    settings_col, chat_col = st.columns([1, 2], gap="large")
    with settings_col:
        chosen = settings_panel()
    with chat_col:
        chat_panel(chosen)
