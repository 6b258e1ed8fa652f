"""The sandbox page's message form and one turn: checked, streamed live, recorded, its guardrails or failure told.

Not a page: portal/views/sandbox.py imports it. The services in sandbox.chat (and, for a question about the
conversation's documents, sandbox.documents.answering) do the work.
"""

from __future__ import annotations

import streamlit as st

from portal import deps
from portal.core.db import session_scope
from portal.ui import plain, streamed_text
from portal.views import _sandbox_documents as docs
from portal.views._sandbox_conversations import CONVERSATION, NOTICE
from portal.views._sandbox_messages import TurnNotice, as_text, guardrail_notice, show_guardrail_notice
from portal.views._sandbox_settings import ChatSettings
from sandbox.chat import TurnRequest, TurnStream, prepare_turn, record_turn
from sandbox.guardrails import describe

DRAFT = "sandbox_draft"
CLEAR_DRAFT = "sandbox_clear_draft"  # set after a turn that got a whole answer: the next run empties the draft
state = st.session_state  # a proxy: each run reads and writes its own session's state


def message_form(ctx: docs.DocumentsContext, settings: ChatSettings | None, *, use_documents: bool) -> None:
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
    _run_turn(ctx, message, settings, live, from_documents=use_documents)


def _show_notice() -> bool:
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


def _run_turn(ctx: docs.DocumentsContext, message: str, settings: ChatSettings, live, *,
              from_documents: bool) -> None:
    """Check, stream and record one turn into `live`; the draft is emptied only when a whole answer arrived."""
    request = TurnRequest(message=message, model_name=settings.model.name, classification=settings.classification,
                          conversation_id=state.get(CONVERSATION), system_prompt=settings.system_prompt,
                          temperature=settings.temperature, top_p=settings.top_p, max_tokens=settings.max_tokens)
    turn = None
    with live, deps.showing_errors(), session_scope(ctx.engine) as session:
        turn = (docs.prepare(ctx, session, request) if from_documents
                else prepare_turn(session=session, user=ctx.user, policy=ctx.policy, request=request))
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
        stream = TurnStream(prepared, ctx.metered)
        with st.chat_message("assistant"):
            st.write_stream(streamed_text(stream))  # as typed while it streams; Markdown once recorded
    recorded = None
    with live, deps.showing_errors(), session_scope(ctx.engine) as session:
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
