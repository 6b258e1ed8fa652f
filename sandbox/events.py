"""The sandbox's audit events: guardrail findings in documents, conversations renamed, deleted or shared, documents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from catalog.models import DataClassification
from guardrails.events import GuardrailFired
from portal.core.audit import Event, JSONDict


@dataclass(frozen=True)
class DocumentGuardrailFired(GuardrailFired):
    """The same finding in a document (at upload, or in passages sent with an answer): about its conversation."""

    entity_type: ClassVar[str] = "document"


@dataclass(frozen=True)
class ConversationRenamed(Event):
    action: ClassVar[str] = "sandbox.conversation_renamed"
    entity_type: ClassVar[str] = "conversation"
    conversation_id: int
    old_title: str
    new_title: str

    def entity_id(self) -> int:
        return self.conversation_id

    def before(self) -> JSONDict:
        return {"title": self.old_title}

    def after(self) -> JSONDict:
        return {"title": self.new_title}


@dataclass(frozen=True)
class ConversationDeleted(Event):
    action: ClassVar[str] = "sandbox.conversation_deleted"
    entity_type: ClassVar[str] = "conversation"
    conversation_id: int
    title: str

    def entity_id(self) -> int:
        return self.conversation_id

    def before(self) -> JSONDict:
        return {"title": self.title}


@dataclass(frozen=True)
class ConversationShared(Event):
    action: ClassVar[str] = "sandbox.conversation_shared"
    entity_type: ClassVar[str] = "conversation"
    conversation_id: int
    email: str

    def entity_id(self) -> int:
        return self.conversation_id

    def summary(self) -> str:
        return f"shared read-only with {self.email}"

    def after(self) -> JSONDict:
        return {"shared_with": self.email}


@dataclass(frozen=True)
class ConversationShareRevoked(Event):
    action: ClassVar[str] = "sandbox.conversation_share_revoked"
    entity_type: ClassVar[str] = "conversation"
    conversation_id: int
    email: str

    def entity_id(self) -> int:
        return self.conversation_id

    def summary(self) -> str:
        return f"no longer shared with {self.email}"

    def before(self) -> JSONDict:
        return {"shared_with": self.email}


@dataclass(frozen=True)
class DocumentAdded(Event):
    action: ClassVar[str] = "sandbox.document_added"
    entity_type: ClassVar[str] = "document"
    document_id: int
    conversation_id: int
    file_type: str
    size_bytes: int
    classification: DataClassification
    passages: int

    def entity_id(self) -> int:
        return self.document_id

    def summary(self) -> str:
        return f"{self.passages} passages"

    def after(self) -> JSONDict:
        return {"conversation_id": self.conversation_id, "type": self.file_type, "size_bytes": self.size_bytes,
                "classification": self.classification.label, "passages": self.passages}


@dataclass(frozen=True)
class DocumentRemoved(Event):
    action: ClassVar[str] = "sandbox.document_removed"
    entity_type: ClassVar[str] = "document"
    document_id: int
    conversation_id: int

    def entity_id(self) -> int:
        return self.document_id

    def before(self) -> JSONDict:
        return {"conversation_id": self.conversation_id}


SANDBOX_EVENTS: tuple[type[Event], ...] = (DocumentGuardrailFired, ConversationRenamed, ConversationDeleted,
                                           ConversationShared, ConversationShareRevoked,
                                           DocumentAdded, DocumentRemoved)
