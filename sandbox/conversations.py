"""A user's saved sandbox conversations: list, read, rename, delete, export."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from catalog.models import DataClassification
from sandbox.events import ConversationDeleted, ConversationRenamed
from portal.core.audit import record
from portal.core.errors import InvalidInput
from portal.core.users import User
from sandbox.chat import conversation_history, own_conversation
from sandbox.documents.answering import message_citations
from sandbox.documents.library import delete_conversation_documents
from sandbox.documents.models import SandboxDocument
from sandbox.models import ChatMessage, Conversation, ConversationShare

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

MAX_TITLE = 200


def list_conversations(*, session: Session, user: User, limit: int = 100) -> list[Conversation]:
    """The user's conversations, most recently active first."""
    return list(session.exec(select(Conversation).where(Conversation.owner_id == user.id)
                             .order_by(col(Conversation.updated_at).desc()).limit(limit)).all())


def conversation_messages(*, session: Session, user: User, conversation_id: int) -> list[ChatMessage]:
    """The messages of one of the user's conversations, oldest first."""
    conversation = own_conversation(session=session, user=user, conversation_id=conversation_id)
    return conversation_history(session, conversation.id)


def rename_conversation(*, session: Session, user: User, conversation_id: int, title: str) -> Conversation:
    """Give a conversation a new title."""
    title = " ".join(title.split())
    if not title or len(title) > MAX_TITLE:
        raise InvalidInput(f"A title needs 1 to {MAX_TITLE} characters.")
    conversation = own_conversation(session=session, user=user, conversation_id=conversation_id)
    before = conversation.title
    conversation.title = title
    session.add(conversation)
    record(session, user, ConversationRenamed(conversation_id=conversation.id, old_title=before, new_title=title))
    return conversation


def delete_conversation(*, session: Session, user: User, conversation_id: int,
                        vectors: ClientAPI | None = None) -> None:
    """Delete a conversation, its messages, shares, documents and vectors (usage events stay: they are the bill)."""
    conversation = own_conversation(session=session, user=user, conversation_id=conversation_id)
    if vectors is not None:
        delete_conversation_documents(session=session, user=user, conversation_id=conversation.id, vectors=vectors)
    elif session.exec(select(SandboxDocument.id).where(SandboxDocument.conversation_id == conversation.id)).first():
        raise RuntimeError("this conversation has documents: pass the vector store so their vectors go too")
    session.exec(delete(ConversationShare).where(col(ConversationShare.conversation_id) == conversation.id))
    session.exec(delete(ChatMessage).where(col(ChatMessage.conversation_id) == conversation.id))
    session.delete(conversation)
    record(session, user, ConversationDeleted(conversation_id=conversation.id, title=conversation.title))


def export_conversation(*, session: Session, user: User, conversation_id: int, fmt: str) -> str:
    """The conversation as Markdown or JSON, for download."""
    conversation = own_conversation(session=session, user=user, conversation_id=conversation_id)
    messages = conversation_messages(session=session, user=user, conversation_id=conversation_id)
    if fmt == "json":
        return json.dumps(_as_dict(conversation, messages), indent=2, ensure_ascii=False, default=str)
    if fmt != "markdown":
        raise InvalidInput("Export as markdown or json.")
    lines = [f"# {conversation.title}", "",
             f"Model: {conversation.model_name} · data: "
             f"{DataClassification(conversation.classification).label}", ""]
    if conversation.system_prompt:
        lines += ["**System prompt**", "", conversation.system_prompt, ""]
    for m in messages:
        marker = " *(incomplete)*" if m.incomplete else ""
        lines += [f"**{'You' if m.role == 'user' else m.model_name or 'Assistant'}**{marker}", "", m.content, ""]
        if sources := message_citations(m):
            lines += ["Sources: " + "; ".join(c.label for c in sources), ""]
    return "\n".join(lines)


def _as_dict(conversation: Conversation, messages: list[ChatMessage]) -> dict[str, Any]:
    return {
        "title": conversation.title, "model": conversation.model_name,
        "classification": DataClassification(conversation.classification).label,
        "system_prompt": conversation.system_prompt,
        "settings": {"temperature": conversation.temperature, "top_p": conversation.top_p,
                     "max_tokens": conversation.max_tokens},
        "messages": [{"role": m.role, "content": m.content, "at": m.created_at, "model": m.model_name or None,
                      "tokens_in": m.tokens_in, "tokens_out": m.tokens_out, "cost_usd": m.cost_usd,
                      "incomplete": m.incomplete, "citations": m.citations} for m in messages],
    }
