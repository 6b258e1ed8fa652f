"""Answering from a conversation's documents: retrieve passages, send them numbered, keep the citations.

`DocumentChatTurn` is the document implementation of metering.turn.Turn: `prepare_document_turn` runs the chat
checks on the question (model, classification, budgets, guardrails on the question and the system prompt),
embeds it, takes the nearest passages, guards them with their document names and headings for this turn's data,
and builds the prompt; the page streams it with `TurnStream`, and `record_document_turn` stores the answer with
its citations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from chromadb.api import ClientAPI
from langchain_core.embeddings import Embeddings
from sqlmodel import Session, col, select

from catalog.models import DataClassification
from metering.gateway import MeteredGateway
from metering.turn import TurnNotice
from portal.core.audit import record
from portal.core.errors import InvalidInput
from portal.core.users import User
from sandbox.chat import (
    PreparedTurn,
    RecordedTurn,
    SandboxPolicy,
    TurnRequest,
    TurnStream,
    guardrail_notice,
    prepare_turn,
    record_guardrail_finding,
    record_turn,
)
from sandbox.documents.embedding_calls import embed_texts, embedding_card
from sandbox.documents.library import conversation_collection, list_documents
from sandbox.documents.models import DocumentChunk, SandboxDocument
from sandbox.events import DocumentGuardrailFired
from guardrails.messages import PreGuarded
from guardrails.text import GuardrailOutcome, describe, guard_alongside
from sandbox.models import SANDBOX_DOCUMENTS

INSTRUCTIONS = ("Answer the question using the numbered passages from the user's documents below. Cite each "
                "passage you use by its number in square brackets, like [1]. If the passages do not hold the "
                "answer, say so.")


@dataclass(frozen=True)
class Citation:
    """A passage an answer was given: its number in the prompt, and where it is in which document."""

    number: int
    document_key: str
    position: int
    file_name: str
    page: int | None
    section: str
    cited: bool = False  # the answer names it as [number]

    @property
    def label(self) -> str:
        """'[2] handbook.pdf, page 3' or '[1] guide.md, Setup > Install'."""
        where = f"page {self.page}" if self.page else self.section
        return f"[{self.number}] {self.file_name}" + (f", {where}" if where else "")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Citation:
        return cls(**{name: data.get(name) for name in cls.__dataclass_fields__})


@dataclass
class DocumentTurn:
    """A checked document question: the turn to stream, its citations, and what stopped it if anything did."""

    prepared: PreparedTurn
    question: str  # as stored in the conversation: the question alone, as sent
    citations: list[Citation] = field(default_factory=list)
    passage_guardrails: GuardrailOutcome | None = None
    error: str = ""  # the question could not be embedded (the failed call is recorded)

    @property
    def blocked(self) -> bool:
        return self.prepared.blocked or bool(self.passage_guardrails and self.passage_guardrails.blocked)

    @property
    def blocked_message(self) -> str:
        """Why nothing is sent: the question or system prompt, else the passages with their names."""
        if self.prepared.blocked or not self.blocked:
            return self.prepared.blocked_message
        return describe(self.passage_guardrails, what="the question with these passages")

    def notice(self) -> TurnNotice:
        """What the guardrails did to the question, the system prompt and, under this turn's rules, the passages."""
        notice = self.prepared.notice()
        if self.passage_guardrails is not None:
            notice = notice.joined(guardrail_notice(self.passage_guardrails, where="the passages"))
        return notice


def prepare_document_turn(*, session: Session, user: User, policy: SandboxPolicy, request: TurnRequest,
                          embeddings: Embeddings, vectors: ClientAPI, top_k: int,
                          metered: MeteredGateway) -> DocumentTurn:
    """Check the question like a chat turn, then find and guard the passages it will be answered from."""
    if request.conversation_id is None:
        raise InvalidInput("Upload a document first: questions are answered from the conversation's documents.")
    documents = list_documents(session=session, user=user, conversation_id=request.conversation_id)
    if not documents:
        raise InvalidInput("This conversation has no documents yet. Upload one, or send the message as a chat.")
    floor = DataClassification(max(d.classification for d in documents))
    request = replace(request, classification=max(request.classification, floor))
    # The question's guardrail finding is audited after the embedding call: the metered path reserves in
    # transactions of its own, which must not wait on a write of this one.
    prepared = prepare_turn(session=session, user=user, policy=policy, request=request, audit_guardrails=False,
                            source=SANDBOX_DOCUMENTS)
    turn = DocumentTurn(prepared=prepared, question=prepared.question)
    if prepared.blocked:
        record_guardrail_finding(session, prepared)
        return turn
    request = prepared.request  # the conversation's own level may have raised it further
    card = embedding_card(session=session, user=user, embeddings=embeddings, classification=request.classification)
    embedded = embed_texts(metered=metered, user=user, embeddings=embeddings, card=card, texts=[turn.question],
                           classification=request.classification, guarded=PreGuarded(prepared.guardrails.action))
    record_guardrail_finding(session, prepared)
    if embedded.error is not None:
        turn.error = embedded.error.message
        return turn
    chunks = _nearest(session, documents, vectors, user=user, embeddings=embeddings, vector=embedded.vectors[0],
                      top_k=top_k)
    blocks = _guarded_passages(session, turn, chunks, policy, request, {d.id: d for d in documents})
    if turn.blocked:
        turn.citations = []
        return turn
    prepared.messages[-1] = {"role": "user", "content": _prompt(blocks, turn.question)}
    return turn


