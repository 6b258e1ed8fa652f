"""A sandbox turn against the deterministic test gateway: who sees which model, guardrails, budgets, failures."""

from __future__ import annotations


import pytest
from sqlmodel import select

from catalog.models import CatalogModel, DataClassification, ModelStatus
from portal.core.audit import AuditEvent
from portal.core.auth import Role
from portal.core.errors import InvalidInput, NotFound, PermissionDenied
from portal.core.gateway import GatewayClient
from sandbox.chat import SandboxPolicy, TurnRequest, TurnStream, offered_models, prepare_turn, record_turn
from sandbox.conversations import (
    conversation_messages,
    delete_conversation,
    export_conversation,
    list_conversations,
    rename_conversation,
)
from metering.models import UsageEvent
from sandbox.models import ChatMessage
from metering.budgets import BudgetExhausted, BudgetPolicy
from tests.sandbox.support import POLICY
from tests.metering.support import metered

C = DataClassification
S = ModelStatus


@pytest.fixture
def small(make_model) -> CatalogModel:
    return make_model(S.APPROVED, name="fake-small", served=True, max_classification=int(C.INTERNAL),
                      input_price_per_mtok=1.0, output_price_per_mtok=2.0)


def turn(user, message="Hello there", *, model="fake-small", classification=C.INTERNAL, **fields) -> TurnRequest:
    return TurnRequest(message=message, model_name=model, classification=classification, **fields)


def run(session, gateway, user, request: TurnRequest, policy: SandboxPolicy = POLICY):
    prepared = prepare_turn(session=session, user=user, policy=policy, request=request)
    stream = TurnStream(prepared, metered(gateway, session))
    text = "".join(stream)
    recorded = record_turn(session=session, stream=stream)
    session.commit()
    return text, stream, recorded


# (status, cleared up to, restricted to team?, served) of the model; (classification asked, user's team) -> offered?
VISIBILITY = [
    (S.APPROVED, C.INTERNAL, False, True, C.PUBLIC, "Brand", True),
    (S.APPROVED, C.INTERNAL, False, True, C.INTERNAL, "Brand", True),
    (S.APPROVED, C.INTERNAL, False, True, C.CONFIDENTIAL, "Brand", False),
    (S.APPROVED, C.RESTRICTED, False, False, C.PUBLIC, "Brand", False),
    (S.RESTRICTED, C.INTERNAL, True, True, C.PUBLIC, "Data Platform", True),
    (S.RESTRICTED, C.INTERNAL, True, True, C.PUBLIC, "Brand", False),
    (S.DEPRECATED, C.INTERNAL, False, True, C.PUBLIC, "Brand", True),
    *[(status, C.RESTRICTED, False, True, C.PUBLIC, "Brand", False)
      for status in (S.PROPOSED, S.UNDER_REVIEW, S.RETIRED, S.REJECTED)],
]


@pytest.mark.parametrize(("status", "cleared", "restricted", "served", "asked", "team", "offered"), VISIBILITY)
@pytest.mark.parametrize("role", list(Role))
def test_which_models_are_offered(session, make_user, make_model, status, cleared, restricted, served, asked,
                                  team, offered, role) -> None:
    fields = {"restricted_teams": ["Data Platform"] if restricted else []}
    make_model(status, name="candidate", served=served, max_classification=int(cleared), **fields)
    user = make_user(role, team=team)
    assert [m.name for m in offered_models(session=session, user=user, classification=asked)] == (
        ["candidate"] if offered else [])


def test_a_turn_streams_records_usage_and_saves_the_conversation(session, make_user, gateway, fake_gateway,
                                                                 small) -> None:
    user = make_user(Role.VIEWER, team="Campaigns", department="Marketing")
    text, stream, recorded = run(session, gateway, user, turn(user, system_prompt="Be brief."))
    assert text == "Echo: Hello there" and stream.result is not None
    body = fake_gateway.last_request.body
    assert body["user"] == user.email and body["messages"][0] == {"role": "system", "content": "Be brief."}
    usage = session.exec(select(UsageEvent)).one()
    assert (usage.model_name, usage.team, usage.department, usage.status) == ("fake-small", "Campaigns",
                                                                               "Marketing", "ok")
    assert usage.cost_usd == pytest.approx((usage.tokens_in * 1.0 + usage.tokens_out * 2.0) / 1e6)
    assert recorded.answer.cost_usd == usage.cost_usd and recorded.answer.time_to_first_token_s is not None
    (conversation,) = list_conversations(session=session, user=user)
    assert conversation.title == "Hello there"

    run(session, gateway, user, turn(user, "And again", conversation_id=conversation.id))
    assert [m["content"] for m in fake_gateway.last_request.body["messages"]] == [
        "Hello there", "Echo: Hello there", "And again"]
    assert len(conversation_messages(session=session, user=user, conversation_id=conversation.id)) == 4


