"""Prompt-test runs and the judge take the metered path's guardrail step: the admins' action for the prompt's
classification decides what reaches the fake gateway (real HTTP; what it received is asserted)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from portal.core.audit import AuditEvent
from portal.core.users import User
from prompt_library.judge import JUDGE_SYSTEM
from prompt_library.runner import CaseInput, RunContext, run_tests, save_test_cases
from prompt_library.templates import Variable
from metering.models import UsageEvent
from tests.metering.support import every_classification, metered

EMAIL, CARD = "jane.doe@example.com", "4111 1111 1111 1111"
TICKET = f"Refund {CARD} for {EMAIL} please"
CONTAINS_REFUND = {"kind": "contains", "value": "Refund"}


@pytest.fixture
def test_prompt(session, make_prompt, make_model):
    make_model(name="fake-small", input_price_per_mtok=1.0, output_price_per_mtok=2.0)
    make_model(name="fake-large")
    return make_prompt(system="Answer tersely.", user="{ticket}", variables=[Variable("ticket", "input")])


def run(session, prompt, gateway_client, action: str, *cases: CaseInput):
    actor = session.get(User, prompt.owner_id)
    save_test_cases(session=session, actor=actor, prompt_id=prompt.id, cases=list(cases))
    session.commit()  # saved before the run, as on the page
    context = RunContext(gateway=metered(gateway_client, session, guardrails=every_classification(action)),
                         judge_model="fake-large")
    [result] = run_tests(session=session, actor=actor, prompt_id=prompt.id, version=1, model_names=["fake-small"],
                         context=context)
    session.commit()
    return result


def chat_requests(fake_gateway) -> list[list[dict]]:
    return [r.body["messages"] for r in fake_gateway.requests if r.path.endswith("/chat/completions")]


def guardrail_events(session) -> list[AuditEvent]:
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == "sandbox.guardrail_fired")).all())


def test_a_case_the_block_policy_stops_fails_with_the_reason_and_makes_no_call(session, test_prompt,
                                                                                gateway_client, fake_gateway) -> None:
    fake_gateway.reset()
    result = run(session, test_prompt, gateway_client, "block",
                 CaseInput(name="leaky", variables={"ticket": TICKET}, checks=[CONTAINS_REFUND]),
                 CaseInput(name="clean", variables={"ticket": "Refund order 12"}, checks=[CONTAINS_REFUND]))
    leaky, clean = result.results
    assert (leaky["passed"], leaky["output"], leaky["checks"]) == (False, "", [])
    assert leaky["error"] == ("Found 1 e-mail address and 1 payment card number: blocked — this test case was not "
                              "sent. Remove them or choose a data classification that allows them.")
    assert clean["passed"] and result.passed == 1
    assert [m[-1]["content"] for m in chat_requests(fake_gateway)] == ["Refund order 12"]
    assert len(session.exec(select(UsageEvent)).all()) == 1  # the blocked case reserved nothing
    (event,) = guardrail_events(session)
    assert event.after == {"action": "block", "counts": {"email": 1, "payment_card": 1},
                           "classification": "internal", "source": "prompt test case 'leaky'"}
    assert EMAIL not in str(event.after) and event.entity_id == test_prompt.slug


def test_a_case_under_the_redact_policy_sends_placeholders(session, test_prompt, gateway_client,
                                                         fake_gateway) -> None:
    result = run(session, test_prompt, gateway_client, "redact",
                 CaseInput(name="leaky", variables={"ticket": TICKET}, checks=[CONTAINS_REFUND]))
    [sent] = chat_requests(fake_gateway)
    assert sent[-1]["content"] == "Refund <PAYMENT_CARD_1> for <EMAIL_1> please"
    assert EMAIL not in str(sent) and CARD not in str(sent)
    [case] = result.results
    assert case["passed"] and case["output"] == "Echo: Refund <PAYMENT_CARD_1> for <EMAIL_1> please"
    assert case["guardrails"] == "Found 1 e-mail address and 1 payment card number: redacted before sending."
    assert [e.after["action"] for e in guardrail_events(session)] == ["redact"]


def test_a_case_under_the_warn_policy_is_sent_as_written_with_the_notice(session, test_prompt, gateway_client,
                                                                        fake_gateway) -> None:
    result = run(session, test_prompt, gateway_client, "warn",
                 CaseInput(name="leaky", variables={"ticket": TICKET}, checks=[CONTAINS_REFUND]))
    [sent] = chat_requests(fake_gateway)
    assert sent[-1]["content"] == TICKET
    assert result.results[0]["guardrails"].endswith("sent as written — make sure this data may be shared with "
                                                    "the model.")


def test_the_judge_call_is_guarded_and_metered_like_the_case(session, test_prompt, gateway_client,
                                                             fake_gateway) -> None:
    rubric = {"kind": "judge", "value": f"Says to write to {EMAIL}. SCORE: 5", "pass_score": 4}
    result = run(session, test_prompt, gateway_client, "redact",
                 CaseInput(name="judged", variables={"ticket": "Refund order 12"}, checks=[rubric]))
    case_call, judge_call = chat_requests(fake_gateway)
    assert judge_call[0]["content"] == JUDGE_SYSTEM
    assert "Says to write to <EMAIL_1>. SCORE: 5" in judge_call[-1]["content"] and EMAIL not in str(judge_call)
    assert result.results[0]["passed"]
    sources = [(u.model_name, u.source) for u in session.exec(select(UsageEvent).order_by(UsageEvent.id)).all()]
    assert sources == [("fake-small", "prompt test"), ("fake-large", "prompt test")]


def test_a_judge_the_block_policy_stops_fails_its_check_without_a_call(session, test_prompt, gateway_client,
                                                                       fake_gateway) -> None:
    fake_gateway.reset()
    rubric = {"kind": "judge", "value": f"Says to write to {EMAIL}. SCORE: 5", "pass_score": 4}
    result = run(session, test_prompt, gateway_client, "block",
                 CaseInput(name="judged", variables={"ticket": "Refund order 12"}, checks=[rubric]))
    assert len(chat_requests(fake_gateway)) == 1  # the case's own call; the judge was not asked
    [check] = result.results[0]["checks"]
    assert not check["passed"] and check["detail"] == (
        "the judge fake-large was not asked: Found 1 e-mail address: blocked — the answer to grade was not sent. "
        "Remove it or choose a data classification that allows it.")
