"""Sharing follows the conversation's data classification: checked when sharing and again on every read."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from catalog.models import DataClassification
from portal.core.audit import AuditEvent
from portal.core.errors import NotFound
from portal.core.users import User
from sandbox.chat import SandboxPolicy, TurnRequest, TurnStream, prepare_turn, record_turn
from sandbox.models import ChatMessage, Conversation, ConversationShare
from sandbox.sharing import (
    SharingNotAllowed,
    conversations_shared_with,
    read_shared_conversation,
    revoke_share,
    share_conversation,
    shares_of,
)
from tests.sandbox.support import POLICY
from tests.training.conftest import complete
from training.sync import sync_courses
from portal.core.principals import SYSTEM_CLI
from tests.metering.support import metered
from training.unlocks import CourseGate

C = DataClassification
REQUIRED = CourseGate({"sandbox_confidential": ["responsible-ai"]})
CONFIDENTIAL_RULE = ("it can be shared only with colleagues in Finance who completed "
                     "'Responsible AI and data classification'")
RULES = {C.CONFIDENTIAL: CONFIDENTIAL_RULE,
         C.RESTRICTED: "restricted conversations are never shared, not even read-only"}

# classification, colleague in the owner's department (Finance)?, colleague completed the course? -> may read it?
MATRIX = [
    (C.PUBLIC, True, True, True), (C.PUBLIC, True, False, True),
    (C.PUBLIC, False, True, True), (C.PUBLIC, False, False, True),
    (C.INTERNAL, True, True, True), (C.INTERNAL, True, False, True),
    (C.INTERNAL, False, True, True), (C.INTERNAL, False, False, True),
    (C.CONFIDENTIAL, True, True, True), (C.CONFIDENTIAL, True, False, False),
    (C.CONFIDENTIAL, False, True, False), (C.CONFIDENTIAL, False, False, False),
    (C.RESTRICTED, True, True, False), (C.RESTRICTED, True, False, False),
    (C.RESTRICTED, False, True, False), (C.RESTRICTED, False, False, False),
]
CASES = [pytest.param(*case, id=f"{case[0].label}-{'same' if case[1] else 'other'}-department-"
                                f"{'trained' if case[2] else 'untrained'}") for case in MATRIX]
COLLEAGUE = "colleague@example.com"


@pytest.fixture
def courses(session: Session) -> None:
    sync_courses(session=session, actor=SYSTEM_CLI)
    session.commit()


@pytest.fixture
def owner(make_user, courses) -> User:
    return make_user(email="owner@example.com", department="Finance", name="Olga Owner")


def colleague(session: Session, make_user, *, same_department: bool, trained: bool) -> User:
    user = make_user(email=COLLEAGUE, department="Finance" if same_department else "Sales")
    if trained:
        complete(session, user, "responsible-ai")
    return user


def conversation_of(session: Session, owner: User, classification: C) -> Conversation:
    conversation = Conversation(owner_id=owner.id, title="Q3 forecast", model_name="fake-small",
                                classification=int(classification))
    session.add(conversation)
    session.flush()
    session.add(ChatMessage(conversation_id=conversation.id, role="user", content="Forecast Q3"))
    session.commit()
    return conversation


def rise(session: Session, conversation: Conversation, classification: C) -> None:
    """What a confidential turn or document does to the conversation (see the turn test below for the real path)."""
    conversation.classification = max(conversation.classification, int(classification))
    session.add(conversation)
    session.commit()


def counts(session: Session) -> tuple[int, int]:
    """(shares, audit events) stored."""
    return len(session.exec(select(ConversationShare)).all()), len(session.exec(select(AuditEvent)).all())


def share(session: Session, owner: User, conversation: Conversation, courses=REQUIRED) -> ConversationShare:
    return share_conversation(session=session, user=owner, conversation_id=conversation.id, with_email=COLLEAGUE,
                              capabilities=courses)


def read(session: Session, reader: User, conversation: Conversation, courses=REQUIRED):
    return read_shared_conversation(session=session, user=reader, conversation_id=conversation.id,
                                    capabilities=courses)


@pytest.mark.parametrize(("classification", "same_department", "trained", "allowed"), CASES)
def test_sharing_follows_the_classification(session, make_user, owner, classification, same_department, trained,
                                            allowed) -> None:
    reader = colleague(session, make_user, same_department=same_department, trained=trained)
    conversation = conversation_of(session, owner, classification)
    shares_before, events_before = counts(session)
    if allowed:
        share(session, owner, conversation)
        session.commit()
        assert counts(session) == (shares_before + 1, events_before + 1)
        assert [m.content for m in read(session, reader, conversation).messages] == ["Forecast Q3"]
        return
    with pytest.raises(SharingNotAllowed) as refused:
        share(session, owner, conversation)
    session.commit()  # whatever the refusal left in the session would be stored now
    assert refused.value.message == f"This conversation holds {classification.label} data: {RULES[classification]}."
    assert counts(session) == (shares_before, events_before)
    with pytest.raises(NotFound):
        read(session, reader, conversation)


@pytest.mark.parametrize(("classification", "same_department", "trained", "allowed"), CASES)
def test_reading_follows_the_classification_after_it_rose(session, make_user, owner, classification,
                                                          same_department, trained, allowed) -> None:
    reader = colleague(session, make_user, same_department=same_department, trained=trained)
    conversation = conversation_of(session, owner, C.PUBLIC)
    share(session, owner, conversation)
    session.commit()
    rise(session, conversation, classification)
    before = counts(session)
    listed = conversations_shared_with(session=session, user=reader, capabilities=REQUIRED)
    shares = shares_of(session=session, user=owner, conversation_id=conversation.id, capabilities=REQUIRED)
    if allowed:
        assert [m.content for m in read(session, reader, conversation).messages] == ["Forecast Q3"]
        assert [(s.conversation_id, s.title, s.unavailable) for s in listed] == [(conversation.id, "Q3 forecast", "")]
        assert [(s.email, s.suspended) for s in shares] == [(COLLEAGUE, "")]
    else:
        label, rule = classification.label, RULES[classification]
        unavailable = f"You can no longer open this conversation: it holds {label} data, and {rule}."
        with pytest.raises(SharingNotAllowed) as refused:
            read(session, reader, conversation)
        assert refused.value.message == unavailable
        # Listed, so the reader knows what happened, but without its title, which may now name that data.
        assert [(s.conversation_id, s.title, s.owner_name, s.unavailable) for s in listed] == [
            (conversation.id, "", "Olga Owner", unavailable)]
        assert [(s.email, s.suspended) for s in shares] == [
            (COLLEAGUE, f"Suspended: this conversation holds {label} data, and {rule}.")]
    session.commit()
    assert counts(session) == before  # nothing deleted, nothing audited


def test_a_suspended_share_stays_until_revoked_and_works_again_once_the_rule_is_met(session, make_user,
                                                                                  owner) -> None:
    reader = colleague(session, make_user, same_department=True, trained=False)
    conversation = conversation_of(session, owner, C.INTERNAL)
    share(session, owner, conversation)
    session.commit()
    rise(session, conversation, C.CONFIDENTIAL)
    with pytest.raises(SharingNotAllowed):
        read(session, reader, conversation)
    with pytest.raises(SharingNotAllowed, match="only with colleagues in Finance who completed"):
        share(session, owner, conversation)  # sharing again does not hide behind the existing share
    session.commit()
    complete(session, reader, "responsible-ai")
    assert [m.content for m in read(session, reader, conversation).messages] == ["Forecast Q3"]

    rise(session, conversation, C.RESTRICTED)
    with pytest.raises(SharingNotAllowed, match="it holds restricted data"):
        read(session, reader, conversation)
    assert revoke_share(session=session, user=owner, conversation_id=conversation.id,
                        shared_with_user_id=reader.id) is True
    session.commit()
    assert counts(session)[0] == 0
    events = session.exec(select(AuditEvent.action).where(AuditEvent.entity_type == "conversation")).all()
    assert sorted(events) == ["sandbox.conversation_share_revoked", "sandbox.conversation_shared"]
    with pytest.raises(NotFound):
        read(session, reader, conversation)


def test_the_owner_always_reads_their_own_conversation(session, make_user, owner) -> None:
    conversation = conversation_of(session, owner, C.RESTRICTED)
    assert [m.content for m in read(session, owner, conversation).messages] == ["Forecast Q3"]


def test_a_confidential_turn_suspends_a_share_with_another_department(session, make_user, make_model, owner,
                                                                      gateway) -> None:
    make_model(name="fake-small", served=True, max_classification=int(C.CONFIDENTIAL))
    complete(session, owner, "responsible-ai")
    reader = colleague(session, make_user, same_department=False, trained=True)
    conversation = conversation_of(session, owner, C.INTERNAL)
    share(session, owner, conversation)
    session.commit()
    policy = SandboxPolicy(budgets=POLICY.budgets, max_message_chars=2000, guardrail_actions=POLICY.guardrail_actions,
                           capabilities=REQUIRED)
    request = TurnRequest(message="Add the customer contract terms", model_name="fake-small",
                          classification=C.CONFIDENTIAL, conversation_id=conversation.id)
    stream = TurnStream(prepare_turn(session=session, user=owner, policy=policy, request=request), metered(gateway, session))
    "".join(stream)
    record_turn(session=session, stream=stream)
    session.commit()
    with pytest.raises(SharingNotAllowed, match=f"it holds confidential data, and {CONFIDENTIAL_RULE}"):
        read(session, reader, conversation)


@pytest.mark.parametrize(("owner_department", "reader_department", "message"), [
    ("Finance", "Finance", None),
    ("Finance", "Sales", "This conversation holds confidential data: it can be shared only with colleagues in "
                         "Finance."),
    ("", "", "This conversation holds confidential data: it can be shared only with colleagues in its owner's "
             "department, and none is recorded for its owner."),
])
def test_without_a_required_course_confidential_sharing_still_needs_the_department(
        session, make_user, owner_department, reader_department, message) -> None:
    owner = make_user(email="owner@example.com", department=owner_department)
    reader = make_user(email=COLLEAGUE, department=reader_department)
    conversation = conversation_of(session, owner, C.CONFIDENTIAL)
    if message is None:
        share(session, owner, conversation, courses=CourseGate({}))
        assert read(session, reader, conversation, courses=CourseGate({})).conversation.id == conversation.id
    else:
        with pytest.raises(SharingNotAllowed) as refused:
            share(session, owner, conversation, courses=CourseGate({}))
        assert refused.value.message == message
