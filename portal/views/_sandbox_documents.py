"""The sandbox page's documents: upload with a classification, list and remove, ask from them, open citations.

Not a page: portal/views/sandbox.py and its turn part import it. The services in sandbox.documents do the work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st
from chromadb.api import ClientAPI

from catalog.models import DataClassification
from metering.gateway import MeteredGateway
from metering.turn import Turn
from portal import deps
from portal.core.db import Engine, session_scope
from portal.core.users import User
from portal.ui import plain, run_action
from portal.views._sandbox_messages import TurnNotice, as_text, show_notice
from langchain_core.embeddings import Embeddings

from sandbox.chat import ChatTurn, SandboxPolicy, TurnRequest
from sandbox.documents.answering import (
    Citation,
    DocumentChatTurn,
    cited_passages,
    message_citations,
)
from sandbox.documents.library import UploadRequest, delete_document, list_documents, upload_document
from sandbox.documents.models import DocumentChunk, SandboxDocument
from sandbox.documents.reading import DocumentLimits
from guardrails.text import describe
from sandbox.models import ChatMessage, Conversation

C = DataClassification
USE_DOCUMENTS = "sandbox_use_documents"
DOCUMENT_CLASSIFICATION = "sandbox_document_classification"
UPLOAD_ROUND = "sandbox_document_round"  # a new uploader key after each upload empties the widget
UPLOAD_NOTICE = "sandbox_upload_notice"  # what the last upload did (a guardrail TurnNotice), shown after its rerun


@dataclass(frozen=True)
class DocumentsContext:
    """What the documents part needs from the page."""

    engine: Engine
    metered: MeteredGateway
    user: User
    policy: SandboxPolicy
    vectors: ClientAPI
    make_embeddings: Callable[[], Embeddings]  # on use: a missing embedding setting then shows as a message
    limits: DocumentLimits
    top_k: int


def conversation_documents(ctx: DocumentsContext, conversation: Conversation | None) -> list[SandboxDocument]:
    if conversation is None:
        return []
    with session_scope(ctx.engine) as session:
        return list_documents(session=session, user=ctx.user, conversation_id=conversation.id)


def documents_panel(ctx: DocumentsContext, *, conversation: Conversation | None, state_key: str,
                    classification: DataClassification, model_name: str | None) -> list[SandboxDocument]:
    """The conversation's documents and the upload; an upload opens its conversation (in `state_key`)."""
    show_upload_notice()
    documents = conversation_documents(ctx, conversation)
    if model_name is None and conversation is not None:
        model_name = conversation.model_name
    opened = _panel(ctx, conversation=conversation, documents=documents, classification=classification,
                    model_name=model_name)
    if opened is not None:
        st.session_state[state_key] = opened
        st.rerun()
    return documents


def _panel(ctx: DocumentsContext, *, conversation: Conversation | None, documents: list[SandboxDocument],
           classification: DataClassification, model_name: str | None) -> int | None:
    """The documents expander; returns the conversation id after an upload started or changed one."""
    label = f"Documents ({len(documents)})" if documents else "Documents"
    with st.expander(label, icon=":material/description:", expanded=bool(documents)):
        for document in documents:
            _document_row(ctx, document)
        if documents:
            st.toggle("Answer from these documents", key=USE_DOCUMENTS, value=True,
                      help="On: each question is answered from the nearest passages, with citations. "
                           "Off: a plain chat turn.")
        return _upload_form(ctx, conversation=conversation, classification=classification, model_name=model_name)


def _document_row(ctx: DocumentsContext, document: SandboxDocument) -> None:
    where = f"{document.pages} pages · " if document.pages else ""
    name_col, remove_col = st.columns([3, 1], vertical_alignment="center")
    name_col.markdown(f"**{plain(document.file_name)}**  \n{where}{document.chunk_count} passages · "
                      f"{C(document.classification).label} data"
                      + (f" · {document.redactions} values redacted" if document.redactions else ""))
    if remove_col.button("Remove", key=f"sandbox_document_remove_{document.id}", icon=":material/delete:",
                         width="stretch", help="Remove the document, its passages and its vectors."):
        run_action(lambda session: delete_document(session=session, user=ctx.user, document_id=document.id,
                                                   vectors=ctx.vectors),
                   engine=ctx.engine, success=None)


