"""Sharing a sandbox conversation on the page (AppTest): share, the colleague reads it read-only, revoke."""

from __future__ import annotations

from sandbox.models import Conversation, ConversationShare
from tests.views.support import DRAFT, SANDBOX, chat, chat_requests, errors, rows, send, shown, unescaped

COLLEAGUE = "chen.contributor@example.com"


def share(at, conversation_id: int, email: str):
    at.text_input(key=f"sandbox_share_email_{conversation_id}").input(email)
    at.button(key="sandbox_share").click().run()
    assert not at.exception, at.exception
    return at


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