def _nearest(session: Session, documents: list[SandboxDocument], vectors: ClientAPI, *, user: User,
             embeddings: Embeddings, vector: list[float], top_k: int) -> list[DocumentChunk]:
    """The passages closest to the question, nearest first, read from SQL (the source of truth)."""
    collection = conversation_collection(vectors, user_id=user.id, conversation_id=documents[0].conversation_id,
                                         embeddings=embeddings)
    keys = [d.key for d in documents]
    # Only this conversation's current documents: a vector left behind by a failed delete is never used.
    found = collection.query(query_embeddings=[vector], n_results=max(1, top_k), where={"document": {"$in": keys}},
                             include=["metadatas"])
    wanted = [(m["document"], m["position"]) for m in (found["metadatas"] or [[]])[0]]
    id_of = {d.key: d.id for d in documents}
    rows = session.exec(select(DocumentChunk).where(
        col(DocumentChunk.document_id).in_({id_of[key] for key, _ in wanted}))).all()
    by_place = {(r.document_id, r.position): r for r in rows}
    return [by_place[(id_of[key], position)] for key, position in wanted if (id_of[key], position) in by_place]


def _guarded_passages(session: Session, turn: DocumentTurn, chunks: list[DocumentChunk], policy: SandboxPolicy,
                      request: TurnRequest, by_id: dict[int, SandboxDocument]) -> list[str]:
    """The numbered passages, each under its document's name and heading, as this turn's data rules allow: they
    were guarded at upload, perhaps under a looser rule (or, for names and headings, before they were guarded)."""
    turn.citations = [Citation(number=n, document_key=by_id[c.document_id].key, position=c.position,
                               file_name=by_id[c.document_id].file_name, page=c.page, section=c.section)
                      for n, c in enumerate(chunks, start=1)]
    blocks = [f"{c.label}\n{chunk.text}" for c, chunk in zip(turn.citations, chunks, strict=True)]
    outcome, sendable = guard_alongside(turn.question, blocks, policy.guardrail_action(request.classification))
    if outcome is None:
        return blocks
    turn.passage_guardrails = outcome
    record(session, turn.prepared.user, DocumentGuardrailFired(
        subject=request.conversation_id or "", outcome=outcome, classification=request.classification,
        source="document passages"))
    return sendable


def _prompt(blocks: list[str], question: str) -> str:
    """The instructions, the numbered passages with where they come from, and the question."""
    return "\n\n".join([INSTRUCTIONS, *blocks, f"Question: {question}"])


def record_document_turn(*, session: Session, turn: DocumentTurn, stream: TurnStream) -> RecordedTurn:
    """Store the question and the (possibly partial) answer with its citations (the usage is settled already)."""
    recorded = record_turn(session=session, stream=stream, question=turn.question)
    if recorded.answer is not None:
        cited = set(re.findall(r"\[(\d+)\]", recorded.answer.content))
        recorded.answer.citations = [asdict(replace(c, cited=str(c.number) in cited)) for c in turn.citations]
        session.add(recorded.answer)
        session.flush()
    return recorded


def message_citations(message: Any) -> list[Citation]:
    """The citations stored with an assistant message (none for a plain chat answer)."""
    return [Citation.from_dict(c) for c in (getattr(message, "citations", None) or [])]


def cited_passages(*, session: Session, user: User, conversation_id: int,
                   citations: Iterable[Citation] | None = None) -> dict[tuple[str, int], DocumentChunk]:
    """The passages of a conversation's documents by (document key, position), for opening citations: only the
    ones `citations` name when given (the page passes its answers' citations; nothing to load without any)."""
    wanted = None if citations is None else {(c.document_key, c.position) for c in citations}
    if wanted == set():
        return {}
    documents = list_documents(session=session, user=user, conversation_id=conversation_id)
    keys = {d.id: d.key for d in documents if wanted is None or d.key in {key for key, _ in wanted}}
    query = select(DocumentChunk).where(col(DocumentChunk.document_id).in_(list(keys)))
    if wanted is not None:
        query = query.where(col(DocumentChunk.position).in_({position for _, position in wanted}))
    rows = session.exec(query).all()
    found = {(keys[r.document_id], r.position): r for r in rows}
    return found if wanted is None else {key: chunk for key, chunk in found.items() if key in wanted}


@dataclass
class DocumentChatTurn:
    """A question answered from the conversation's documents (metering.turn.Turn), run by the page like a chat."""

    user: User
    policy: SandboxPolicy
    request: TurnRequest
    embeddings: Embeddings
    vectors: ClientAPI
    top_k: int
    metered: MeteredGateway  # the question's embedding is a metered call of its own, made while preparing
    prepared: DocumentTurn | None = None

    def prepare(self, session: Session) -> DocumentTurn:
        self.prepared = prepare_document_turn(session=session, user=self.user, policy=self.policy,
                                              request=self.request, embeddings=self.embeddings,
                                              vectors=self.vectors, top_k=self.top_k, metered=self.metered)
        return self.prepared

    def stream(self, metered: MeteredGateway) -> TurnStream:
        return TurnStream(self._prepared().prepared, metered)  # the chat turn inside, its question with passages

    def record(self, session: Session, stream: TurnStream) -> RecordedTurn:
        return record_document_turn(session=session, turn=self._prepared(), stream=stream)

    def notice(self) -> TurnNotice:
        return self._prepared().notice()

    def _prepared(self) -> DocumentTurn:
        if self.prepared is None:
            raise RuntimeError("Prepare the turn before streaming it.")
        return self.prepared
