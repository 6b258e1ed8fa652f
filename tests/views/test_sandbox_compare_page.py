"""The Compare models page (AppTest): side-by-side answers, guardrails, usage, votes and the card's tally."""

from __future__ import annotations

import json

import pytest

from catalog.models import DataClassification
from portal.core.auth import Role
from metering.models import UsageEvent
from sandbox.models import ComparisonVote, Conversation
from tests.views.support import chat_requests, errors, rows, unescaped

COMPARE, CARD = "views/sandbox_compare.py", "views/model_card.py"
C = DataClassification
SEND = "FormSubmitter:compare_form-Compare"
BLOCK_PUBLIC = json.dumps({"public": "block", "internal": "redact", "confidential": "warn", "restricted": "warn"})


@pytest.fixture
def open_compare(open_portal, user_with_role, served_models):
    def open_(role: str = "viewer"):
        at = open_portal(user_with_role(role))
        at.switch_page(COMPARE).run()
        assert not at.exception, at.exception
        return at

    return open_


def markdown(at) -> list[str]:
    return [unescaped(m.value) for m in at.markdown]


def compare(at, message: str = "Hello there"):
    at.text_area(key="compare_draft").input(message)
    at.button(key=SEND).click().run()
    assert not at.exception, at.exception
    return at



@pytest.mark.parametrize("role", [r.value for r in Role])
def test_the_page_runs_for_every_role(open_compare, role) -> None:
    at = open_compare(role)
    assert not errors(at)
    assert [t.value for t in at.title] == ["Compare models"]


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_home_links_to_compare_models(open_portal, user_with_role, role) -> None:
    at = open_portal(user_with_role(role))
    assert "Compare models" in [link.value.split(" — ")[0] for link in at.get("page_link")]


def test_two_models_answer_side_by_side_and_usage_is_recorded(open_compare, portal_db, fake_gateway) -> None:
    at = open_compare()
    at.selectbox(key="compare_classification").set_value(C.PUBLIC).run()
    # The internal-data choice (Fake Small) is kept, and Fake Large, now on offer, fills up to two.
    assert at.multiselect(key="compare_models").value == ["fake-small", "fake-large"]
    compare(at)
    assert not errors(at)
    shown = markdown(at)
    assert "**A** — fake-small" in shown and "**B** — fake-large" in shown
    assert shown.count("Echo: Hello there") == 2
    assert sorted(r.body["model"] for r in chat_requests(fake_gateway)) == ["fake-large", "fake-small"]
    facts = [unescaped(c.value) for c in at.caption if "tokens in" in c.value]
    assert facts[0].startswith("2 tokens in / 3 out · $0.000008 · first token after ") and "tokens/s" in facts[0]
    usage = rows(portal_db, UsageEvent)
    assert sorted((u.model_name, u.source, u.status) for u in usage) == [
        ("fake-large", "sandbox compare", "ok"), ("fake-small", "sandbox compare", "ok")]
    assert rows(portal_db, Conversation) == []


def test_a_vote_is_recorded_once_and_the_card_shows_it(open_compare, portal_db, open_portal,
                                                       user_with_role) -> None:
    at = open_compare()
    at.selectbox(key="compare_classification").set_value(C.PUBLIC).run()
    compare(at)
    at.button(key="compare_vote_a").click().run()
    assert not errors(at)
    assert any("your vote (A is better) is recorded" in s.value for s in at.success)
    (vote,) = rows(portal_db, ComparisonVote)
    assert (vote.model_a, vote.model_b, vote.winner, vote.user_id) == (
        "fake-small", "fake-large", "fake-small", user_with_role("viewer").id)
    assert "Hello" not in json.dumps(vote.model_dump(mode="json"))

    at.button(key="compare_vote_b").click().run()
    assert any("already voted on this comparison" in e for e in errors(at))
    assert len(rows(portal_db, ComparisonVote)) == 1

    card = open_portal(user_with_role("viewer"))
    card.switch_page(CARD)
    card.query_params["model"] = "fake-small"
    card.run()
    assert not card.exception, card.exception
    metrics = {m.label: m.value for m in card.metric}
    assert (metrics["Wins"], metrics["Losses"], metrics["Ties"]) == ("1", "0", "0")


def test_one_model_with_two_system_prompts(open_compare, fake_gateway) -> None:
    at = open_compare()
    at.radio(key="compare_mode").set_value("One model, two system prompts").run()
    at.text_area(key="compare_prompt_a").input("Answer briefly.")
    at.text_area(key="compare_prompt_b").input("Answer at length.")
    compare(at)
    assert not errors(at)
    systems = sorted(r.body["messages"][0]["content"] for r in chat_requests(fake_gateway))
    assert systems == ["Answer at length.", "Answer briefly."]
    assert markdown(at).count("Echo: Hello there") == 2


def test_the_same_model_twice_without_different_prompts_is_refused(open_compare, fake_gateway) -> None:
    at = open_compare()
    at.radio(key="compare_mode").set_value("One model, two system prompts").run()
    compare(at)
    assert any("same model with the same system prompt" in e for e in errors(at))
    assert chat_requests(fake_gateway) == []


def test_blocked_content_is_sent_to_no_model_and_the_draft_stays(open_compare, fake_gateway,
                                                                 monkeypatch) -> None:
    monkeypatch.setenv("PORTAL_GUARDRAIL_ACTIONS", BLOCK_PUBLIC)
    at = open_compare()
    at.selectbox(key="compare_classification").set_value(C.PUBLIC).run()
    compare(at, "Mail jane.doe@example.com about the launch")
    assert errors(at) == ["Found 1 e-mail address: blocked — this message was not sent. Remove it or choose a "
                          "data classification that allows it."]
    assert chat_requests(fake_gateway) == []
    assert at.text_area(key="compare_draft").value == "Mail jane.doe@example.com about the launch"


def test_a_failing_side_shows_its_error_and_the_other_answers(open_compare, fake_gateway, monkeypatch) -> None:
    monkeypatch.setenv("PORTAL_GATEWAY_MAX_RETRIES", "0")
    at = open_compare()
    at.selectbox(key="compare_classification").set_value(C.PUBLIC).run()
    fake_gateway.fail_next("500")
    compare(at)
    assert len(errors(at)) == 1 and "internal error" in errors(at)[0]
    assert markdown(at).count("Echo: Hello there") == 1
