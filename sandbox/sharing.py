"""Sharing a sandbox conversation read-only with colleagues in the portal, and taking it back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from portal.core.audit import AuditAction, record_event
from portal.core.auth import Permission, require
from portal.core.errors import InvalidInput, NotFound
from portal.core.users import User
from sandbox.chat import conversation_history, own_conversation
from sandbox.models import ChatMessage, Conversation, ConversationShare

NOT_FOUND = "That conversation does not exist or is not shared with you."


@dataclass(frozen=True)
class Share:
    """One colleague a conversation is shared with."""

    user_id: int
    email: str
    name: str
    shared_at: datetime


@dataclass(frozen=True)
class SharedConversation:
    """A conversation someone can read, with who owns it and, when read, its messages."""

    conversation: Conversation
    owner_name: str
    messages: list[ChatMessage]


def share_conversation(*, session: Session, user: User, conversation_id: int, with_email: str) -> ConversationShare:
    """Let an active colleague read one of the user's conversations; sharing twice changes nothing."""
    require(user, Permission.USE_SANDBOX)
    conversation = own_conversation(session=session, user=user, conversation_id=conversation_id)
    email = with_email.strip().lower()
    colleague = session.exec(select(User).where(User.email == email)).first() if email else None
    if colleague is None or not colleague.active:
        raise InvalidInput(f"No active portal user has the e-mail address '{email}'. Check the spelling; "
                           "a colleague appears here after their first sign-in.")
    if colleague.id == user.id:
        raise InvalidInput("This is your own conversation: share it with a colleague's e-mail address.")
    existing = _share(session, conversation.id, colleague.id)
    if existing is not None:
        return existing
    share = ConversationShare(conversation_id=conversation.id, shared_with_user_id=colleague.id, shared_by=user.id)
    session.add(share)
    session.flush()
    record_event(session, actor=user, action=AuditAction.SANDBOX_CONVERSATION_SHARED, entity_type="conversation",
                 entity_id=conversation.id, summary=f"shared read-only with {email}", after={"shared_with": email})
    return share


def revoke_share(*, session: Session, user: User, conversation_id: int, shared_with_user_id: int) -> bool:
    """Stop sharing one of the user's conversations with a colleague; False when it was not shared with them."""
    conversation = own_conversation(session=session, user=user, conversation_id=conversation_id)
    share = _share(session, conversation.id, shared_with_user_id)
    if share is None:
        return False
    colleague = session.get(User, shared_with_user_id)
    email = colleague.email if colleague else str(shared_with_user_id)
    session.delete(share)
    record_event(session, actor=user, action=AuditAction.SANDBOX_CONVERSATION_SHARE_REVOKED,
                 entity_type="conversation", entity_id=conversation.id, summary=f"no longer shared with {email}",
                 before={"shared_with": email})
    return True


def shares_of(*, session: Session, user: User, conversation_id: int) -> list[Share]:
    """Whom one of the user's conversations is shared with, by e-mail."""
    conversation = own_conversation(session=session, user=user, conversation_id=conversation_id)
    rows = session.exec(select(ConversationShare, User)
                        .join(User, col(User.id) == col(ConversationShare.shared_with_user_id))
                        .where(ConversationShare.conversation_id == conversation.id)
                        .order_by(col(User.email))).all()
    return [Share(user_id=u.id, email=u.email, name=u.display_name, shared_at=s.created_at) for s, u in rows]


def conversations_shared_with(*, session: Session, user: User) -> list[SharedConversation]:
    """Conversations colleagues shared with the user, most recently active first (without their messages)."""
    rows = session.exec(select(Conversation, User)
                        .join(ConversationShare, col(ConversationShare.conversation_id) == col(Conversation.id))
                        .join(User, col(User.id) == col(Conversation.owner_id))
                        .where(ConversationShare.shared_with_user_id == user.id)
                        .order_by(col(Conversation.updated_at).desc())).all()
    return [SharedConversation(conversation=c, owner_name=owner.display_name, messages=[]) for c, owner in rows]


def read_shared_conversation(*, session: Session, user: User, conversation_id: int) -> SharedConversation:
    """A conversation and its messages for its owner or a colleague it is shared with; anyone else: not found."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or (conversation.owner_id != user.id
                                and _share(session, conversation.id, user.id) is None):
        raise NotFound(NOT_FOUND)
    owner = session.get(User, conversation.owner_id)
    return SharedConversation(conversation=conversation, owner_name=owner.display_name if owner else "",
                              messages=conversation_history(session, conversation.id))


def _share(session: Session, conversation_id: int | None, user_id: int | None) -> ConversationShare | None:
    return session.exec(select(ConversationShare).where(ConversationShare.conversation_id == conversation_id,
                                                        ConversationShare.shared_with_user_id == user_id)).first()
