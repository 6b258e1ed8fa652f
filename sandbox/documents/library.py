"""A conversation's documents: upload (read, guard, split, embed once, index), list and remove.

SQL holds each document and its passages (so citations open without Chroma); Chroma holds the vectors in
one collection per user and conversation, each vector tagged with its document's key.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field

from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from langchain_core.embeddings import Embeddings
from sqlalchemy import delete
from sqlmodel import Session, col, select

from catalog.models import DataClassification
from sandbox.events import DocumentAdded, DocumentGuardrailFired, DocumentRemoved
from portal.core.audit import record, utcnow
from portal.core.auth import Permission, require
from portal.core.embeddings import embedding_space
from portal.core.errors import NotFound
from portal.core.users import User
from portal.core.vector_index import EmbeddingSpaceMismatch, collection_name, drop_collection, vector_collection
from sandbox.chat import SandboxPolicy, own_conversation
from metering.gateway import MeteredGateway
from sandbox.documents.embedding_calls import embed_texts, embedding_card
from sandbox.documents.models import DocumentChunk, SandboxDocument
from sandbox.documents.reading import (
    DocumentError,
    DocumentLimits,
    Segment,
    check_size,
    file_type,
    read_segments,
    split_passages,
)
from guardrails.messages import PreGuarded
from guardrails.text import GuardrailOutcome, apply_guardrails
from sandbox.models import Conversation

SEPARATOR = "\f"  # between segments while the guardrails read the whole document; reading.py removes it from text


@dataclass(frozen=True)
class UploadRequest:
    """A file to add to a conversation (None = start one with `model_name`), and how sensitive it is."""

    file_name: str
    data: bytes = field(repr=False)
    classification: DataClassification
    conversation_id: int | None = None
    model_name: str = ""


@dataclass
class UploadOutcome:
    """What happened: the document stored (or found already there), what the guardrails did, or the failure."""

    document: SandboxDocument | None
    conversation_id: int | None
    guardrails: GuardrailOutcome | None = None
    already_there: bool = False
    vectors_reused: bool = False  # the same file's vectors were taken from another of the user's conversations
    error: str = ""  # the gateway failed while embedding; nothing was stored but the failed call's usage


def upload_document(*, session: Session, user: User, request: UploadRequest, policy: SandboxPolicy,
                    limits: DocumentLimits, embeddings: Embeddings, vectors: ClientAPI,
                    metered: MeteredGateway) -> UploadOutcome:
    """Read, guard, split and embed a file once; bad input raises DocumentError and stores nothing."""
    require(user, Permission.USE_SANDBOX)
    kind = file_type(request.file_name, limits)
    check_size(request.file_name, len(request.data), limits)
    conversation = (own_conversation(session=session, user=user, conversation_id=request.conversation_id)
                    if request.conversation_id is not None else None)
    digest = hashlib.sha256(request.data).hexdigest()
    if conversation is not None and (known := _same_file(session, conversation.id, digest)) is not None:
        return UploadOutcome(document=known, conversation_id=conversation.id, already_there=True)
    segments = read_segments(request.file_name, kind, request.data, limits)
    file_name, segments, outcome = _guarded(request.file_name, segments, policy, request.classification)
    if outcome.blocked:
        _audit_guardrails(session, user, outcome, request)
        return UploadOutcome(document=None, conversation_id=request.conversation_id, guardrails=outcome)
    passages = split_passages(request.file_name, segments, limits)
    card = embedding_card(session=session, user=user, embeddings=embeddings, classification=request.classification)
    kept = _vectors_kept(session, vectors, user=user, digest=digest, space=embedding_space(embeddings),
                         texts=[p.text for p in passages])
    # Embedded before this transaction writes anything: the metered path reserves in transactions of its own.
    embedded = None if kept is not None else embed_texts(
        metered=metered, user=user, embeddings=embeddings, card=card, texts=[p.text for p in passages],
        classification=request.classification, guarded=PreGuarded(outcome.action))
    if outcome.findings:
        _audit_guardrails(session, user, outcome, request)
    if embedded is not None and embedded.error is not None:
        return UploadOutcome(document=None, conversation_id=request.conversation_id, error=embedded.error.message)
    conversation = _conversation_for(session, user, conversation, request, title=file_name)
    document = SandboxDocument(
        key=uuid.uuid4().hex, conversation_id=conversation.id, owner_id=user.id, file_name=file_name[:255],
        file_type=kind, size_bytes=len(request.data), content_hash=digest, classification=int(request.classification),
        pages=max((s.page or 0) for s in segments), chunk_count=len(passages),
        redactions=len(outcome.replacements), embedding_space=embedding_space(embeddings))
    session.add(document)
    session.flush()
    session.add_all(DocumentChunk(document_id=document.id, position=p.position, page=p.page, section=p.section,
                                  text=p.text) for p in passages)
    collection = conversation_collection(vectors, user_id=user.id, conversation_id=conversation.id,
                                         embeddings=embeddings)
    collection.add(ids=[vector_id(document.key, p.position) for p in passages],
                   embeddings=kept if kept is not None else embedded.vectors,
                   metadatas=[{"document": document.key, "position": p.position} for p in passages])
    record(session, user, DocumentAdded(document_id=document.id, conversation_id=conversation.id, file_type=kind,
                                        size_bytes=len(request.data), classification=request.classification,
                                        passages=len(passages)))
    return UploadOutcome(document=document, conversation_id=conversation.id, guardrails=outcome,
                         vectors_reused=kept is not None)


def _vectors_kept(session: Session, vectors: ClientAPI, *, user: User, digest: str, space: str,
                  texts: list[str]) -> list[list[float]] | None:
    """The vectors of the very same passages of this file in another of the user's conversations, if kept."""
    earlier_documents = session.exec(select(SandboxDocument).where(
        SandboxDocument.owner_id == user.id, SandboxDocument.content_hash == digest,
        SandboxDocument.embedding_space == space)).all()
    names = _collection_names(vectors)
    for earlier in earlier_documents:
        chunks = session.exec(select(DocumentChunk).where(DocumentChunk.document_id == earlier.id)
                              .order_by(col(DocumentChunk.position))).all()
        name = collection_name("doc", user.id, earlier.conversation_id)
        # Other limits or guardrail rules would have cut or redacted the text differently: then embed anew.
        if [c.text for c in chunks] != texts or name not in names:
            continue
        ids = [vector_id(earlier.key, c.position) for c in chunks]
        found = vectors.get_collection(name).get(ids=ids, include=["embeddings"])
        by_id = dict(zip(found["ids"], found["embeddings"], strict=True))
        if all(i in by_id for i in ids):
            return [[float(x) for x in by_id[i]] for i in ids]
    return None


