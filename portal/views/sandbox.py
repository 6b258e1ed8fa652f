"""Sandbox: chat with the approved models the gateway serves, with guardrails, budgets and costs shown."""

from __future__ import annotations

import streamlit as st

from catalog.models import DataClassification
from portal import deps
from portal.ui import plain, show_pending_message
from portal.views import _links as links
from portal.views import _sandbox_documents as docs
from portal.views import _sandbox_sharing as sharing
from portal.views._sandbox_conversations import (
    CONVERSATION,
    conversation_actions,
    conversation_list,
    current_conversation,
    preselect,
    start_new_conversation,
)
from portal.views._sandbox_messages import show_messages
from portal.views._sandbox_settings import (
    CLASSIFICATION,
    DEFAULTS,
    MODEL,
    SYSTEM_PROMPT,
    ChatSettings,
    apply_settings,
    offered,
    settings_panel,
)
from portal.views._sandbox_turn import CLEAR_DRAFT, DRAFT, message_form

C = DataClassification

context = deps.portal_context()
user = deps.require_user(context)
deps.require_page(user, __file__)
policy = deps.sandbox_policy(context.settings)
state = st.session_state
documents_context = docs.DocumentsContext(
    engine=context.engine, metered=context.metered, user=user, policy=policy, make_embeddings=lambda: deps.embeddings_for_user(context, user),
    vectors=deps.vector_store(context.settings),
    limits=deps.document_limits(context.settings), top_k=context.settings.documents_top_k)


def prefill_from_prompt(start: links.SandboxStart) -> None:
    """Start a new conversation with the prompt's system prompt and message, on its first model offered to us."""
    start_new_conversation()
    offered_names = {m.name for classification in C
                     for m in offered(engine=context.engine, user=user, classification=classification)}
    # The first recommended model this user is offered; none offered leaves the model choice as it was.
    recommended = next((m for m in start.recommended_models if m in offered_names), None)
    if recommended is not None:
        preselect(recommended, engine=context.engine, user=user)
    state[SYSTEM_PROMPT], state[DRAFT] = start.system_prompt, start.message


def start_from(start: links.SandboxStart) -> None:
    """A new conversation as the page that sent us here asked: a card's model, or a prompt's text."""
    if start.model is not None:
        preselect(start.model, engine=context.engine, user=user)
    else:
        prefill_from_prompt(start)


# --- before any widget exists: changes to widget values ---------------------------------------------------------

if state.pop(CLEAR_DRAFT, False):
    state[DRAFT] = ""
if (start := links.sandbox.take()) is not None:
    start_from(start)
conversation, history = current_conversation(engine=context.engine, user=user)
if conversation is not None and MODEL not in state:
    apply_settings(conversation)  # back from another page: Streamlit dropped the widgets' values
for key, value in DEFAULTS.items():
    state.setdefault(key, value)


# --- the page -------------------------------------------------------------------------------------------------------

def show_history() -> None:
    if not history:
        st.caption("Pick the data classification and a model, then write your message below, or add a document "
                   "to ask about. Answers are saved as a conversation you can continue, rename, download or delete.")
    passages = docs.passages_of(documents_context, conversation, history)
    show_messages(history, under_answer=lambda message: docs.show_citations(message, passages))


def chat_panel(settings: ChatSettings | None) -> None:
    if conversation is not None:
        st.subheader(plain(conversation.title))
        conversation_actions(engine=context.engine, user=user, conversation=conversation,
                             vectors=documents_context.vectors, capabilities=policy.capabilities)
    show_pending_message()  # a model the card asked for but this user is not offered (preselect)
    documents = docs.documents_panel(documents_context, conversation=conversation, state_key=CONVERSATION,
                                     classification=state[CLASSIFICATION],
                                     model_name=settings.model.name if settings else None)
    show_history()
    message_form(documents_context, settings, make_turn=docs.turn_for(
        documents_context, use_documents=bool(documents) and state.get(docs.USE_DOCUMENTS, True)))


with st.sidebar:
    conversation_list(engine=context.engine, user=user, conversation=conversation)
    sharing.shared_with_you(engine=context.engine, user=user, capabilities=policy.capabilities)

st.title("Sandbox")
st.caption("Try the approved models on your own text. Every answer counts against your daily token quota and your "
           "team's monthly budget; personal and secret data is warned about, replaced or blocked according to the "
           "classification you pick.")
shared_id = state.get(sharing.SHARED)
if shared_id is None or not sharing.show_shared(engine=context.engine, user=user, conversation_id=shared_id,
                                                capabilities=policy.capabilities):
    settings_col, chat_col = st.columns([1, 2], gap="large")
    with settings_col:
        chosen = settings_panel(engine=context.engine, user=user, policy=policy, conversation=conversation)
    with chat_col:
        chat_panel(chosen)
