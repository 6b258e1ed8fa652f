"""Sharing a conversation read-only with colleagues: who may share, who may read, revoking, and the audit trail."""

from __future__ import annotations

import pytest
from sqlmodel import select

from catalog.models import DataClassification
from portal.core.audit import AuditEvent
from portal.core.capabilities import NOTHING_REQUIRED
from portal.core.errors import InvalidInput, NotFound
from portal.core.users import User
from sandbox.chat import TurnRequest, prepare_turn
from sandbox.conversations import delete_conversation
from sandbox.models import ChatMessage, Conversation, ConversationShare
from sandbox.sharing import (
    conversations_shared_with,
    read_shared_conversation,
    revoke_share,
    share_conversation,
    shares_of,
)
from tests.sandbox.support import POLICY

NO_COURSES = NOTHING_REQUIRED  # confidential sharing requires no course here


@pytest.fixture
def conversation(session, make_user) -> Conversation:
    owner = make_user(email="owner@example.com")
    conversation = Conversation(owner_id=owner.id, title="Quarterly plan", model_name="fake-small")
    session.add(conversation)
    session.flush()
    session.add_all([ChatMessage(conversation_id=conversation.id, role="user", content="Plan Q3"),
                     ChatMessage(conversation_id=conversation.id, role="assistant", content="Here is a plan")])
    session.commit()
    return conversation


@pytest.fixture
def owner(session, conversation) -> User:
    return session.get(User, conversation.owner_id)


def audit(session, action: str) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())


def test_a_colleague_it_is_shared_with_reads_it_and_the_share_is_audited(session, make_user, owner,
                                                                          conversation) -> None:
    colleague = make_user(email="colleague@example.com")
    share_conversation(session=session, user=owner, conversation_id=conversation.id,
                       with_email="  Colleague@Example.com ", capabilities=NO_COURSES)
    session.commit()
    shared = read_shared_conversation(session=session, user=colleague, conversation_id=conversation.id,
                                      capabilities=NO_COURSES)
    assert shared.conversation.title == "Quarterly plan" and shared.owner_name == "owner"
    assert [m.content for m in shared.messages] == ["Plan Q3", "Here is a plan"]
    listed = conversations_shared_with(session=session, user=colleague, capabilities=NO_COURSES)
    assert [(s.conversation_id, s.title, s.unavailable) for s in listed] == [(conversation.id, "Quarterly plan", "")]
    shares = shares_of(session=session, user=owner, conversation_id=conversation.id, capabilities=NO_COURSES)
    assert [(s.email, s.suspended) for s in shares] == [("colleague@example.com", "")]
    (event,) = audit(session, "sandbox.conversation_shared")
    assert (event.actor_email, event.entity_id, event.after) == ("owner@example.com", str(conversation.id),
                                                                 {"shared_with": "colleague@example.com"})


def test_sharing_twice_changes_nothing(session, make_user, owner, conversation) -> None:
    make_user(email="colleague@example.com")
    first = share_conversation(session=session, user=owner, conversation_id=conversation.id,
                               with_email="colleague@example.com", capabilities=NO_COURSES)
    again = share_conversation(session=session, user=owner, conversation_id=conversation.id,
                               with_email="colleague@example.com", capabilities=NO_COURSES)
    session.commit()
    assert first.id == again.id
    assert len(session.exec(select(ConversationShare)).all()) == 1
    assert len(audit(session, "sandbox.conversation_shared")) == 1


def test_a_stranger_is_told_it_does_not_exist(session, make_user, owner, conversation) -> None:
    stranger = make_user(email="stranger@example.com")
    for conversation_id in (conversation.id, conversation.id + 1000):  # existing or not: the same answer
        with pytest.raises(NotFound, match="does not exist or is not shared with you"):
            read_shared_conversation(session=session, user=stranger, conversation_id=conversation_id,
                                     capabilities=NO_COURSES)
    assert conversations_shared_with(session=session, user=stranger, capabilities=NO_COURSES) == []


