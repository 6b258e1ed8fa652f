"""The test-case runner on the deterministic fake gateway: every check kind passing and failing, usage, the
production gate and the out-of-date matrix."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from catalog.lifecycle import TransitionRequest
from catalog.models import DataClassification, ModelStatus
from catalog.service import transition_model
from portal.core.errors import InvalidInput
from portal.core.users import User
from prompt_library.review import decide_review, labels_of, request_review
from prompt_library.runner import (
    RunContext,
    CaseInput,
    latest_runs,
    matrix_out_of_date,
    run_tests,
    runnable_models,
    save_test_cases,
)
from prompt_library.models import PromptTestRun
from prompt_library.templates import Variable
from metering.models import UsageEvent
from metering.budgets import BudgetExhausted, BudgetPolicy
from tests.metering.support import metered

SCHEMA = {"type": "object", "required": ["sentiment"], "properties": {"sentiment": {"enum": ["pos", "neg"]}}}
VERBATIM = "Reply verbatim: "


def case(name: str, ticket: str, *checks: dict) -> CaseInput:
    return CaseInput(name=name, variables={"ticket": ticket}, checks=list(checks))


# (check, answer the fake gives for which it passes, answer for which it fails)
CHECKS = [
    ({"kind": "contains", "value": "refund"}, "Echo: refund due", "Echo: nothing"),
    ({"kind": "not_contains", "value": "password"}, "Echo: fine", "Echo: my password"),
    ({"kind": "regex", "value": r"ORD-\d{4}"}, "Echo: ORD-1234", "Echo: ORD-12"),
    ({"kind": "equals", "value": "Echo: yes"}, "Echo: yes", "Echo: no"),
    ({"kind": "valid_json"}, VERBATIM + '{"a": 1}', VERBATIM + "{a: 1}"),
    ({"kind": "json_schema", "value": SCHEMA}, VERBATIM + '{"sentiment": "pos"}', VERBATIM + '{"sentiment": "meh"}'),
    ({"kind": "max_length", "value": 12}, "Echo: short", "Echo: far too long an answer"),
    ({"kind": "judge", "value": "Polite. SCORE: 5", "pass_score": 4}, "Echo: ok", None),
    ({"kind": "judge", "value": "Polite. SCORE: 2", "pass_score": 4}, None, "Echo: ok"),
]


@pytest.fixture
def test_prompt(session, make_prompt, make_model):
    make_model(name="fake-small", input_price_per_mtok=1.0, output_price_per_mtok=2.0)
    make_model(name="fake-large")
    return make_prompt(system="Answer tersely.", user="{ticket}", variables=[Variable("ticket", "input")],
                       recommended_models=["fake-small"])


def owner(session, prompt) -> User:
    return session.get(User, prompt.owner_id)


@pytest.mark.parametrize("check, passing, failing", CHECKS, ids=[f"{c['kind']}-{i}" for i, (c, _, _) in
                                                                     enumerate(CHECKS)])
def test_each_check_kind_passes_and_fails_through_the_gateway(session, test_prompt, run_context, check, passing,
                                                              failing) -> None:
    def strip(answer):  # the fake prefixes "Echo: " unless told to reply verbatim
        return answer.removeprefix("Echo: ") if not answer.startswith(VERBATIM) else answer

    cases = [case(name, strip(answer), check) for name, answer in (("pass", passing), ("fail", failing)) if answer]
    actor = owner(session, test_prompt)
    save_test_cases(session=session, actor=actor, prompt_id=test_prompt.id, cases=cases)
    session.commit()  # saved before the run, as on the page: a run calls models outside open writes
    [run] = run_tests(session=session, actor=actor, prompt_id=test_prompt.id, version=1, model_names=["fake-small"],
                      context=run_context)
    assert {r["case"]: r["passed"] for r in run.results} == {c.name: c.name == "pass" for c in cases}


def test_a_run_stores_the_matrix_and_records_usage_as_prompt_tests(session, test_prompt, run_context) -> None:
    actor = owner(session, test_prompt)
    save_test_cases(session=session, actor=actor, prompt_id=test_prompt.id, cases=[
        case("mentions it", "the refund", {"kind": "contains", "value": "refund"}),
        case("too long", "a b c d e f g h", {"kind": "max_length", "value": 5})])
    session.commit()  # saved before the run, as on the page: a run calls models outside open writes
    runs = run_tests(session=session, actor=actor, prompt_id=test_prompt.id, version=1,
                     model_names=["fake-small", "fake-large"], context=run_context)
    session.commit()
    matrix = latest_runs(session=session, version_id=runs[0].version_id)
    assert {m: (r.passed, r.cases) for m, r in matrix.items()} == {"fake-small": (1, 2), "fake-large": (1, 2)}
    small = matrix["fake-small"]
    assert small.tokens_in > 0 and small.tokens_out > 0 and small.latency_s > 0
    assert small.cost_usd == pytest.approx((small.tokens_in * 1.0 + small.tokens_out * 2.0) / 1e6)
    sources = session.exec(select(UsageEvent.source, UsageEvent.model_name)).all()
    assert sorted(sources) == [("prompt test", "fake-large")] * 2 + [("prompt test", "fake-small")] * 2


def test_a_gateway_failure_fails_the_case_and_is_recorded(session, test_prompt, run_context, fake_gateway) -> None:
    actor = owner(session, test_prompt)
    save_test_cases(session=session, actor=actor, prompt_id=test_prompt.id,
                    cases=[case("one", "x", {"kind": "contains", "value": "x"})])
    session.commit()  # saved before the run, as on the page: a run calls models outside open writes
    fake_gateway.fail_next("500")
    [run] = run_tests(session=session, actor=actor, prompt_id=test_prompt.id, version=1, model_names=["fake-small"],
                      context=run_context)
    assert run.passed == 0 and run.results[0]["error"]
    assert session.exec(select(UsageEvent.status)).all() == ["failed"]


def test_budgets_stop_a_run(session, test_prompt, gateway_client) -> None:
    actor = owner(session, test_prompt)
    save_test_cases(session=session, actor=actor, prompt_id=test_prompt.id,
                    cases=[case(str(i), "word " * 20, {"kind": "contains", "value": "word"}) for i in range(3)])
    session.commit()  # saved before the run, as on the page: a run calls models outside open writes
    tight = RunContext(gateway=metered(gateway_client, session, BudgetPolicy(daily_tokens_per_user=30, monthly_usd_per_team=0)))
    with pytest.raises(BudgetExhausted, match="daily sandbox quota"):
        run_tests(session=session, actor=actor, prompt_id=test_prompt.id, version=1, model_names=["fake-small"],
                  context=tight)


@pytest.mark.parametrize("cases, message", [
    ([case("c", "x")], "add at least one check"),
    ([CaseInput("c", {"nope": "x"}, [{"kind": "contains", "value": "x"}])], "unknown variable(s) nope"),
    ([case("c", "x", {"kind": "regex", "value": "("})], "does not compile"),
])
def test_bad_test_cases_are_refused(session, test_prompt, cases, message) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        save_test_cases(session=session, actor=owner(session, test_prompt), prompt_id=test_prompt.id, cases=cases)


def test_running_needs_an_approved_model(session, test_prompt, run_context, make_model) -> None:
    make_model(ModelStatus.PROPOSED, name="new-one")
    actor = owner(session, test_prompt)
    save_test_cases(session=session, actor=actor, prompt_id=test_prompt.id,
                    cases=[case("c", "x", {"kind": "contains", "value": "x"})])
    session.commit()  # saved before the run, as on the page: a run calls models outside open writes
    with pytest.raises(InvalidInput, match="Not an approved chat model: new-one"):
        run_tests(session=session, actor=actor, prompt_id=test_prompt.id, version=1, model_names=["new-one"],
                  context=run_context)


@pytest.mark.parametrize("model_fields", [
    {"max_classification": int(DataClassification.INTERNAL)},  # the prompt is for confidential data
    {"status": ModelStatus.RESTRICTED, "max_classification": int(DataClassification.CONFIDENTIAL),
     "restricted_teams": ["Treasury"]},  # open to another team only
], ids=["not cleared for the data", "restricted to another team"])
def test_tests_run_only_on_models_cleared_for_the_prompts_data_and_open_to_the_runner(
        session, test_prompt, run_context, make_model, model_fields) -> None:
    make_model(name="off-limits", **model_fields)
    test_prompt.classification = int(DataClassification.CONFIDENTIAL)
    session.add(test_prompt)
    actor = owner(session, test_prompt)
    save_test_cases(session=session, actor=actor, prompt_id=test_prompt.id,
                    cases=[case("c", "x", {"kind": "contains", "value": "x"})])
    session.commit()
    assert "off-limits" not in [m.name for m in runnable_models(
        session=session, user=actor, classification=DataClassification.CONFIDENTIAL)]
    with pytest.raises(InvalidInput, match="Not an approved chat model: off-limits"):
        run_tests(session=session, actor=actor, prompt_id=test_prompt.id, version=1, model_names=["off-limits"],
                  context=run_context)
    assert session.exec(select(PromptTestRun)).all() == []


def test_production_is_refused_while_tests_fail_on_the_recommended_model(session, test_prompt, run_context,
                                                                          make_user) -> None:
    actor = owner(session, test_prompt)
    save_test_cases(session=session, actor=actor, prompt_id=test_prompt.id,
                    cases=[case("c", "hello", {"kind": "contains", "value": "refund"})])
    with pytest.raises(InvalidInput, match="have not been run on the recommended model fake-small"):
        request_review(session=session, actor=actor, prompt_id=test_prompt.id, kind="production", version=1)
    session.commit()  # saved before the run, as on the page: a run calls models outside open writes
    run_tests(session=session, actor=actor, prompt_id=test_prompt.id, version=1, model_names=["fake-small"],
              context=run_context)
    with pytest.raises(InvalidInput, match=r"tests fail on the recommended model fake-small \(0/1 passed\)"):
        request_review(session=session, actor=actor, prompt_id=test_prompt.id, kind="production", version=1)
    save_test_cases(session=session, actor=actor, prompt_id=test_prompt.id,
                    cases=[case("c", "a refund", {"kind": "contains", "value": "refund"})])
    session.commit()  # saved before the run, as on the page: a run calls models outside open writes
    run_tests(session=session, actor=actor, prompt_id=test_prompt.id, version=1, model_names=["fake-small"],
              context=run_context)
    review = request_review(session=session, actor=actor, prompt_id=test_prompt.id, kind="production", version=1)
    decide_review(session=session, actor=make_user("reviewer"), review_id=review.id, approve=True, comment="")
    assert labels_of(session=session, prompt_id=test_prompt.id) == {"production": 1}


def test_the_matrix_is_out_of_date_after_a_catalog_status_change(session, test_prompt, run_context,
                                                                  make_user) -> None:
    actor = owner(session, test_prompt)
    save_test_cases(session=session, actor=actor, prompt_id=test_prompt.id,
                    cases=[case("c", "x", {"kind": "contains", "value": "x"})])
    session.commit()  # saved before the run, as on the page: a run calls models outside open writes
    [run] = run_tests(session=session, actor=actor, prompt_id=test_prompt.id, version=1,
                      model_names=["fake-small"], context=run_context)
    session.commit()
    assert matrix_out_of_date(session=session, version_id=run.version_id) == []
    transition_model(session=session, actor=make_user("admin"), name="fake-small", request=TransitionRequest(
        target=ModelStatus.DEPRECATED, reason="superseded", deprecated_on=date(2027, 1, 1),
        replacement_name="fake-large"))
    session.commit()
    [change] = matrix_out_of_date(session=session, version_id=run.version_id)
    assert (change.model_name, change.status) == ("fake-small", "deprecated")
