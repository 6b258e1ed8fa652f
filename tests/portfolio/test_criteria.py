"""Graduation criteria checked from the portal's own data, sign-offs and waivers, and the criteria file itself."""

from __future__ import annotations

import pytest
from sqlmodel import select

from catalog.models import DataClassification, ModelStatus
from portal.core.audit import AuditEvent
from portal.core.errors import InvalidInput, PermissionDenied
from portal.core.gateway import GatewayClient
from portal.core.yaml_models import YamlFileError
from portfolio.criteria import criteria_states, default_criteria, load_criteria
from portfolio.graduation import decide_criterion, save_operations
from portfolio.models import CriterionKind, Stage
from portfolio.stages import decide_move, request_move
from prompt_library.editing import create_prompt
from prompt_library.review import decide_review, request_review
from prompt_library.runner import CaseInput, RunContext, run_tests, save_test_cases
from prompt_library.templates import Variable
from tests.metering.support import metered
from tests.prompt_library.conftest import draft


def _to_pilot(session, use_case, owner) -> None:
    """Walk a tier-1 use case to pilot (tier 1 moves at once), where production is next."""
    for stage in (Stage.ASSESSMENT, Stage.PILOT):
        request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=stage,
                     base_revision=use_case.revision)
    session.commit()


def _state(session, use_case, to_stage: str, key: str):
    return next(s for s in criteria_states(session=session, use_case=use_case, to_stage=to_stage) if s.key == key)


def test_a_model_not_approved_or_not_cleared_for_the_data_blocks_the_move(session, make_user, make_model,
                                                                           make_use_case) -> None:
    proposed = make_model(ModelStatus.PROPOSED, name="acme/draft-model")
    low = make_model(name="acme/internal-only", max_classification=int(DataClassification.INTERNAL))
    owner = make_user("contributor")
    use_case = make_use_case(1, owner=owner, models=[proposed.name, low.name],
                             classification=DataClassification.INTERNAL)
    request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage.ASSESSMENT,
                 base_revision=use_case.revision)
    session.commit()
    with pytest.raises(InvalidInput, match="acme/draft-model is proposed") as refused:
        request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage.PILOT,
                     base_revision=use_case.revision)
    assert "acme/internal-only" not in refused.value.message  # cleared for internal data: fine
    assert use_case.stage == "assessment"
    session.rollback()
    proposed.status, proposed.max_classification = ModelStatus.APPROVED, DataClassification.PUBLIC
    session.add(proposed)
    session.commit()
    state = _state(session, use_case, "pilot", "models-cleared")
    assert (state.state, state.detail) == ("not met", "acme/draft-model is cleared only up to public data, "
                                                      "not internal")
    proposed.max_classification = DataClassification.CONFIDENTIAL
    session.add(proposed)
    session.commit()
    request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage.PILOT,
                 base_revision=use_case.revision)
    assert use_case.stage == "pilot"


def test_a_restricted_model_is_cleared_only_for_a_use_case_of_its_teams_or_departments(
        session, make_user, make_model, make_use_case) -> None:
    model = make_model(ModelStatus.RESTRICTED, name="acme/treasury-only", restricted_teams=["Treasury"],
                       restricted_departments=["Finance"])
    owner = make_user("contributor")
    cases = {where: make_use_case(1, owner=owner, models=[model.name], team=team, department=department,
                                  title=f"Cash forecast ({where})")
             for where, team, department in (("elsewhere", "Data Platform", "Engineering"),
                                             ("team", "Treasury", "Engineering"), ("department", "AP", "Finance"))}
    for use_case in cases.values():
        request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage.ASSESSMENT,
                     base_revision=use_case.revision)
    session.commit()
    state = _state(session, cases["elsewhere"], "pilot", "models-cleared")
    assert (state.state, state.detail) == (
        "not met", "acme/treasury-only is restricted to Treasury, Finance, not to Data Platform")
    assert [_state(session, cases[w], "pilot", "models-cleared").state for w in ("team", "department")] == [
        "met", "met"]
    with pytest.raises(InvalidInput, match="acme/treasury-only is restricted to Treasury, Finance"):
        request_move(session=session, actor=owner, use_case_id=cases["elsewhere"].id, to_stage=Stage.PILOT,
                     base_revision=cases["elsewhere"].revision)
    session.rollback()
    assert session.get(type(cases["elsewhere"]), cases["elsewhere"].id).stage == "assessment"