def _upload_form(ctx: DocumentsContext, *, conversation: Conversation | None, classification: DataClassification,
                 model_name: str | None) -> int | None:
    floor = C(conversation.classification) if conversation is not None else C.PUBLIC
    options = [c for c in C if c >= floor]
    if st.session_state.get(DOCUMENT_CLASSIFICATION) not in options:
        st.session_state[DOCUMENT_CLASSIFICATION] = max(classification, floor)
    upload_round = st.session_state.setdefault(UPLOAD_ROUND, 0)
    uploaded = st.file_uploader("Add a PDF, Markdown or text file", key=f"sandbox_document_file_{upload_round}",
                                type=[f".{t}" for t in ctx.limits.allowed_types] + (
                                    [".markdown"] if "md" in ctx.limits.allowed_types else []),
                                help=f"Up to {ctx.limits.max_mb:g} MB. Its text is checked for personal and secret "
                                     "data, split into passages and indexed for this conversation only.")
    chosen = st.selectbox("Data in this document", options, format_func=lambda c: c.label,
                          key=DOCUMENT_CLASSIFICATION,
                          help="The conversation rises to this level: only models cleared for it can answer.")
    if not st.button("Add document", key="sandbox_document_add", icon=":material/upload_file:",
                     disabled=uploaded is None or model_name is None):
        return None
    return _add(ctx, conversation, uploaded.name, uploaded.getvalue(), chosen, model_name or "")


def _add(ctx: DocumentsContext, conversation: Conversation | None, name: str, data: bytes,
         classification: DataClassification, model_name: str) -> int | None:
    """Upload one file; say what happened; the file stays in the uploader unless it was taken."""
    outcome = None
    request = UploadRequest(file_name=name, data=data, classification=classification, model_name=model_name,
                            conversation_id=conversation.id if conversation is not None else None)
    with deps.showing_errors(), session_scope(ctx.engine) as session:
        outcome = upload_document(session=session, user=ctx.user, request=request, policy=ctx.policy,
                                  limits=ctx.limits, embeddings=ctx.make_embeddings(),
                                  vectors=ctx.vectors, metered=ctx.metered)
    if outcome is None:
        return None
    if outcome.guardrails is not None and outcome.guardrails.blocked:
        st.error(plain(describe(outcome.guardrails, what="this document")), icon=":material/block:")
        return None
    if outcome.error:
        st.error(plain(outcome.error), icon=":material/cloud_off:")
        return None
    st.session_state[UPLOAD_ROUND] += 1
    st.session_state[UPLOAD_NOTICE] = _upload_message(outcome, name)
    return outcome.conversation_id


def _upload_message(outcome, name: str) -> TurnNotice:
    if outcome.already_there:
        return TurnNotice(guardrail=f"“{name}” is already in this conversation; nothing was embedded again.",
                          action="info")
    if outcome.guardrails is not None and outcome.guardrails.findings:
        return TurnNotice(guardrail=f"Added “{name}”. " + describe(outcome.guardrails),
                          action=outcome.guardrails.action.value, replacements=list(outcome.guardrails.replacements))
    kept = " (embedded once already, in another of your conversations)" if outcome.vectors_reused else ""
    return TurnNotice(guardrail=f"Added “{name}”: {outcome.document.chunk_count} passages{kept}, ready for "
                                "questions.", action="info")


def show_upload_notice() -> None:
    """What the last upload did, once, after its rerun."""
    show_notice(st.session_state.pop(UPLOAD_NOTICE, None), columns=("indexed and sent as", "in your file"))


def turn_for(ctx: DocumentsContext, *, use_documents: bool) -> Callable[[TurnRequest], Turn]:
    """How the page answers its next message: from the conversation's documents, or as a plain chat turn."""
    if use_documents:
        return lambda request: DocumentChatTurn(user=ctx.user, policy=ctx.policy, request=request,
                                                embeddings=ctx.make_embeddings(), vectors=ctx.vectors,
                                                top_k=ctx.top_k, metered=ctx.metered)
    return lambda request: ChatTurn(user=ctx.user, policy=ctx.policy, request=request)


def passages_of(ctx: DocumentsContext, conversation: Conversation | None,
                history: list[ChatMessage]) -> dict[tuple[str, int], DocumentChunk]:
    """The passages the conversation's answers cite, for opening them; no query when none cites any."""
    citations = [c for message in history for c in message_citations(message)]
    if conversation is None or not citations:
        return {}
    with session_scope(ctx.engine) as session:
        return cited_passages(session=session, user=ctx.user, conversation_id=conversation.id, citations=citations)


def show_citations(message: ChatMessage, passages: dict[tuple[str, int], DocumentChunk] | None) -> None:
    """Under a document answer: each passage it was given, openable as plain text."""
    citations = message_citations(message)
    if not citations:
        return
    st.caption(f"Sources — {len(citations)} passages from your documents:")
    for citation in citations:
        _citation(citation, passages)


def _citation(citation: Citation, passages: dict[tuple[str, int], DocumentChunk] | None) -> None:
    label = citation.label + ("" if citation.cited else " (not named in the answer)")
    chunk = (passages or {}).get((citation.document_key, citation.position))
    with st.expander(label, icon=":material/format_quote:"):
        if passages is None:
            st.caption("Only the conversation's owner can open its passages.")
        elif chunk is None:
            st.caption("This document has been removed from the conversation.")
        else:
            st.markdown(as_text(chunk.text))
