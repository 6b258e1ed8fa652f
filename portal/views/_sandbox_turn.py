"""The sandbox page's message form and one turn: checked, streamed live, recorded, its guardrails or failure told.

Not a page: portal/views/sandbox.py imports it and hands in how a message becomes a turn (a chat turn, or a
question answered from the conversation's documents). Any metering.turn.Turn runs here the same way: prepare,
stream through the metered gateway, record, notice. The services in sandbox.chat and
sandbox.documents.answering do the work.
"""

from __future__ import annotations

import streamlit as st

from collections.abc import Callable

from metering.turn import Turn
from portal import deps
from portal.core.db import session_scope
from portal.ui import plain, streamed_text
from portal.views import _sandbox_documents as docs
from portal.views._sandbox_conversations import CONVERSATION, NOTICE
from portal.views._sandbox_messages import TurnNotice, as_text, show_notice
from portal.views._sandbox_settings import ChatSettings
from sandbox.chat import TurnRequest

DRAFT = "sandbox_draft"
CLEAR_DRAFT = "sandbox_clear_draft"  # set after a turn that got a whole answer: the next run empties the draft
state = st.session_state  # a proxy: each run reads and writes its own session's state


def message_form(ctx: docs.DocumentsContext, settings: ChatSettings | None, *,
                 make_turn: Callable[[TurnRequest], Turn]) -> None:
    """The last turn's notice and the message form; a sent message streams its turn above the form."""
    notice_slot = st.empty()
    with notice_slot.container():
        retry = _show_notice()
    live = st.container()
    with st.form("sandbox_form", border=False):
        st.text_area("Your message", key=DRAFT, height=140, placeholder="Write or paste your message here.",
                     help=f"Up to {ctx.policy.max_message_chars:,} characters. Ctrl+Enter sends it.")
        send = st.form_submit_button("Send", type="primary", icon=":material/send:", disabled=settings is None)
    if not (send or retry) or settings is None:
        return
    message = state[NOTICE].retry_message if retry else state.get(DRAFT, "")
    state.pop(NOTICE, None)
    notice_slot.empty()
    _run_turn(ctx, message, settings, live, make_turn)


def _show_notice() -> bool:
    """The last turn's notice and failure; True when its Retry button was pressed."""
    notice: TurnNotice | None = state.get(NOTICE)
    if notice is None:
        return False
    show_notice(notice)
    if not notice.error:
        return False
    st.error(plain(notice.error), icon=":material/cloud_off:")
    return st.button("Retry", key="sandbox_retry", icon=":material/refresh:",
                     help="Send the same message again.")


def _run_turn(ctx: docs.DocumentsContext, message: str, settings: ChatSettings, live,
              make_turn: Callable[[TurnRequest], Turn]) -> None:
    """Check, stream and record one turn into `live`; the draft is emptied only when a whole answer arrived."""
    request = TurnRequest(message=message, model_name=settings.model.name, classification=settings.classification,
                          conversation_id=state.get(CONVERSATION), system_prompt=settings.system_prompt,
                          temperature=settings.temperature, top_p=settings.top_p, max_tokens=settings.max_tokens)
    turn = prepared = None
    with live, deps.showing_errors(), session_scope(ctx.engine) as session:
        turn = make_turn(request)
        prepared = turn.prepare(session)
    if prepared is None:
        return
    if prepared.error:  # it failed before the call (a document question could not be embedded); that is recorded
        state[NOTICE] = TurnNotice(error=prepared.error, retry_message=message)
        st.rerun()
    if prepared.blocked_message:
        live.error(plain(prepared.blocked_message), icon=":material/block:")
        return
    notice = turn.notice()
    with live:
        show_notice(notice)
        with st.chat_message("user"):
            st.markdown(as_text(prepared.question))
        stream = turn.stream(ctx.metered)
        with st.chat_message("assistant"):
            st.write_stream(streamed_text(stream))  # as typed while it streams; Markdown once recorded
    recorded = None
    with live, deps.showing_errors(), session_scope(ctx.engine) as session:
        recorded = turn.record(session, stream)
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
