"""The sandbox page's conversations: which one is open, the sidebar list, and rename, share, download and delete.

Not a page: portal/views/sandbox.py imports it. The services in sandbox.conversations do the work.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import streamlit as st
from chromadb.api import ClientAPI

from catalog.models import DataClassification
from portal.core.capabilities import CapabilityGate
from portal.core.db import Engine, Session, session_scope
from portal.core.errors import NotFound
from portal.core.users import User
from portal.ui import leave_message, plain, run_action
from portal.views import _sandbox_sharing as sharing
from portal.views._sandbox_settings import CLASSIFICATION, DEFAULTS, MODEL, apply_settings, offered
from sandbox.chat import own_conversation
from sandbox.conversations import (
    conversation_messages,
    delete_conversation,
    export_conversation,
    list_conversations,
    rename_conversation,
)
from sandbox.models import ChatMessage, Conversation

C = DataClassification
CONVERSATION = "sandbox_conversation_id"  # the conversation being continued; absent or None = a new one
NOTICE = "sandbox_notice"  # what the last turn left to say (guardrails, a failure), shown after its rerun
state = st.session_state  # a proxy: each run reads and writes its own session's state


def open_conversation(conversation: Conversation) -> None:
    sharing.close_shared()
    state[CONVERSATION] = conversation.id
    state.pop(NOTICE, None)
    apply_settings(conversation)


def start_new_conversation() -> None:
    sharing.close_shared()
    state[CONVERSATION] = None
    state.pop(NOTICE, None)


def preselect(name: str, *, engine: Engine, user: User) -> None:
    """Choose the model the card sent us here for, at the lowest data classification it is offered for."""
    start_new_conversation()
    current = state.get(CLASSIFICATION, DEFAULTS[CLASSIFICATION])
    for classification in [current, *C]:
        if any(m.name == name for m in offered(engine=engine, user=user, classification=classification)):
            state[CLASSIFICATION], state[MODEL] = classification, name
            return
    # Left in the one message slot; this runs after deps.portal_context showed it, so chat_panel shows it.
    leave_message(f"{plain(name)} is not offered to you in the sandbox right now: the gateway does not serve it, or "
                  "it is restricted to other teams. Pick one of the models listed.", kind="warning")


def current_conversation(*, engine: Engine, user: User) -> tuple[Conversation | None, list[ChatMessage]]:
    """The conversation being continued and its messages; forgotten when it no longer exists."""
    conversation_id = state.get(CONVERSATION)
    if conversation_id is None:
        return None, []
    try:
        with session_scope(engine) as session:
            conversation = own_conversation(session=session, user=user, conversation_id=conversation_id)
            messages = conversation_messages(session=session, user=user, conversation_id=conversation_id)
    except NotFound:
        state[CONVERSATION] = None
        return None, []
    return conversation, messages


def conversation_list(*, engine: Engine, user: User, conversation: Conversation | None) -> None:
    """The sidebar's "New conversation" button and the user's conversations, the open one highlighted."""
    with session_scope(engine) as session:
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


def conversation_actions(*, engine: Engine, user: User, conversation: Conversation, vectors: ClientAPI,
                         capabilities: CapabilityGate) -> None:
    """Rename, share (as the conversation's classification allows), download and delete the conversation on screen."""
    change = partial(_change, engine=engine)
    # A row that wraps: five equal columns cut the labels to "R…" in the chat column's width.
    bar = st.container(horizontal=True)
    with bar.popover("Rename", icon=":material/edit:"):
        title = st.text_input("New title", value=conversation.title, key=f"sandbox_title_{conversation.id}",
                              max_chars=200)
        if st.button("Save title", key="sandbox_rename"):
            change(lambda session: rename_conversation(session=session, user=user, conversation_id=conversation.id,
                                                       title=title), "Renamed the conversation.")
    sharing.share_popover(bar, engine=engine, user=user, conversation=conversation, change=change,
                          capabilities=capabilities)
    with bar.popover("Delete", icon=":material/delete:"):
        st.markdown("Delete this conversation and its messages? This cannot be undone; the usage records stay.")
        if st.button("Yes, delete it", key="sandbox_delete", type="primary"):
            change(lambda session: delete_conversation(session=session, user=user, conversation_id=conversation.id,
                                                       vectors=vectors),
                   f"Deleted “{plain(conversation.title)}”.", leave=True)
    stem = f"conversation-{conversation.id}"
    bar.download_button("Markdown", _exporter(engine, user, conversation.id, "markdown"), file_name=f"{stem}.md",
                        mime="text/markdown", key="sandbox_download_markdown", on_click="ignore",
                        icon=":material/download:")
    bar.download_button("JSON", _exporter(engine, user, conversation.id, "json"), file_name=f"{stem}.json",
                        mime="application/json", key="sandbox_download_json", on_click="ignore",
                        icon=":material/download:")


def _change(action: Callable[[Session], object], done: str, *, engine: Engine, leave: bool = False) -> None:
    """Apply a change to the conversation on screen; on success say so after a rerun, else show why."""
    run_action(action, engine=engine, success=done,
               then=lambda _: state.update({CONVERSATION: None}) if leave else None)


def _exporter(engine: Engine, owner: User, conversation_id: int, fmt: str) -> Callable[[], str]:
    """The export, made only when the download is clicked rather than on every run of the page."""

    def export() -> str:
        with session_scope(engine) as session:
            return export_conversation(session=session, user=owner, conversation_id=conversation_id, fmt=fmt)

    return export
