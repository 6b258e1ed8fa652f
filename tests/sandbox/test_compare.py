"""Compare models against the deterministic test gateway: concurrent streams, usage, guardrails, votes."""

from __future__ import annotations

import hashlib

import pytest
from sqlmodel import select

from catalog.models import CatalogModel, DataClassification, ModelStatus
from portal.core.errors import InvalidInput, PermissionDenied
from sandbox.chat import SandboxPolicy
from sandbox.compare import (
    AlreadyVoted,
    CompareRequest,
    CompareSide,
    ComparisonRun,
    prepare_comparison,
    record_comparison,
    vote_on_comparison,
    vote_summary,
)
from metering.models import UsageEvent
from sandbox.models import ComparisonVote, Conversation
from metering.budgets import BudgetPolicy
from tests.sandbox.support import POLICY
from tests.metering.support import metered

C = DataClassification


@pytest.fixture
def models(make_model) -> dict[str, CatalogModel]:
    fields = {"status": ModelStatus.APPROVED, "served": True, "max_classification": int(C.INTERNAL)}
    return {"fake-small": make_model(name="fake-small", input_price_per_mtok=1.0, output_price_per_mtok=2.0,
                                     **fields),
            "fake-large": make_model(name="fake-large", input_price_per_mtok=3.0, output_price_per_mtok=6.0,
                                     **fields)}


def request(*sides: CompareSide | str, message: str = "one two three four five",
            classification: C = C.INTERNAL) -> CompareRequest:
    return CompareRequest(message=message, classification=classification,
                          sides=tuple(s if isinstance(s, CompareSide) else CompareSide(s) for s in sides))


def compare(session, gateway, user, compare_request: CompareRequest):
    prepared = prepare_comparison(session=session, user=user, policy=POLICY, request=compare_request)
    session.commit()  # as the page does: checked (a guardrail audited) in one transaction, the calls after it
    run = ComparisonRun(prepared, metered(gateway, session)).start()
    texts = run.wait()
    record = record_comparison(run=run)
    session.commit()
    return run, texts, record


def chat_requests(fake_gateway) -> list:
    return [r for r in fake_gateway.requests if r.path.endswith("/chat/completions")]


def test_three_answers_stream_at_the_same_time(session, make_user, models, gateway, fake_gateway) -> None:
    fake_gateway.chunk_delay_s = 0.05
    sides = ("fake-small", "fake-large", CompareSide("fake-small", system_prompt="Answer briefly."))
    run, texts, record = compare(session, gateway, make_user(), request(*sides))
    assert texts == ["Echo: one two three four five"] * 3
    # Run one after another, a stream's first token would come after the previous stream had finished.
    assert max(s.first_token_at for s in run.sides) < min(s.finished_at for s in run.sides)
    assert [s.model_name for s in record.sides] == ["fake-small", "fake-large", "fake-small"]
    assert record.sides[2].system_prompt_hash == hashlib.sha256(b"Answer briefly.").hexdigest()
    assert record.sides[0].system_prompt_hash == ""
    assert all(s.time_to_first_token_s is not None and s.tokens_per_second for s in record.sides)


def test_every_call_is_recorded_as_sandbox_compare_and_no_conversation(session, make_user, models,
                                                                       gateway) -> None:
    user = make_user()
    _, _, record = compare(session, gateway, user, request("fake-small", "fake-large", message="Hello there"))
    usage = session.exec(select(UsageEvent).order_by(UsageEvent.model_name)).all()
    assert [(u.model_name, u.source, u.status, u.user_id, u.tokens_in, u.tokens_out) for u in usage] == [
        ("fake-large", "sandbox compare", "ok", user.id, 2, 3), ("fake-small", "sandbox compare", "ok", user.id, 2, 3)]
    assert usage[0].cost_usd == pytest.approx((2 * 3.0 + 3 * 6.0) / 1e6)
    assert [s.cost_usd for s in record.sides] == pytest.approx([8e-6, 24e-6])
    assert session.exec(select(Conversation)).all() == []


def test_a_blocked_message_sends_nothing_to_any_model(session, make_user, models, gateway, fake_gateway) -> None:
    prepared = prepare_comparison(session=session, user=make_user(), policy=POLICY, request=request(
        "fake-small", "fake-large", message="Mail jane.doe@example.com", classification=C.PUBLIC))
    assert prepared.blocked
    with pytest.raises(InvalidInput, match="blocked"):
        ComparisonRun(prepared, metered(gateway, session))
    assert chat_requests(fake_gateway) == []


def test_redaction_is_the_same_for_every_side_and_only_a_hash_is_kept(session, make_user, models, gateway,
                                                                       fake_gateway) -> None:
    user = make_user()
    _, texts, record = compare(session, gateway, user, request("fake-small", "fake-large",
                                                               message="Mail jane.doe@example.com"))
    sent = [r.body["messages"][-1]["content"] for r in chat_requests(fake_gateway)]
    assert sent == ["Mail <EMAIL_1>"] * 2
    assert record.message_hash == hashlib.sha256(b"Mail <EMAIL_1>").hexdigest()
    vote = vote_on_comparison(session=session, user=user, comparison=record, choice="a")
    assert "jane" not in str(vote.model_dump())


