"""One turn, whoever runs it: the Turn protocol, and the system prompt through the same guardrails as the message."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlmodel import select

from catalog.models import CatalogModel, DataClassification, ModelStatus
from metering.turn import Turn, TurnNotice
from portal.core.audit import AuditEvent
from portal.core.errors import InvalidInput
from sandbox.chat import ChatTurn, TurnRequest, prepare_turn
from sandbox.compare import CompareRequest, CompareSide, ComparisonRun, prepare_comparison
from guardrails.text import guard_alongside
from sandbox.models import Conversation
from tests.metering.support import metered
from tests.sandbox.support import POLICY

C = DataClassification
SECRET_PROMPT = "You answer for jane.doe@example.com, phone +44 20 7946 0958."


@pytest.fixture
def small(make_model) -> CatalogModel:
    return make_model(ModelStatus.APPROVED, name="fake-small", served=True, max_classification=int(C.INTERNAL),
                      input_price_per_mtok=1.0, output_price_per_mtok=2.0)


def request(message: str = "Hello there", *, system_prompt: str = "", classification=C.INTERNAL) -> TurnRequest:
    return TurnRequest(message=message, model_name="fake-small", classification=classification,
                       system_prompt=system_prompt)


def guardrail_events(session) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == "sandbox.guardrail_fired")).all())


def test_a_chat_turn_runs_through_the_protocol(session, make_user, small, gateway, fake_gateway) -> None:
    user = make_user()
    turn: Turn = ChatTurn(user=user, policy=POLICY, request=request("Mail jane.doe@example.com"))
    prepared = turn.prepare(session)
    session.commit()
    assert prepared.question == "Mail <EMAIL_1>" and not prepared.blocked_message and not prepared.error
    stream = turn.stream(metered(gateway, session))
    text = "".join(stream)
    recorded = turn.record(session, stream)
    session.commit()
    assert text == "Echo: Mail <EMAIL_1>" and recorded.conversation_id is not None
    notice = turn.notice()
    assert isinstance(notice, TurnNotice) and notice.action == "redact"
    assert notice.replacements == [("<EMAIL_1>", "jane.doe@example.com")]


def test_the_system_prompt_is_redacted_like_the_message_and_audited(session, make_user, small, gateway,
                                                                    fake_gateway) -> None:
    user = make_user()
    turn = ChatTurn(user=user, policy=POLICY, request=request(system_prompt=SECRET_PROMPT))
    turn.prepare(session)
    session.commit()
    stream = turn.stream(metered(gateway, session))
    "".join(stream)
    turn.record(session, stream)
    session.commit()
    system = fake_gateway.last_request.body["messages"][0]
    assert system["role"] == "system" and "jane.doe" not in system["content"] and "<EMAIL_1>" in system["content"]
    assert "7946" not in system["content"]
    # The conversation keeps it as sent, like the message.
    assert "jane.doe" not in session.exec(select(Conversation)).one().system_prompt
    (event,) = guardrail_events(session)
    assert event.after["source"] == "the system prompt" and event.after["counts"] == {"email": 1, "phone": 1}
    assert "jane.doe" not in str(event.after) + event.summary
    notice = turn.notice()
    assert notice.guardrail.startswith("In the system prompt: Found 1 e-mail address and 1 phone number")


def test_a_system_prompt_placeholder_never_stands_for_a_message_value(session, make_user, small) -> None:
    prepared = prepare_turn(session=session, user=make_user(), policy=POLICY,
                            request=request("Write to bob@example.com", system_prompt="Sign as ann@example.com"))
    system, message = prepared.messages[0]["content"], prepared.messages[-1]["content"]
    assert message == "Write to <EMAIL_1>" and system == "Sign as <EMAIL_2>"


def test_a_system_prompt_the_guardrails_block_sends_nothing(session, make_user, make_model, fake_gateway) -> None:
    make_model(ModelStatus.APPROVED, name="fake-small", served=True, max_classification=int(C.PUBLIC))
    prepared = prepare_turn(session=session, user=make_user(), policy=POLICY,
                            request=request("A harmless question", classification=C.PUBLIC,
                                            system_prompt="Card 4111 1111 1111 1111 pays."))
    session.commit()
    assert prepared.blocked and prepared.messages == [] and fake_gateway.requests == []
    assert prepared.blocked_message.startswith("In the system prompt: Found 1 payment card number: blocked")
    (event,) = guardrail_events(session)
    assert event.after["action"] == "block" and event.after["source"] == "the system prompt"


def test_a_warned_system_prompt_is_sent_as_written_and_told(session, make_user, make_model, gateway,
                                                            fake_gateway) -> None:
    make_model(ModelStatus.APPROVED, name="fake-small", served=True, max_classification=int(C.CONFIDENTIAL))
    prepared = prepare_turn(session=session, user=make_user(), policy=POLICY,
                            request=request(classification=C.CONFIDENTIAL, system_prompt=SECRET_PROMPT))
    assert prepared.messages[0]["content"] == SECRET_PROMPT
    assert prepared.notice().action == "warn" and "sent as written" in prepared.notice().guardrail


@pytest.mark.parametrize(("length", "refused"), [(4000, False), (4001, True)])
def test_a_system_prompt_over_the_limit_is_refused_before_any_call(session, make_user, small, fake_gateway,
                                                                   length, refused) -> None:
    turn = request(system_prompt="x" * length)
    if refused:
        with pytest.raises(InvalidInput, match="system prompt is 4,001 characters long; at most 4,000 fit"):
            prepare_turn(session=session, user=make_user(), policy=POLICY, request=turn)
    else:
        assert prepare_turn(session=session, user=make_user(), policy=POLICY, request=turn).messages
    assert fake_gateway.requests == []


def test_the_limit_follows_the_policy(session, make_user, small) -> None:
    tight = replace(POLICY, max_system_prompt_chars=100)
    with pytest.raises(InvalidInput, match="at most 100 fit"):
        prepare_turn(session=session, user=make_user(), policy=tight, request=request(system_prompt="y" * 101))


def test_guarding_alongside_finds_only_the_other_texts() -> None:
    outcome, texts = guard_alongside("Mail <EMAIL_1>", ["nothing here", "ann@example.com"], "redact")
    assert outcome.summary() == {"email": 1} and texts == ["nothing here", "<EMAIL_2>"]
    assert guard_alongside("jane@example.com", ["clean"], "block") == (None, ["clean"])


# --- compare ---------------------------------------------------------------------------------------------------

@pytest.fixture
def two(make_model) -> None:
    fields = {"status": ModelStatus.APPROVED, "served": True, "max_classification": int(C.INTERNAL)}
    make_model(name="fake-small", **fields)
    make_model(name="fake-large", **fields)


def test_compare_redacts_each_system_prompt_and_audits_each_once(session, make_user, two, gateway,
                                                                 fake_gateway) -> None:
    sides = (CompareSide("fake-small", "Plain"), CompareSide("fake-small", SECRET_PROMPT))
    prepared = prepare_comparison(session=session, user=make_user(), policy=POLICY,
                                  request=CompareRequest(message="one two", classification=C.INTERNAL, sides=sides))
    session.commit()
    ComparisonRun(prepared, metered(gateway, session)).start().wait()
    systems = [r.body["messages"][0]["content"] for r in fake_gateway.requests if r.path.endswith("/completions")]
    assert sorted(systems)[0] == "Plain" and "jane.doe" not in "".join(systems)
    (event,) = guardrail_events(session)
    assert event.after["source"] == "the system prompt" and event.after["counts"] == {"email": 1, "phone": 1}
    assert prepared.notice().guardrail.startswith("In system prompt B: Found")


def test_compare_with_a_blocked_system_prompt_sends_nothing(session, make_user, make_model, fake_gateway) -> None:
    fields = {"status": ModelStatus.APPROVED, "served": True, "max_classification": int(C.PUBLIC)}
    make_model(name="fake-small", **fields)
    make_model(name="fake-large", **fields)
    sides = (CompareSide("fake-small", "Card 4111 1111 1111 1111"), CompareSide("fake-large", "Card 4111 1111 1111 1111"))
    prepared = prepare_comparison(session=session, user=make_user(), policy=POLICY,
                                  request=CompareRequest(message="Hi", classification=C.PUBLIC, sides=sides))
    session.commit()
    assert prepared.blocked and prepared.blocked_message.startswith("In the system prompt: Found 1 payment card")
    with pytest.raises(InvalidInput):
        ComparisonRun(prepared, None)
    assert fake_gateway.requests == [] and len(guardrail_events(session)) == 1


def test_compare_refuses_a_system_prompt_over_the_limit(session, make_user, two, fake_gateway) -> None:
    sides = (CompareSide("fake-small"), CompareSide("fake-large", "z" * 4001))
    with pytest.raises(InvalidInput, match="system prompt is 4,001 characters long"):
        prepare_comparison(session=session, user=make_user(), policy=POLICY,
                           request=CompareRequest(message="Hi", classification=C.INTERNAL, sides=sides))
    assert fake_gateway.requests == []
