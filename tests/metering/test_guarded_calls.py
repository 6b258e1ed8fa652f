"""The guardrail step of the metered path: every call's messages are guarded under the admins' action for the
call's data before anything is reserved or sent; a step that already guarded them is not scanned again."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from catalog.models import DataClassification
from guardrails.messages import GuardrailPolicy, PreGuarded
from guardrails.text import GuardrailAction, GuardrailError
from metering.budgets import Payer
from metering.gateway import Call
from metering.models import UsageEvent
from prompt_library.models import PROMPT_TEST
from sandbox.models import SANDBOX_DOCUMENTS
from metering.turn import TurnStream, whole_answer
from portal.core.gateway import GatewayClient
from tests.metering.support import every_classification, metered

EMAIL = "jane.doe@example.com"
MESSAGES = [{"role": "system", "content": f"Escalations go to {EMAIL}."},
            {"role": "user", "content": f"Write to {EMAIL} and to bob@example.org about card 4111 1111 1111 1111"}]


@pytest.fixture
def client(fake_gateway):
    client = GatewayClient(base_url=fake_gateway.url, timeout_s=20)
    yield client
    client.close()


@pytest.fixture
def call(make_user, make_model) -> Call:
    model = make_model(name="fake-small", served=True)
    return Call(payer=Payer.of(make_user()), model=model, source=PROMPT_TEST, messages=MESSAGES,
                max_tokens=20, classification=DataClassification.INTERNAL)


def usage(session: Session) -> list[UsageEvent]:
    session.expire_all()
    return list(session.exec(select(UsageEvent)).all())


def sent(fake_gateway) -> list[str]:
    return [m["content"] for m in fake_gateway.last_request.body["messages"]]


def test_a_blocked_call_is_neither_reserved_nor_sent(session, client, call, fake_gateway) -> None:
    fake_gateway.reset()
    with pytest.raises(GuardrailError) as blocked:
        whole_answer(call, metered(client, session, guardrails=every_classification("block")))
    assert "3 e-mail addresses" in blocked.value.message and "blocked — this message was not sent" in \
        blocked.value.message and EMAIL not in blocked.value.message
    assert blocked.value.summary == {"email": 3, "payment_card": 1}
    assert fake_gateway.requests == [] and usage(session) == []


def test_a_redacted_call_sends_one_placeholder_per_value_across_its_messages(session, client, call,
                                                                            fake_gateway) -> None:
    answer = whole_answer(call, metered(client, session, guardrails=every_classification("redact")))
    assert sent(fake_gateway) == ["Escalations go to <EMAIL_1>.",
                                  "Write to <EMAIL_1> and to <EMAIL_2> about card <PAYMENT_CARD_1>"]
    assert answer.guardrails is not None and answer.guardrails.action is GuardrailAction.REDACT
    assert answer.guardrails.replacements == [("<EMAIL_1>", EMAIL), ("<EMAIL_2>", "bob@example.org"),
                                              ("<PAYMENT_CARD_1>", "4111 1111 1111 1111")]
    (event,) = usage(session)
    assert event.status == "ok"


def test_a_warned_call_is_sent_as_written_and_says_what_was_found(session, client, call, fake_gateway) -> None:
    answer = whole_answer(call, metered(client, session, guardrails=every_classification("warn")))
    assert sent(fake_gateway) == [m["content"] for m in MESSAGES]
    assert answer.guardrails is not None and answer.guardrails.summary() == {"email": 3, "payment_card": 1}


def test_the_action_is_the_one_for_the_calls_classification(session, client, call, fake_gateway) -> None:
    policy = GuardrailPolicy(actions={"public": "block", "internal": "redact", "confidential": "warn",
                                      "restricted": "warn"})
    gateway = metered(client, session, guardrails=policy)
    whole_answer(call, gateway)
    assert EMAIL not in " ".join(sent(fake_gateway))
    with pytest.raises(GuardrailError):
        whole_answer(Call(**{**call.__dict__, "classification": DataClassification.PUBLIC}), gateway)


def test_a_call_with_nothing_found_reports_no_findings(session, client, call, fake_gateway) -> None:
    clean = Call(**{**call.__dict__, "messages": [{"role": "user", "content": "Summarise the travel policy"}]})
    answer = whole_answer(clean, metered(client, session, guardrails=every_classification("block")))
    assert answer.guardrails is None and sent(fake_gateway) == ["Summarise the travel policy"]


def test_messages_a_prepare_step_guarded_are_sent_as_they_are(session, client, call, fake_gateway) -> None:
    prepared = Call(**{**call.__dict__, "guarded": PreGuarded(GuardrailAction.WARN)})
    answer = whole_answer(prepared, metered(client, session, guardrails=every_classification("block")))
    assert sent(fake_gateway) == [m["content"] for m in MESSAGES] and answer.guardrails is None


class _Prepared:
    def __init__(self, call: Call) -> None:
        self.call = call


def test_a_streamed_turn_the_guardrails_block_is_refused_with_the_reason(session, client, call,
                                                                        fake_gateway) -> None:
    fake_gateway.reset()
    stream = TurnStream(_Prepared(call), metered(client, session, guardrails=every_classification("block"))).run()
    assert isinstance(stream.refused, GuardrailError) and stream.error is stream.refused
    assert stream.usage is None and fake_gateway.requests == [] and usage(session) == []


def test_texts_to_embed_are_guarded_too_unless_a_step_already_did(session, client, call, fake_gateway) -> None:
    text = f"Contact {EMAIL} for access"
    embed = dict(payer=call.payer, model=call.model, source=SANDBOX_DOCUMENTS, texts=[text],
                 classification=DataClassification.INTERNAL)
    fake_gateway.reset()
    with pytest.raises(GuardrailError):
        metered(client, session, guardrails=every_classification("block")).embed(**embed)
    assert fake_gateway.requests == [] and usage(session) == []
    metered(client, session, guardrails=every_classification("redact")).embed(**embed)
    assert fake_gateway.last_request.body["input"] == ["Contact <EMAIL_1> for access"]
    metered(client, session, guardrails=every_classification("block")).embed(
        **embed, guarded=PreGuarded(GuardrailAction.WARN))
    assert fake_gateway.last_request.body["input"] == [text]
