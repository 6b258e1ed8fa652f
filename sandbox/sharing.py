"""Sharing a sandbox conversation read-only with colleagues in the portal, and taking it back.

Who may read a shared conversation depends on its data classification, checked when sharing and again on every
read (a conversation can rise, e.g. when a confidential document is added): public and internal ones any active
colleague; confidential ones only colleagues in the owner's department who hold the certificates the sandbox
requires for confidential data; restricted ones nobody. A share the classification no longer allows is suspended,
not deleted: it works again if the rule is met, and its owner can revoke it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from catalog.models import DataClassification
from sandbox.events import ConversationShareRevoked, ConversationShared
from portal.core.audit import record
from portal.core.auth import Permission, require
from portal.core.capabilities import Capability, CapabilityGate
from portal.core.errors import InvalidInput, NotFound, PermissionDenied
from portal.core.users import User
from sandbox.chat import conversation_history, own_conversation
from sandbox.models import ChatMessage, Conversation, ConversationShare

NOT_FOUND = "That conversation does not exist or is not shared with you."
NEVER_SHARED = "restricted conversations are never shared, not even read-only"


class SharingNotAllowed(PermissionDenied):
    """The conversation's data classification does not let this colleague read it."""


@dataclass(frozen=True)
class Share:
    """One colleague a conversation is shared with; `suspended` says why they cannot read it now ("" = they can)."""

    user_id: int
    email: str
    name: str
    shared_at: datetime
    suspended: str = ""


@dataclass(frozen=True)
class SharedConversation:
    """A conversation someone may read, with who owns it and its messages."""

    conversation: Conversation
    owner_name: str
    messages: list[ChatMessage]


@dataclass(frozen=True)
class SharedListing:
    """One entry of a reader's "Shared with you" list; an unavailable one holds back its title."""

    conversation_id: int
    title: str  # "" when unavailable: it may name data the reader may no longer see
    owner_name: str
    updated_at: datetime
    unavailable: str = ""  # why the reader cannot open it now; "" = they can


def share_conversation(*, session: Session, user: User, conversation_id: int, with_email: str,
                       capabilities: CapabilityGate) -> ConversationShare:
    """Let an active colleague read one of the user's conversations if its classification allows; twice = once."""
    require(user, Permission.USE_SANDBOX)
    conversation = own_conversation(session=session, user=user, conversation_id=conversation_id)
    classification = DataClassification(conversation.classification)
    if classification >= DataClassification.RESTRICTED:  # nobody qualifies: say so before asking who
        raise SharingNotAllowed(_holds(classification, NEVER_SHARED))
    email = with_email.strip().lower()
    colleague = session.exec(select(User).where(User.email == email)).first() if email else None
    if colleague is None or not colleague.active:
        raise InvalidInput(f"No active portal user has the e-mail address '{email}'. Check the spelling; "
                           "a colleague appears here after their first sign-in.")
    if colleague.id == user.id:
        raise InvalidInput("This is your own conversation: share it with a colleague's e-mail address.")
    rule = _rule(session, user, colleague, classification, capabilities)
    if rule:
        raise SharingNotAllowed(_holds(classification, rule))
    existing = _share(session, conversation.id, colleague.id)
    if existing is not None:
        return existing
    share = ConversationShare(conversation_id=conversation.id, shared_with_user_id=colleague.id, shared_by=user.id)
    session.add(share)
    session.flush()
    record(session, user, ConversationShared(conversation_id=conversation.id, email=email))
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
    record(session, user, ConversationShareRevoked(conversation_id=conversation.id, email=email))
    return True


