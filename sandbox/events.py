"""The sandbox's audit events: guardrail findings in documents, conversations renamed, deleted or shared, documents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from catalog.models import DataClassification
from guardrails.events import GuardrailFired
from portal.core.audit import Event, JSONDict, Moved, ValueChange


@dataclass(frozen=True)
class DocumentGuardrailFired(GuardrailFired):
    """The same finding in a document (at upload, or in passages sent with an answer): about its conversation."""

    entity_type: ClassVar[str] = "document"


@dataclass(frozen=True)
class _ConversationEvent(Event):
    """An event about one sandbox conversation, named by its id (not an event type itself: it has no action)."""

    entity_type: ClassVar[str] = "conversation"
    entity_field: ClassVar[str] = "conversation_id"
    conversation_id: int


@dataclass(frozen=True)
class ConversationRenamed(_ConversationEvent, ValueChange):
    action: ClassVar[str] = "sandbox.conversation_renamed"
    moved: ClassVar[Moved] = Moved("title", old="old_title", new="new_title")
    old_title: str
    new_title: str


@dataclass(frozen=True)
class ConversationDeleted(_ConversationEvent):
    action: ClassVar[str] = "sandbox.conversation_deleted"
    title: str

    def before(self) -> JSONDict:
        return {"title": self.title}


@dataclass(frozen=True)
class ConversationShared(_ConversationEvent):
    action: ClassVar[str] = "sandbox.conversation_shared"
    email: str

    def summary(self) -> str:
        return f"shared read-only with {self.email}"

    def after(self) -> JSONDict:
        return {"shared_with": self.email}


@dataclass(frozen=True)
class ConversationShareRevoked(_ConversationEvent):
    action: ClassVar[str] = "sandbox.conversation_share_revoked"
    email: str

    def summary(self) -> str:
        return f"no longer shared with {self.email}"

    def before(self) -> JSONDict:
        return {"shared_with": self.email}


@dataclass(frozen=True)
class DocumentAdded(Event):
    action: ClassVar[str] = "sandbox.document_added"
    entity_type: ClassVar[str] = "document"
    entity_field: ClassVar[str] = "document_id"
    document_id: int
    conversation_id: int
    file_type: str
    size_bytes: int
    classification: DataClassification
    passages: int

    def summary(self) -> str:
        return f"{self.passages} passages"

    def after(self) -> JSONDict:
        return {"conversation_id": self.conversation_id, "type": self.file_type, "size_bytes": self.size_bytes,
                "classification": self.classification.label, "passages": self.passages}


@dataclass(frozen=True)
class DocumentRemoved(Event):
    action: ClassVar[str] = "sandbox.document_removed"
    entity_type: ClassVar[str] = "document"
    entity_field: ClassVar[str] = "document_id"
    document_id: int
    conversation_id: int

    def before(self) -> JSONDict:
        return {"conversation_id": self.conversation_id}


SANDBOX_EVENTS: tuple[type[Event], ...] = (DocumentGuardrailFired, ConversationRenamed, ConversationDeleted,
                                           ConversationShared, ConversationShareRevoked,
                                           DocumentAdded, DocumentRemoved)
