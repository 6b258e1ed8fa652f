"""Document tables: an uploaded file of a conversation and the passages it was split into."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.core.audit import utcnow


class SandboxDocument(SQLModel, table=True):
    """A file uploaded into one conversation, embedded once; its vectors live in the conversation's collection."""

    __tablename__ = "sandbox_document"
    __table_args__ = (UniqueConstraint("conversation_id", "content_hash",
                                       name="uq_sandbox_document_conversation_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    # Vector ids and citations use this key, never the row id: SQLite may hand a deleted row's id out again.
    key: str = Field(max_length=32, unique=True)
    conversation_id: int = Field(foreign_key="sandbox_conversation.id", index=True)
    owner_id: int = Field(foreign_key="portal_user.id", index=True)
    file_name: str = Field(max_length=255)
    file_type: str = Field(max_length=10)  # pdf | md | txt
    size_bytes: int
    content_hash: str = Field(max_length=64)  # sha256 of the uploaded bytes
    classification: int
    pages: int = 0  # PDF pages; 0 for Markdown and text
    chunk_count: int = 0
    redactions: int = 0  # values the guardrails replaced before anything was embedded
    embedding_space: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


class DocumentChunk(SQLModel, table=True):
    """One passage of a document as embedded and sent, with where it came from, so a citation can show it."""

    __tablename__ = "sandbox_document_chunk"
    __table_args__ = (UniqueConstraint("document_id", "position", name="uq_sandbox_document_chunk_position"),)

    id: int | None = Field(default=None, primary_key=True)
    document_id: int = Field(foreign_key="sandbox_document.id", index=True)
    position: int  # 0-based order in the document
    page: int | None = None  # 1-based PDF page
    section: str = Field(default="", max_length=500)  # Markdown headings, "Intro > Setup"
    text: str = Field(sa_column=Column(Text, nullable=False))