@pytest.mark.parametrize(("sides", "says"), [
    (("fake-small",), "two or three"),
    (("fake-small", "fake-large", "fake-small", "fake-large"), "two or three"),
    (("fake-small", "fake-small"), "same model with the same system prompt"),
])
def test_the_sides_must_be_two_or_three_different_ones(session, make_user, models, sides, says) -> None:
    with pytest.raises(InvalidInput, match=says):
        prepare_comparison(session=session, user=make_user(), policy=POLICY, request=request(*sides))


def test_a_model_not_offered_is_refused_before_anything_is_sent(session, make_user, models, make_model,
                                                                fake_gateway) -> None:
    make_model(name="unserved", served=False)
    with pytest.raises(PermissionDenied, match="'unserved' is not offered to you"):
        prepare_comparison(session=session, user=make_user(), policy=POLICY,
                           request=request("fake-small", "unserved"))
    with pytest.raises(PermissionDenied, match="not offered to you for confidential"):
        prepare_comparison(session=session, user=make_user(), policy=POLICY,
                           request=request("fake-small", "fake-large", classification=C.CONFIDENTIAL))
    assert chat_requests(fake_gateway) == []


def test_one_failing_side_does_not_stop_the_others(session, make_user, models, gateway, fake_gateway) -> None:
    fake_gateway.fail_next("500")  # whichever request comes first gets it
    sides = ("fake-small", "fake-large", CompareSide("fake-small", system_prompt="Be brief."))
    _, texts, record = compare(session, gateway, make_user(), request(*sides, message="Hello there"))
    statuses = sorted(s.status.value for s in record.sides)
    assert statuses == ["failed", "ok", "ok"]
    failed = next(s for s in record.sides if s.status.value == "failed")
    assert "internal error" in failed.error and failed.text == "" and failed.cost_usd == 0
    assert sorted(texts) == ["", "Echo: Hello there", "Echo: Hello there"]
    assert sorted(u.status for u in session.exec(select(UsageEvent)).all()) == ["failed", "ok", "ok"]


def test_a_cut_side_keeps_what_arrived(session, make_user, models, gateway, fake_gateway) -> None:
    fake_gateway.fail_next("cut", after_chunks=2)
    _, _, record = compare(session, gateway, make_user(), request("fake-small", "fake-large"))
    cut = next(s for s in record.sides if s.status.value == "interrupted")
    assert cut.text.startswith("Echo:") and cut.error


def test_a_vote_is_stored_once(session, make_user, models, gateway) -> None:
    user = make_user()
    _, _, record = compare(session, gateway, user, request("fake-small", "fake-large"))
    vote_on_comparison(session=session, user=user, comparison=record, choice="b")
    session.commit()
    with pytest.raises(AlreadyVoted, match="already voted"):
        vote_on_comparison(session=session, user=user, comparison=record, choice="a")
    (vote,) = session.exec(select(ComparisonVote)).all()
    assert (vote.user_id, vote.model_a, vote.model_b, vote.model_c, vote.winner, vote.winner_side) == (
        user.id, "fake-small", "fake-large", "", "fake-large", "b")
    assert vote.classification == int(C.INTERNAL) and len(vote.message_hash) == 64


def test_only_the_person_who_compared_votes_and_only_on_a_side_shown(session, make_user, models,
                                                                     gateway) -> None:
    user = make_user()
    _, _, record = compare(session, gateway, user, request("fake-small", "fake-large"))
    with pytest.raises(PermissionDenied):
        vote_on_comparison(session=session, user=make_user(), comparison=record, choice="a")
    with pytest.raises(InvalidInput, match="'c' is not a choice"):
        vote_on_comparison(session=session, user=user, comparison=record, choice="c")


def test_vote_summary_counts_wins_losses_and_ties(session, make_user, models, make_model, gateway) -> None:
    make_model(name="fake-other", served=True)
    user = make_user()
    for sides, choice in [(("fake-small", "fake-large"), "a"), (("fake-large", "fake-small"), "a"),
                          (("fake-small", "fake-large"), "tie"), (("fake-small", "fake-large"), "none"),
                          (("fake-small", CompareSide("fake-small", "Be brief.")), "b")]:
        _, _, record = compare(session, gateway, user, request(*sides))
        vote_on_comparison(session=session, user=user, comparison=record, choice=choice)
    session.commit()
    small = vote_summary(session=session, model_name="fake-small")
    assert (small.wins, small.losses, small.ties, small.comparisons, small.all_bad) == (1, 1, 1, 4, 1)
    large = vote_summary(session=session, model_name="fake-large")
    assert (large.wins, large.losses, large.ties, large.comparisons) == (1, 1, 1, 4)
    assert vote_summary(session=session, model_name="fake-other").comparisons == 0


def test_a_guardrail_finding_is_audited_once_per_comparison(session, make_user, make_model) -> None:
    from portal.core.audit import AuditEvent
    from sandbox.compare import CompareRequest, CompareSide, prepare_comparison

    for name in ("fake-small", "fake-large"):
        make_model(ModelStatus.APPROVED, name=name, served=True, max_classification=2)
    policy = SandboxPolicy(budgets=BudgetPolicy(0, 0), max_message_chars=2000,
                           guardrail_actions={"public": "redact", "internal": "redact", "confidential": "warn",
                                              "restricted": "warn"})
    prepare_comparison(session=session, user=make_user(), policy=policy, request=CompareRequest(
        message="write to ann@example.com", classification=DataClassification.INTERNAL,
        sides=(CompareSide(model_name="fake-small"), CompareSide(model_name="fake-large"))))
    session.commit()
    assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "sandbox.guardrail_fired")).all()) == 1