@pytest.fixture
def run_context(fake_gateway, session):
    client = GatewayClient(base_url=fake_gateway.url)
    yield RunContext(gateway=metered(client, session), judge_model="fake-large")
    client.close()


def test_a_prompt_whose_latest_run_failed_cannot_go_to_production_until_a_run_passes(
        session, make_user, make_model, make_use_case, run_context, trained) -> None:
    make_model(name="fake-small")
    author, reviewer = make_user("contributor"), make_user("reviewer")
    prompt = create_prompt(session=session, actor=author, draft=draft(
        system="Answer tersely.", user="{ticket}", variables=[Variable("ticket", "input")],
        recommended_models=["fake-small"]))
    session.commit()
    owner = make_user("contributor")
    # The author runs the tests in the owner's team: that is the prompt's recent use; both hold the courses.
    use_case = make_use_case(1, owner=owner, operations=True, prompts=[prompt.slug], team=author.team)
    trained(owner, author)
    _to_pilot(session, use_case, owner)
    assert "is not published" in _state(session, use_case, "production", "prompts-tested").detail
    review = request_review(session=session, actor=author, prompt_id=prompt.id, kind="publish", version=1)
    decide_review(session=session, actor=reviewer, review_id=review.id, approve=True, comment="fine")
    session.commit()
    assert _state(session, use_case, "production", "prompts-tested").detail == f"{prompt.slug} has no test cases"
    check = {"kind": "contains", "value": "refund"}
    save_test_cases(session=session, actor=author, prompt_id=prompt.id,
                    cases=[CaseInput(name="refund", variables={"ticket": "nothing"}, checks=[check])])
    session.commit()
    run_tests(session=session, actor=author, prompt_id=prompt.id, version=1, model_names=["fake-small"],
              context=run_context)
    session.commit()
    with pytest.raises(InvalidInput, match=f"{prompt.slug}'s latest test run on fake-small passed 0 of 1 cases"):
        request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage.PRODUCTION,
                     base_revision=use_case.revision)
    session.rollback()
    save_test_cases(session=session, actor=author, prompt_id=prompt.id,
                    cases=[CaseInput(name="refund", variables={"ticket": "the refund"}, checks=[check])])
    session.commit()
    run_tests(session=session, actor=author, prompt_id=prompt.id, version=1, model_names=["fake-small"],
              context=run_context)
    session.commit()
    request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage.PRODUCTION,
                 base_revision=use_case.revision)
    assert use_case.stage == "production"


def test_operations_fields_are_needed_for_production_and_a_tier_2_approval_waits_for_them(
        session, make_user, make_use_case, trained) -> None:
    owner, reviewer, other = make_user("contributor"), make_user("reviewer"), make_user("reviewer")
    use_case = make_use_case(2, owner=owner)
    trained(owner)
    for stage in (Stage.ASSESSMENT, Stage.PILOT):
        move = request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=stage,
                            base_revision=use_case.revision)
        decide_move(session=session, actor=reviewer, move_id=move.id, approve=True, seen_version=move.version)
    session.commit()
    with pytest.raises(InvalidInput) as refused:
        request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage.PRODUCTION,
                     base_revision=use_case.revision)
    assert refused.value.message == (
        "The move to production waits for its graduation criteria; missing: A named on-call owner, a rollback plan "
        "and a monitoring link are filled in (missing an on-call owner, a rollback plan, a monitoring link).")
    session.rollback()
    with pytest.raises(InvalidInput, match="must be a web address"):
        save_operations(session=session, actor=owner, use_case_id=use_case.id, on_call_owner="AP rota",
                        rollback_plan="Manual queue.", monitoring_url="grafana", base_revision=use_case.revision)
    session.rollback()
    save_operations(session=session, actor=owner, use_case_id=use_case.id, on_call_owner="AP rota",
                    rollback_plan="Manual queue.", monitoring_url="https://grafana.example.com/d/ap",
                    base_revision=use_case.revision)
    move = request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage.PRODUCTION,
                        base_revision=use_case.revision)
    session.commit()
    # Emptied meanwhile: the approval that would apply the move waits for the criterion again.
    save_operations(session=session, actor=other, use_case_id=use_case.id, on_call_owner="", rollback_plan="x",
                    monitoring_url="", base_revision=use_case.revision)
    session.commit()
    with pytest.raises(InvalidInput, match="missing an on-call owner, a monitoring link"):
        decide_move(session=session, actor=reviewer, move_id=move.id, approve=True, seen_version=move.version)
    session.rollback()
    assert use_case.stage == "pilot"