def shares_of(*, session: Session, user: User, conversation_id: int, capabilities: CapabilityGate) -> list[Share]:
    """Whom one of the user's conversations is shared with, by e-mail, and which shares its classification suspends."""
    conversation = own_conversation(session=session, user=user, conversation_id=conversation_id)
    classification = DataClassification(conversation.classification)
    rows = session.exec(select(ConversationShare, User)
                        .join(User, col(User.id) == col(ConversationShare.shared_with_user_id))
                        .where(ConversationShare.conversation_id == conversation.id)
                        .order_by(col(User.email))).all()
    shares = []
    for share, colleague in rows:
        rule = _rule(session, user, colleague, classification, capabilities)
        suspended = f"Suspended: {_now_holds(classification, rule)}" if rule else ""
        shares.append(Share(user_id=colleague.id, email=colleague.email, name=colleague.display_name,
                            shared_at=share.created_at, suspended=suspended))
    return shares


def conversations_shared_with(*, session: Session, user: User,
                              capabilities: CapabilityGate) -> list[SharedListing]:
    """Conversations shared with the user, latest first; one they may no longer read is marked unavailable."""
    rows = session.exec(select(Conversation, User)
                        .join(ConversationShare, col(ConversationShare.conversation_id) == col(Conversation.id))
                        .join(User, col(User.id) == col(Conversation.owner_id))
                        .where(ConversationShare.shared_with_user_id == user.id)
                        .order_by(col(Conversation.updated_at).desc())).all()
    listings = []
    for conversation, owner in rows:
        classification = DataClassification(conversation.classification)
        rule = _rule(session, owner, user, classification, capabilities)
        listings.append(SharedListing(conversation_id=conversation.id, title="" if rule else conversation.title,
                                      owner_name=owner.display_name, updated_at=conversation.updated_at,
                                      unavailable=_unavailable(classification, rule) if rule else ""))
    return listings


def read_shared_conversation(*, session: Session, user: User, conversation_id: int,
                             capabilities: CapabilityGate) -> SharedConversation:
    """A conversation and its messages for its owner or a colleague its classification allows; anyone else: refused."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or (conversation.owner_id != user.id
                                and _share(session, conversation.id, user.id) is None):
        raise NotFound(NOT_FOUND)
    owner = session.get(User, conversation.owner_id)
    if conversation.owner_id != user.id:
        classification = DataClassification(conversation.classification)
        rule = _rule(session, owner, user, classification, capabilities)
        if rule:
            raise SharingNotAllowed(_unavailable(classification, rule))
    return SharedConversation(conversation=conversation, owner_name=owner.display_name if owner else "",
                              messages=conversation_history(session, conversation.id))


def _rule(session: Session, owner: User, reader: User, classification: DataClassification,
          capabilities: CapabilityGate) -> str:
    """The sharing rule for this classification when it excludes the reader, in plain words; "" when it allows."""
    if classification <= DataClassification.INTERNAL:
        return ""
    if classification >= DataClassification.RESTRICTED:
        return NEVER_SHARED
    confidential = Capability.SANDBOX_CONFIDENTIAL
    if owner.department and owner.department == reader.department and capabilities.holds(
            session=session, user=reader, capability=confidential):
        return ""
    if not owner.department:
        return "it can be shared only with colleagues in its owner's department, and none is recorded for its owner"
    courses = capabilities.named_requirement(session=session, capability=confidential)
    trained = f" who completed {courses}" if courses else ""
    return f"it can be shared only with colleagues in {owner.department}{trained}"


def _holds(classification: DataClassification, rule: str) -> str:
    return f"This conversation holds {classification.label} data: {rule}."


def _now_holds(classification: DataClassification, rule: str) -> str:
    return f"this conversation holds {classification.label} data, and {rule}."


def _unavailable(classification: DataClassification, rule: str) -> str:
    return f"You can no longer open this conversation: it holds {classification.label} data, and {rule}."


def _share(session: Session, conversation_id: int | None, user_id: int | None) -> ConversationShare | None:
    return session.exec(select(ConversationShare).where(ConversationShare.conversation_id == conversation_id,
                                                        ConversationShare.shared_with_user_id == user_id)).first()