@pytest.mark.parametrize(("message", "complaint"), [("   ", "Type a message first"),
                                                    ("x" * 2001, "2,001 characters long; at most 2,000")])
def test_bad_messages_are_refused_before_any_call(session, make_user, small, fake_gateway, message,
                                                  complaint) -> None:
    with pytest.raises(InvalidInput, match=complaint):
        prepare_turn(session=session, user=make_user(), policy=POLICY, request=turn(None, message))
    assert fake_gateway.requests == []


def test_a_model_not_offered_is_refused(session, make_user, small) -> None:
    with pytest.raises(PermissionDenied, match="not offered to you for confidential data"):
        prepare_turn(session=session, user=make_user(), policy=POLICY,
                     request=turn(None, classification=C.CONFIDENTIAL))


def test_an_exhausted_budget_stops_the_call_before_any_request(session, make_user, small, gateway,
                                                               fake_gateway) -> None:
    user = make_user()
    tight = SandboxPolicy(budgets=BudgetPolicy(daily_tokens_per_user=5, monthly_usd_per_team=0),
                          max_message_chars=2000, guardrail_actions=POLICY.guardrail_actions)
    run(session, gateway, user, turn(user), policy=tight)
    requests_before = len(fake_gateway.requests)
    with pytest.raises(BudgetExhausted, match="daily sandbox quota of 5 tokens is used up"):
        prepare_turn(session=session, user=user, policy=tight, request=turn(user))
    assert len(fake_gateway.requests) == requests_before


def test_redaction_sends_placeholders_and_audits_counts_only(session, make_user, small, gateway,
                                                             fake_gateway) -> None:
    user = make_user()
    secret = "Mail jane.doe@example.com or call +44 20 7946 0958 about it"
    text, _, recorded = run(session, gateway, user, turn(user, secret))
    sent = fake_gateway.last_request.body["messages"][-1]["content"]
    assert "jane.doe@example.com" not in sent and "<EMAIL_1>" in sent
    stored = session.exec(select(ChatMessage).where(ChatMessage.role == "user")).one()
    assert "jane.doe@example.com" not in stored.content and stored.redactions >= 1
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "sandbox.guardrail_fired")).one()
    assert "jane.doe" not in str(event.after) + event.summary and event.after["action"] == "redact"


def test_blocked_content_never_reaches_the_gateway(session, make_user, make_model, fake_gateway) -> None:
    make_model(S.APPROVED, name="fake-large", served=True, max_classification=int(C.PUBLIC))
    user = make_user()
    prepared = prepare_turn(session=session, user=user, policy=POLICY,
                            request=turn(user, "card 4111 1111 1111 1111", model="fake-large",
                                         classification=C.PUBLIC))
    session.commit()
    assert prepared.blocked and prepared.messages == []
    assert fake_gateway.requests == []
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "sandbox.guardrail_fired")).one()
    assert "4111" not in str(event.after) + event.summary and event.after["action"] == "block"


def test_a_cut_stream_keeps_the_partial_answer_marked_incomplete(session, make_user, small, gateway,
                                                                  fake_gateway) -> None:
    user = make_user()
    fake_gateway.fail_next("cut", after_chunks=2)
    text, stream, recorded = run(session, gateway, user, turn(user, "one two three four five six"))
    assert stream.status.value == "interrupted" and text and recorded.answer.incomplete
    assert recorded.answer.content == text
    assert "stopped before it was finished" in stream.error.message
    assert session.exec(select(UsageEvent)).one().status == "interrupted"


@pytest.mark.parametrize("failure", ["500", "429", "404"])
def test_a_failed_call_is_billed_as_failed_and_saves_no_messages(session, make_user, small, gateway,
                                                                 fake_gateway, failure) -> None:
    user = make_user()
    fake_gateway.fail_next(failure)
    text, stream, recorded = run(session, gateway, user, turn(user))
    assert text == "" and recorded.answer is None and stream.error.message
    assert session.exec(select(ChatMessage)).all() == []
    assert session.exec(select(UsageEvent)).one().status == "failed"


def test_conversations_are_private_and_can_be_renamed_exported_and_deleted(session, make_user, small,
                                                                            gateway) -> None:
    owner, other = make_user(), make_user()
    _, _, recorded = run(session, gateway, owner, turn(owner, "Plan a team offsite"))
    cid = recorded.conversation_id
    with pytest.raises(NotFound):
        conversation_messages(session=session, user=other, conversation_id=cid)
    with pytest.raises(NotFound):
        prepare_turn(session=session, user=other, policy=POLICY, request=turn(other, conversation_id=cid))
    rename_conversation(session=session, user=owner, conversation_id=cid, title="  Offsite   ideas ")
    markdown = export_conversation(session=session, user=owner, conversation_id=cid, fmt="markdown")
    assert markdown.startswith("# Offsite ideas") and "Echo: Plan a team offsite" in markdown
    assert '"title": "Offsite ideas"' in export_conversation(session=session, user=owner, conversation_id=cid,
                                                             fmt="json")
    with pytest.raises(InvalidInput):
        rename_conversation(session=session, user=owner, conversation_id=cid, title=" ")
    delete_conversation(session=session, user=owner, conversation_id=cid)
    session.commit()
    assert list_conversations(session=session, user=owner) == []
    assert session.exec(select(ChatMessage)).all() == []
    assert len(session.exec(select(UsageEvent)).all()) == 1  # the bill stays