def test_a_waiver_by_the_owner_is_refused_and_one_by_a_reviewer_is_audited(session, make_user,
                                                                           make_use_case, trained) -> None:
    owner_reviewer, reviewer = make_user("reviewer"), make_user("reviewer")
    use_case = make_use_case(1, owner=owner_reviewer)
    trained(owner_reviewer)
    _to_pilot(session, use_case, owner_reviewer)
    with pytest.raises(PermissionDenied, match="You own this use case"):
        decide_criterion(session=session, actor=owner_reviewer, use_case_id=use_case.id,
                         criterion="operations-ready", to_stage="production", kind=CriterionKind.WAIVED,
                         reason="It is only a demo")
    with pytest.raises(InvalidInput, match="Say why the criterion is waived"):
        decide_criterion(session=session, actor=reviewer, use_case_id=use_case.id, criterion="operations-ready",
                         to_stage="production", kind=CriterionKind.WAIVED, reason="")
    with pytest.raises(InvalidInput, match="it can be waived, not signed"):
        decide_criterion(session=session, actor=reviewer, use_case_id=use_case.id, criterion="operations-ready",
                         to_stage="production", kind=CriterionKind.SIGNED)
    session.rollback()
    decide_criterion(session=session, actor=reviewer, use_case_id=use_case.id, criterion="operations-ready",
                     to_stage="production", kind=CriterionKind.WAIVED, reason="Runs inside the team's own on-call")
    session.commit()
    state = _state(session, use_case, "production", "operations-ready")
    assert (state.state, state.detail) == ("waived", f"waived by {reviewer.email}: Runs inside the team's own on-call")
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "use_case.criterion_decided")).one()
    assert event.actor_email == reviewer.email and event.after["kind"] == "waived"
    request_move(session=session, actor=owner_reviewer, use_case_id=use_case.id, to_stage=Stage.PRODUCTION,
                 base_revision=use_case.revision)
    assert use_case.stage == "production"


def test_a_sign_off_criterion_waits_for_a_reviewer_who_is_not_the_owner(session, make_user, make_use_case) -> None:
    owner, reviewer = make_user("contributor"), make_user("reviewer")
    use_case = make_use_case(3, owner=owner, operations=True)
    state = _state(session, use_case, "production", "security-review")
    assert (state.state, state.checked) == ("not met", False)
    decide_criterion(session=session, actor=reviewer, use_case_id=use_case.id, criterion="security-review",
                     to_stage="production", kind=CriterionKind.SIGNED, reason="Pen test 2026-11")
    session.commit()
    state = _state(session, use_case, "production", "security-review")
    assert (state.state, state.detail) == ("met", f"signed by {reviewer.email}: Pen test 2026-11")
    assert _state(session, use_case, "production", "operations-ready").state == "met"


def test_the_repository_criteria_file_is_valid() -> None:
    criteria = default_criteria()
    assert {s.key for s in criteria.for_move(3, "production")} >= {"models-cleared", "prompts-tested",
                                                                   "operations-ready", "security-review"}


def test_a_criteria_file_with_a_bad_field_names_the_file_and_line() -> None:
    text = ("criteria:\n"
            "  - key: ok\n    title: Fine\n    tiers: [1]\n    moves: [pilot]\n"
            "  - key: bad\n    title: Wrong\n    check: vibes\n    tiers: [4]\n    moves: [pilot]\n    owner: me\n")
    with pytest.raises(YamlFileError) as refused:
        load_criteria(text, source="portfolio/criteria.yaml")
    problems = {(p.line, p.field) for p in refused.value.problems}
    assert {(8, "criteria.1.check"), (9, "criteria.1.tiers.0"), (11, "criteria.1.owner")} <= problems
    assert "portfolio/criteria.yaml, line 11: criteria.1.owner: is not a known field" in refused.value.message
    with pytest.raises(YamlFileError, match="line 3: .*the key 'a' is used twice"):
        load_criteria("criteria:\n  - {key: a, title: A, tiers: [1], moves: [pilot]}\n"
                      "  - {key: a, title: B, tiers: [1], moves: [pilot]}\n", source="c.yaml")
