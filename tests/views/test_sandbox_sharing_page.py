"""Sharing a sandbox conversation on the page (AppTest): share, the colleague reads it read-only, revoke."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from catalog.models import DataClassification
from sandbox.models import Conversation, ConversationShare
from tests.views.support import DRAFT, SANDBOX, chat, chat_requests, errors, rows, send, shown, unescaped
from training.sync import sync_courses
from portal.core.principals import SYSTEM_CLI

COLLEAGUE = "chen.contributor@example.com"  # in Engineering; the viewer who owns the conversations is in Finance
CONFIDENTIAL_RULE = ("it can be shared only with colleagues in Finance who completed "
                     "'Responsible AI and data classification'")


def share(at, conversation_id: int, email: str):
    at.text_input(key=f"sandbox_share_email_{conversation_id}").input(email)
    at.button(key="sandbox_share").click().run()
    assert not at.exception, at.exception
    return at


def raise_classification(engine, conversation_id: int, classification: DataClassification) -> None:
    """What a confidential turn or document upload does to the conversation."""
    with Session(engine) as session:
        conversation = session.get(Conversation, conversation_id)
        conversation.classification = int(classification)
        session.add(conversation)
        session.commit()


@pytest.fixture
def confidential_needs_the_course(portal_db, monkeypatch):
    monkeypatch.setenv("PORTAL_TRAINING_REQUIRED_COURSES", '{"sandbox_confidential": ["responsible-ai"]}')
    with Session(portal_db) as session:
        sync_courses(session=session, actor=SYSTEM_CLI)
        session.commit()


def warnings(at) -> list[str]:
    return [unescaped(w.value) for w in at.warning]


def open_as(open_portal, user):
    at = open_portal(user)
    at.switch_page(SANDBOX).run()
    assert not at.exception, at.exception
    return at


def test_a_shared_conversation_is_read_only_for_the_colleague_until_revoked(open_sandbox, open_portal, portal_db,
                                                                            user_with_role, fake_gateway) -> None:
    owner = send(open_sandbox("viewer"), "Hello there")
    (conversation,) = rows(portal_db, Conversation)
    share(owner, conversation.id, COLLEAGUE)
    assert f"Shared with {COLLEAGUE}." in unescaped(shown(owner))
    assert COLLEAGUE in unescaped(shown(owner))  # listed in the popover, with its Revoke button
    colleague = user_with_role("contributor")
    assert owner.button(key=f"sandbox_revoke_{colleague.id}")

    reader = open_as(open_portal, colleague)
    reader.sidebar.button(key=f"sandbox_shared_{conversation.id}").click().run()
    assert not reader.exception, reader.exception
    assert f"Shared by {user_with_role('viewer').name}, read-only" in unescaped(shown(reader))
    assert chat(reader) == [("user", "Hello there"), ("assistant", "Echo: Hello there")]
    assert DRAFT not in [t.key for t in reader.text_area]  # nothing to send from
    assert "FormSubmitter:sandbox_form-Send" not in [b.key for b in reader.button]
    requests_before = len(chat_requests(fake_gateway))

    owner.button(key=f"sandbox_revoke_{colleague.id}").click().run()
    assert f"No longer shared with {COLLEAGUE}." in unescaped(shown(owner))
    assert rows(portal_db, ConversationShare) == []
    reader.run()
    assert "That conversation is no longer shared with you." in unescaped(shown(reader))
    assert f"sandbox_shared_{conversation.id}" not in [b.key for b in reader.sidebar.button]
    assert chat(reader) == []  # back to the colleague's own sandbox, with its message box
    assert reader.text_area(key=DRAFT)
    assert len(chat_requests(fake_gateway)) == requests_before


def test_sharing_with_an_unknown_address_says_why_and_keeps_it(open_sandbox, portal_db) -> None:
    at = send(open_sandbox(), "Hello there")
    (conversation,) = rows(portal_db, Conversation)
    share(at, conversation.id, "nobody@example.com")
    assert errors(at) == ["No active portal user has the e-mail address 'nobody@example.com'. Check the spelling; "
                          "a colleague appears here after their first sign-in."]
    assert at.text_input(key=f"sandbox_share_email_{conversation.id}").value == "nobody@example.com"
    assert rows(portal_db, ConversationShare) == []


def test_a_title_shared_with_you_is_shown_as_plain_text(open_sandbox, open_portal, portal_db,
                                                        user_with_role) -> None:
    owner = send(open_sandbox(), "[click](javascript:alert(1)) **bold**")
    (conversation,) = rows(portal_db, Conversation)
    share(owner, conversation.id, COLLEAGUE)
    reader = open_as(open_portal, user_with_role("contributor"))
    button = reader.sidebar.button(key=f"sandbox_shared_{conversation.id}")
    assert button.label == r"\[click\]\(javascript\:alert\(1\)\) \*\*bold\*\*"


@pytest.mark.parametrize(("classification", "message"), [
    (DataClassification.CONFIDENTIAL, f"This conversation holds confidential data: {CONFIDENTIAL_RULE}."),
    (DataClassification.RESTRICTED, "This conversation holds restricted data: restricted conversations are never "
                                    "shared, not even read-only."),
])
def test_sharing_refused_by_the_classification_says_why_and_keeps_the_address(
        open_sandbox, portal_db, confidential_needs_the_course, classification, message) -> None:
    at = send(open_sandbox(), "Hello there")
    (conversation,) = rows(portal_db, Conversation)
    raise_classification(portal_db, conversation.id, classification)
    share(at, conversation.id, COLLEAGUE)
    assert errors(at) == [message]
    assert at.text_input(key=f"sandbox_share_email_{conversation.id}").value == COLLEAGUE
    assert rows(portal_db, ConversationShare) == []
    assert f"Shared with {COLLEAGUE}." not in unescaped(shown(at))


def test_a_share_the_classification_outgrew_is_unavailable_to_the_reader_and_suspended_for_the_owner(
        open_sandbox, open_portal, portal_db, user_with_role, confidential_needs_the_course) -> None:
    owner = send(open_sandbox("viewer"), "Hello there")
    (conversation,) = rows(portal_db, Conversation)
    share(owner, conversation.id, COLLEAGUE)
    reader = open_as(open_portal, user_with_role("contributor"))
    reader.sidebar.button(key=f"sandbox_shared_{conversation.id}").click().run()
    assert chat(reader) == [("user", "Hello there"), ("assistant", "Echo: Hello there")]

    raise_classification(portal_db, conversation.id, DataClassification.CONFIDENTIAL)
    reader.run()
    unavailable = f"You can no longer open this conversation: it holds confidential data, and {CONFIDENTIAL_RULE}."
    assert unavailable in warnings(reader)
    assert chat(reader) == []  # back to the reader's own sandbox
    entry = reader.sidebar.button(key=f"sandbox_shared_{conversation.id}")
    assert (unescaped(entry.label), unescaped(entry.help)) == ("Unavailable (Finn Finance)", unavailable)
    entry.click().run()  # opening it again only says why
    assert unavailable in warnings(reader) and chat(reader) == []

    owner.run()
    assert f"Suspended: this conversation holds confidential data, and {CONFIDENTIAL_RULE}." in unescaped(
        shown(owner))
    assert len(rows(portal_db, ConversationShare)) == 1  # suspended, not deleted: the owner can still revoke it
    assert owner.button(key=f"sandbox_revoke_{user_with_role('contributor').id}")