@pytest.mark.local_model
def test_one_turn_on_the_real_local_model(session, make_user, make_model, local_model_server) -> None:
    base_url, _ = local_model_server
    make_model(S.APPROVED, name="smollm2-135m-instruct", served=True, max_classification=int(C.INTERNAL))
    user = make_user()
    text, stream, recorded = run(session, GatewayClient(base_url=base_url, timeout_s=60), user,
                                 turn(user, "Name a colour.", model="smollm2-135m-instruct", max_tokens=16))
    assert text.strip() and stream.result is not None and recorded.answer.tokens_out > 0
    assert session.exec(select(UsageEvent)).one().usage_estimated  # llama_cpp.server streams no usage


def test_a_conversation_never_drops_below_its_most_sensitive_turn(session, make_user, make_model, gateway,
                                                                   fake_gateway) -> None:
    make_model(S.APPROVED, name="fake-large", served=True, max_classification=int(C.CONFIDENTIAL))
    make_model(S.APPROVED, name="fake-small", served=True, max_classification=int(C.PUBLIC))
    user = make_user()
    _, _, recorded = run(session, gateway, user, turn(user, "Q3 numbers", model="fake-large",
                                                      classification=C.CONFIDENTIAL))
    with pytest.raises(PermissionDenied, match="not offered to you for confidential data"):
        prepare_turn(session=session, user=user, policy=POLICY,
                     request=turn(user, "now in public", model="fake-small", classification=C.PUBLIC,
                                  conversation_id=recorded.conversation_id))


def test_a_failed_call_costs_nothing(session, make_user, small, gateway, fake_gateway) -> None:
    fake_gateway.fail_next("500")
    run(session, gateway, make_user(), turn(None))
    usage = session.exec(select(UsageEvent)).one()
    assert (usage.tokens_in, usage.tokens_out, usage.cost_usd) == (0, 0, 0.0)


def test_retrying_a_cut_answer_replaces_it(session, make_user, small, gateway, fake_gateway) -> None:
    user = make_user()
    fake_gateway.fail_next("cut", after_chunks=2)
    _, _, first = run(session, gateway, user, turn(user, "one two three four five"))
    cid = first.conversation_id
    run(session, gateway, user, turn(user, "one two three four five", conversation_id=cid))
    assert [m["content"] for m in fake_gateway.last_request.body["messages"]] == ["one two three four five"]
    messages = conversation_messages(session=session, user=user, conversation_id=cid)
    assert [(m.role, m.incomplete) for m in messages] == [("user", False), ("assistant", False)]


def test_an_answer_to_a_conversation_deleted_meanwhile_is_kept_in_a_new_one(session, make_user, small,
                                                                            gateway) -> None:
    user = make_user()
    _, _, first = run(session, gateway, user, turn(user, "first"))
    prepared = prepare_turn(session=session, user=user, policy=POLICY,
                            request=turn(user, "second", conversation_id=first.conversation_id))
    stream = TurnStream(prepared, metered(gateway, session))
    "".join(stream)
    delete_conversation(session=session, user=user, conversation_id=first.conversation_id)
    session.commit()  # as another tab would
    recorded = record_turn(session=session, stream=stream)
    session.commit()
    (kept,) = list_conversations(session=session, user=user)
    assert kept.title == "second" and recorded.answer.content == "Echo: second"
    assert [m.content for m in conversation_messages(session=session, user=user, conversation_id=kept.id)] == [
        "second", "Echo: second"]
    assert len(session.exec(select(UsageEvent)).all()) == 2


def test_the_model_card_lists_who_used_it(session, make_user, small, gateway) -> None:
    from metering.usage import usage_dependents

    for team in ("Campaigns", "Campaigns", "Brand"):
        user = make_user(team=team)
        run(session, gateway, user, turn(user))
    found = usage_dependents(session=session, model_name="fake-small")
    assert [(d.kind, d.name, d.detail) for d in found] == [
        ("sandbox usage", "3 people, 3 calls in the last 90 days", ""),
        ("team", "Campaigns", "2 people"), ("team", "Brand", "1 people")]
    assert usage_dependents(session=session, model_name="unused") == []