def test_only_the_owner_shares_revokes_or_lists_shares(session, make_user, owner, conversation) -> None:
    colleague = make_user(email="colleague@example.com")
    make_user(email="third@example.com")
    share_conversation(session=session, user=owner, conversation_id=conversation.id,
                       with_email="colleague@example.com", capabilities=NO_COURSES)
    session.commit()
    with pytest.raises(NotFound):
        share_conversation(session=session, user=colleague, conversation_id=conversation.id,
                           with_email="third@example.com", capabilities=NO_COURSES)
    with pytest.raises(NotFound):
        revoke_share(session=session, user=colleague, conversation_id=conversation.id,
                     shared_with_user_id=colleague.id)
    with pytest.raises(NotFound):
        shares_of(session=session, user=colleague, conversation_id=conversation.id, capabilities=NO_COURSES)


@pytest.mark.parametrize(("email", "message"), [
    ("nobody@example.com", "No active portal user has the e-mail address 'nobody@example.com'"),
    ("", "No active portal user has the e-mail address ''"),
    ("inactive@example.com", "No active portal user has the e-mail address 'inactive@example.com'"),
    ("owner@example.com", "This is your own conversation"),
])
def test_sharing_needs_an_active_colleague(session, make_user, owner, conversation, email, message) -> None:
    inactive = make_user(email="inactive@example.com")
    inactive.active = False
    session.add(inactive)
    session.commit()
    with pytest.raises(InvalidInput, match=message):
        share_conversation(session=session, user=owner, conversation_id=conversation.id, with_email=email,
                           capabilities=NO_COURSES)
    assert session.exec(select(ConversationShare)).all() == []


def test_a_colleague_cannot_continue_a_shared_conversation(session, make_user, make_model, owner,
                                                           conversation) -> None:
    make_model(name="fake-small", served=True)
    colleague = make_user(email="colleague@example.com")
    share_conversation(session=session, user=owner, conversation_id=conversation.id,
                       with_email="colleague@example.com", capabilities=NO_COURSES)
    session.commit()
    request = TurnRequest(message="And Q4?", model_name="fake-small", classification=DataClassification.INTERNAL,
                          conversation_id=conversation.id)
    with pytest.raises(NotFound):
        prepare_turn(session=session, user=colleague, policy=POLICY, request=request)


def test_revoking_takes_it_away_and_is_audited(session, make_user, owner, conversation) -> None:
    colleague = make_user(email="colleague@example.com")
    share_conversation(session=session, user=owner, conversation_id=conversation.id,
                       with_email="colleague@example.com", capabilities=NO_COURSES)
    session.commit()
    assert revoke_share(session=session, user=owner, conversation_id=conversation.id,
                        shared_with_user_id=colleague.id) is True
    session.commit()
    assert revoke_share(session=session, user=owner, conversation_id=conversation.id,
                        shared_with_user_id=colleague.id) is False  # already revoked, e.g. in another tab
    with pytest.raises(NotFound):
        read_shared_conversation(session=session, user=colleague, conversation_id=conversation.id,
                                 capabilities=NO_COURSES)
    assert conversations_shared_with(session=session, user=colleague, capabilities=NO_COURSES) == []
    (event,) = audit(session, "sandbox.conversation_share_revoked")
    assert event.before == {"shared_with": "colleague@example.com"} and event.actor_email == "owner@example.com"


def test_deleting_a_shared_conversation_removes_its_shares(session, make_user, owner, conversation) -> None:
    colleague = make_user(email="colleague@example.com")
    share_conversation(session=session, user=owner, conversation_id=conversation.id,
                       with_email="colleague@example.com", capabilities=NO_COURSES)
    session.commit()
    delete_conversation(session=session, user=owner, conversation_id=conversation.id)
    session.commit()
    assert session.exec(select(ConversationShare)).all() == []
    assert conversations_shared_with(session=session, user=colleague, capabilities=NO_COURSES) == []