def _same_file(session: Session, conversation_id: int, digest: str) -> SandboxDocument | None:
    return session.exec(select(SandboxDocument).where(SandboxDocument.conversation_id == conversation_id,
                                                      SandboxDocument.content_hash == digest)).first()


def _guarded(file_name: str, segments: list[Segment], policy: SandboxPolicy,
             classification: DataClassification) -> tuple[str, list[Segment], GuardrailOutcome]:
    """The file name and segments (text and heading) as they may be stored, embedded and sent with a passage;
    one scan of them all so placeholders stay consistent."""
    action = policy.guardrail_action(classification)
    pieces = [file_name, *(s.section for s in segments), *(s.text for s in segments)]
    outcome = apply_guardrails(SEPARATOR.join(pieces), action)
    if outcome.blocked or not outcome.findings:
        return file_name, segments, outcome
    guarded = (outcome.text_to_send or "").split(SEPARATOR)
    if len(guarded) != len(pieces):  # a value ran across a page break: guard each piece on its own instead
        guarded = [apply_guardrails(piece, action).text_to_send or "" for piece in pieces]
    sections, texts = guarded[1:1 + len(segments)], guarded[1 + len(segments):]
    return guarded[0], [Segment(text, s.page, section)
                        for text, section, s in zip(texts, sections, segments, strict=True)], outcome


def _audit_guardrails(session: Session, user: User, outcome: GuardrailOutcome, request: UploadRequest) -> None:
    """Type, count and action only: never the values, nor the file's content."""
    record(session, user, DocumentGuardrailFired(subject=request.conversation_id or "new", outcome=outcome,
                                                 classification=request.classification, source="document upload"))


def _conversation_for(session: Session, user: User, conversation: Conversation | None,
                      request: UploadRequest, *, title: str) -> Conversation:
    """The conversation the document joins, raised to its classification: its passages go with every answer."""
    if conversation is None:
        conversation = Conversation(owner_id=user.id, title=title[:60], model_name=request.model_name,
                                    classification=int(request.classification))
    conversation.classification = max(conversation.classification, int(request.classification))
    conversation.updated_at = utcnow()
    session.add(conversation)
    session.flush()
    return conversation


def vector_id(document_key: str, position: int) -> str:
    """The id of a passage's vector in Chroma."""
    return f"{document_key}:{position}"


def conversation_collection(vectors: ClientAPI, *, user_id: int, conversation_id: int,
                            embeddings: Embeddings) -> Collection:
    """The Chroma collection of one user's conversation, for vectors of the configured embedding source."""
    try:
        return vector_collection(vectors, name=collection_name("doc", user_id, conversation_id),
                                 space=embedding_space(embeddings))
    except EmbeddingSpaceMismatch:
        raise DocumentError("This conversation's documents were indexed with another embedding model than the "
                            "portal uses now. Start a new conversation and upload them there.") from None


def list_documents(*, session: Session, user: User, conversation_id: int) -> list[SandboxDocument]:
    """The documents of one of the user's conversations, oldest first."""
    own_conversation(session=session, user=user, conversation_id=conversation_id)
    return list(session.exec(select(SandboxDocument).where(SandboxDocument.conversation_id == conversation_id)
                             .order_by(col(SandboxDocument.id))).all())


def delete_document(*, session: Session, user: User, document_id: int, vectors: ClientAPI) -> None:
    """Remove a document: its vectors, its passages and its row (answers keep their citation labels)."""
    document = session.get(SandboxDocument, document_id)
    if document is None or document.owner_id != user.id:
        raise NotFound("That document does not exist or is not yours.")
    name = collection_name("doc", user.id, document.conversation_id)
    if name in _collection_names(vectors):
        vectors.get_collection(name).delete(where={"document": document.key})
    session.exec(delete(DocumentChunk).where(col(DocumentChunk.document_id) == document.id))
    session.delete(document)
    record(session, user, DocumentRemoved(document_id=document.id, conversation_id=document.conversation_id))


def delete_conversation_documents(*, session: Session, user: User, conversation_id: int,
                                  vectors: ClientAPI) -> int:
    """Remove every document of a conversation and its whole vector collection; returns how many documents."""
    ids = list(session.exec(select(SandboxDocument.id)
                            .where(SandboxDocument.conversation_id == conversation_id)).all())
    drop_collection(vectors, name=collection_name("doc", user.id, conversation_id))
    if ids:
        session.exec(delete(DocumentChunk).where(col(DocumentChunk.document_id).in_(ids)))
        session.exec(delete(SandboxDocument).where(col(SandboxDocument.id).in_(ids)))
    return len(ids)


def _collection_names(vectors: ClientAPI) -> set[str]:
    return {c if isinstance(c, str) else c.name for c in vectors.list_collections()}
