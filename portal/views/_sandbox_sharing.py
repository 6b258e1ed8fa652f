"""The sandbox page's sharing parts: the Share popover, the "Shared with you" list and the read-only view.

Not a page: portal/views/sandbox.py and its conversations part import it.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from catalog.models import DataClassification
from portal.core.capabilities import CapabilityGate
from portal.core.db import Engine, Session, session_scope
from portal.core.errors import NotFound
from portal.core.users import User
from portal.ui import plain
from portal.views._sandbox_documents import show_citations
from portal.views._sandbox_messages import show_messages
from sandbox.models import Conversation
from sandbox.sharing import SharingNotAllowed, conversations_shared_with, read_shared_conversation, revoke_share
from sandbox.sharing import share_conversation, shares_of

SHARED = "sandbox_shared_conversation_id"  # a conversation a colleague shared, open read-only; absent = none
Change = Callable[[Callable[[Session], object], str], None]


def open_shared(conversation_id: int) -> None:
    st.session_state[SHARED] = conversation_id


def close_shared() -> None:
    st.session_state.pop(SHARED, None)


def share_popover(container, *, engine: Engine, user: User, conversation: Conversation, change: Change,
                  capabilities: CapabilityGate) -> None:
    """Share the conversation on screen with a colleague by e-mail, and see and revoke its shares."""
    with container.popover("Share", icon=":material/share:"):
        st.markdown("Colleagues you share with can read this conversation in their sandbox; they cannot "
                    "continue it.")
        email = st.text_input("Colleague's e-mail address", key=f"sandbox_share_email_{conversation.id}",
                              max_chars=320, placeholder="name@example.com")
        if st.button("Share read-only", key="sandbox_share"):
            change(lambda session: share_conversation(session=session, user=user, conversation_id=conversation.id,
                                                      with_email=email, capabilities=capabilities),
                   f"Shared with {plain(email.strip())}.")
        with session_scope(engine) as session:
            shares = shares_of(session=session, user=user, conversation_id=conversation.id,
                               capabilities=capabilities)
        if not shares:
            st.caption("Not shared with anyone.")
        for share in shares:
            who_col, revoke_col = st.columns([3, 1], vertical_alignment="center")
            who_col.markdown(f"{plain(share.email)}  \n:gray[since {share.shared_at:%Y-%m-%d %H:%M} UTC]")
            if share.suspended:
                who_col.caption(f":orange[{plain(share.suspended)}]")
            if revoke_col.button("Revoke", key=f"sandbox_revoke_{share.user_id}"):
                change(lambda session, colleague=share.user_id: revoke_share(
                    session=session, user=user, conversation_id=conversation.id, shared_with_user_id=colleague),
                    f"No longer shared with {plain(share.email)}.")


def shared_with_you(*, engine: Engine, user: User, capabilities: CapabilityGate) -> None:
    """The sidebar's list of conversations colleagues shared with the user; opening an unavailable one says why."""
    with session_scope(engine) as session:
        shared = conversations_shared_with(session=session, user=user, capabilities=capabilities)
    if not shared:
        return
    st.subheader("Shared with you")
    open_id = st.session_state.get(SHARED)
    for item in shared:
        label = f"Unavailable ({plain(item.owner_name)})" if item.unavailable else plain(item.title)
        about = plain(item.unavailable) or f"Shared by {plain(item.owner_name)} · {item.updated_at:%Y-%m-%d %H:%M} UTC"
        st.button(label, key=f"sandbox_shared_{item.conversation_id}", on_click=open_shared,
                  args=(item.conversation_id,), icon=":material/lock:" if item.unavailable else None,
                  type="primary" if item.conversation_id == open_id else "tertiary", width="stretch", help=about)


def show_shared(*, engine: Engine, user: User, conversation_id: int, capabilities: CapabilityGate) -> bool:
    """A shared conversation, read-only; False (and a note) when the user may not, or no longer, read it."""
    try:
        with session_scope(engine) as session:
            shared = read_shared_conversation(session=session, user=user, conversation_id=conversation_id,
                                              capabilities=capabilities)
    except NotFound:
        close_shared()
        st.info("That conversation is no longer shared with you.", icon=":material/link_off:")
        return False
    except SharingNotAllowed as refused:
        close_shared()
        st.warning(refused.message, icon=":material/lock:")
        return False
    c = shared.conversation
    st.subheader(plain(c.title))
    st.caption(f"Shared by {plain(shared.owner_name)}, read-only · {plain(c.model_name)} · "
               f"{DataClassification(c.classification).label} data")
    st.button("Back to your conversations", key="sandbox_close_shared", icon=":material/arrow_back:",
              on_click=close_shared)
    if not shared.messages:
        st.caption("No messages yet.")
    show_messages(shared.messages, under_answer=lambda message: show_citations(message, None))
    return True
