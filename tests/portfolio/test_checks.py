"""The graduation checks on other features' data: template lineage, courses held, use in the last 30 days."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import select

from catalog.models import DataClassification
from metering.budgets import Payer
from metering.gateway import Call
from metering.models import UsageEvent
from portal.core.audit import utcnow
from portal.core.errors import InvalidInput
from portal.core.gateway import GatewayClient
from portal.core.yaml_models import YamlFileError
from portfolio.checks import GraduationPolicy
from portfolio.criteria import criteria_states, load_criteria
from portfolio.models import Stage
from portfolio.stages import decide_move, request_move
from prompt_library.editing import create_prompt
from prompt_library.models import PromptTestRun
from prompt_library.runner import CaseInput, RunContext, run_tests, save_test_cases
from prompt_library.templates import Variable
from sandbox.models import SANDBOX_CHAT
from templates.forks import fork_template
from templates.models import ForkDestination, TemplateFork
from templates.registry import TemplateStore
from templates.updates import update_fork
from tests.metering.support import metered
from tests.prompt_library.conftest import draft
from tests.templates.conftest import ANSWERS_FILE, SIMPLE, git_repo, write_template
from tests.templates.test_registry_and_updates import HELLO_V1, new_template_version, register
from tests.training.conftest import complete
from training.models import Certificate

FUNDAMENTALS = "'Generative AI fundamentals for everyone'"
BOTH = FUNDAMENTALS + " and 'Responsible AI and data classification'"


def _state(session, use_case, to_stage: str, key: str, **given):
    session.expire_all()
    return next(s for s in criteria_states(session=session, use_case=use_case, to_stage=to_stage, **given)
                if s.key == key)


def _to_pilot(session, use_case, owner) -> None:
    for stage in (Stage.ASSESSMENT, Stage.PILOT):
        request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=stage,
                     base_revision=use_case.revision)
    session.commit()


# Lineage -------------------------------------------------------------------------------------------------------

@pytest.fixture
def store(tmp_path: Path) -> TemplateStore:
    return TemplateStore(sources_dir=tmp_path / "sources", repos_dir=tmp_path / "repos", max_output_bytes=2_000_000)


@pytest.fixture
def greeter(tmp_path: Path) -> Path:
    folder = write_template(tmp_path / "greeter", SIMPLE, {**ANSWERS_FILE, "hello.txt.jinja": HELLO_V1})
    return git_repo(folder, tag="1.0.0")


def _fork(session, store, user, destination=ForkDestination.ZIP) -> TemplateFork:
    result = fork_template(session=session, actor=user, store=store, template_name="greeter", answers={},
                           destination=destination)
    session.commit()
    return result.fork


def test_a_template_without_a_current_fork_by_the_team_keeps_the_use_case_from_production(
        session, make_user, make_use_case, store, greeter, trained) -> None:
    admin, owner = make_user("admin"), make_user("contributor", team="Claims")
    teammate, outsider = make_user("contributor", team="Claims"), make_user("contributor", team="Other")
    register(session, admin, store, greeter)
    use_case = make_use_case(1, owner=owner, operations=True, team="Claims", templates=["greeter"])
    trained(owner, teammate)
    _to_pilot(session, use_case, owner)
    _fork(session, store, outsider)  # another team's fork is not this use case's code
    state = _state(session, use_case, "production", "template-lineage")
    assert (state.state, state.detail) == ("not met", "greeter has no fork by the owner or the Claims team")
    with pytest.raises(InvalidInput, match="greeter has no fork by the owner or the Claims team"):
        request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage.PRODUCTION,
                     base_revision=use_case.revision)
    session.rollback()

    fork = _fork(session, store, teammate, ForkDestination.GIT)
    assert _state(session, use_case, "production", "template-lineage").state == "met"
    new_template_version(greeter, "{{ greeting }} from version two\n", "1.1.0")
    register(session, admin, store, greeter)
    behind = (f"greeter's newest fork, {fork.project_name} (by {teammate.email}, {fork.created_at:%Y-%m-%d}), is on "
              "version 1.0.0, behind the template's current 1.1.0")
    assert _state(session, use_case, "production", "template-lineage").detail == behind
    update_fork(session=session, actor=teammate, store=store, fork_id=fork.id)
    session.commit()
    # An update waiting on its branch is not yet the fork's code: still behind, and the page says where it waits.
    state = _state(session, use_case, "production", "template-lineage")
    assert (state.state, state.detail) == ("not met", behind + "; an update to 1.1.0 waits on its branch "
                                                               "template-update-2")

    _fork(session, store, owner)  # a fresh fork on the current version
    assert _state(session, use_case, "production", "template-lineage").state == "met"
    request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage.PRODUCTION,
                 base_revision=use_case.revision)
    assert use_case.stage == "production"


# Courses -------------------------------------------------------------------------------------------------------

def test_the_owner_and_the_configured_share_of_the_team_must_hold_the_tiers_courses(
        session, make_user, make_use_case, trained) -> None:
    owner, reviewer = make_user("contributor", team="Claims"), make_user("reviewer", team="Risk")
    first, second, third = (make_user("viewer", team="Claims") for _ in range(3))
    make_user("viewer", team="Claims").active = False  # a leaver is not counted
    session.commit()
    use_case = make_use_case(2, owner=owner, team="Claims")
    move = request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage.ASSESSMENT,
                        base_revision=use_case.revision)
    decide_move(session=session, actor=reviewer, move_id=move.id, approve=True, seen_version=move.version)
    session.commit()
    trained(first, slugs=())  # loads the courses, trains nobody
    state = _state(session, use_case, "pilot", "team-trained-responsible")
    assert (state.state, state.detail) == (
        "not met", f"the owner holds no valid certificate of {BOTH}; 0 of 4 in the Claims team (the owner included) "
                   f"(0%; 50% needed) hold {BOTH}")
    with pytest.raises(InvalidInput, match="the owner holds no valid certificate"):
        request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage.PILOT,
                     base_revision=use_case.revision)
    session.rollback()

    trained(owner)
    trained(first, slugs=("genai-fundamentals",))  # one course of two does not count
    assert _state(session, use_case, "pilot", "team-trained-responsible").detail == (
        f"1 of 4 in the Claims team (the owner included) (25%; 50% needed) hold {BOTH}")
    complete(session, first, "responsible-ai")
    state = _state(session, use_case, "pilot", "team-trained-responsible")
    assert (state.state, state.detail) == ("met", f"the owner and 2 of 4 in the Claims team (the owner included) "
                                                  f"(50%; 50% needed) hold {BOTH}")
    assert _state(session, use_case, "pilot", "team-trained-responsible",
                  policy=GraduationPolicy(team_trained_share=0.75)).state == "not met"

    # An expired certificate no longer counts.
    session.exec(update(Certificate).where(Certificate.user_id == first.id)
                 .values(expires_at=utcnow() - timedelta(days=1)))
    session.commit()
    assert "1 of 4 in the Claims team" in _state(session, use_case, "pilot", "team-trained-responsible").detail
    trained(second, third)
    move = request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage.PILOT,
                        base_revision=use_case.revision)
    decide_move(session=session, actor=reviewer, move_id=move.id, approve=True, seen_version=move.version)
    assert use_case.stage == "pilot"


def test_a_course_the_portal_does_not_know_is_named_and_courses_go_only_with_their_check(
        session, make_user, make_use_case, trained) -> None:
    criteria = load_criteria("criteria:\n  - key: trained\n    title: Trained\n    check: courses_held\n"
                             "    courses: [genai-fundamentals, no-such-course]\n    tiers: [1]\n    moves: [pilot]\n",
                             source="c.yaml")
    owner = make_user("contributor")
    trained(owner)
    use_case = make_use_case(1, owner=owner)
    state = _state(session, use_case, "pilot", "trained", criteria=criteria)
    assert (state.state, state.detail) == ("not met", "the criteria file names course(s) the portal does not know: "
                                                      "no-such-course; fix the slug in portfolio/criteria.yaml, or "
                                                      "load the courses (coe-portal training sync)")
    one_criterion = "criteria:\n  - key: k\n    title: T\n    tiers: [1]\n    moves: [pilot]\n"
    with pytest.raises(YamlFileError, match=r"c.yaml, line 2: criteria.0: k: a courses_held criterion lists the "
                                            r"courses it requires \(courses: "):
        load_criteria(one_criterion + "    check: courses_held\n", source="c.yaml")
    with pytest.raises(YamlFileError, match="only a courses_held criterion takes a list of courses"):
        load_criteria(one_criterion + "    check: operations_ready\n    courses: [responsible-ai]\n", source="c.yaml")
    with pytest.raises(YamlFileError, match="'Responsible AI' is not a course slug"):
        load_criteria(one_criterion + "    check: courses_held\n    courses: [Responsible AI]\n", source="c.yaml")


# Recent use ----------------------------------------------------------------------------------------------------

@pytest.fixture
def gateway(fake_gateway, session):
    client = GatewayClient(base_url=fake_gateway.url)
    yield metered(client, session)
    client.close()


def _tested_prompt(session, author, reviewer_run_model: str):
    """A prompt with one test case, authored by `author`, recommending the model."""
    prompt = create_prompt(session=session, actor=author, draft=draft(
        system="Answer tersely.", user="{ticket}", variables=[Variable("ticket", "input")],
        recommended_models=[reviewer_run_model]))
    save_test_cases(session=session, actor=author, prompt_id=prompt.id,
                    cases=[CaseInput(name="any", variables={"ticket": "refund"},
                                          checks=[{"kind": "contains", "value": "refund"}])])
    session.commit()
    return prompt


def test_linked_models_and_prompts_must_have_been_used_by_the_team_in_the_last_30_days_with_their_cost(
        session, make_user, make_model, make_use_case, gateway) -> None:
    model = make_model(name="fake-small", served=True, input_price_per_mtok=1000.0, output_price_per_mtok=1000.0)
    make_model(name="fake-large", served=True, input_price_per_mtok=1000.0, output_price_per_mtok=1000.0)
    owner, teammate = make_user("contributor", team="Claims"), make_user("contributor", team="Claims")
    outsider = make_user("contributor", team="Other")
    prompt = _tested_prompt(session, teammate, "fake-small")
    use_case = make_use_case(1, owner=owner, team="Claims", models=["fake-small"], prompts=[prompt.slug])
    hello = [{"role": "user", "content": "Summarise the travel policy"}]
    gateway.chat(Call(payer=Payer.of(outsider), model=model, source=SANDBOX_CHAT, messages=hello,
                      classification=DataClassification.INTERNAL))
    state = _state(session, use_case, "production", "used-recently")
    assert (state.state, state.detail) == (
        "not met", f"not used through the portal in the last 30 days by the owner or the Claims team: model "
                   f"fake-small, prompt {prompt.slug}; a prompt's use is its test runs in the portal; $0.00 spent "
                   "in those 30 days")

    gateway.chat(Call(payer=Payer.of(owner), model=model, source=SANDBOX_CHAT, messages=hello,
                      classification=DataClassification.INTERNAL))
    assert _state(session, use_case, "production", "used-recently").detail.startswith(
        f"not used through the portal in the last 30 days by the owner or the Claims team: prompt {prompt.slug};")
    # The teammate's test run on a model the use case does not link: the run is the prompt's use, and its cost
    # counts (a run on a linked model is counted once, as that model's calls).
    run_tests(session=session, actor=teammate, prompt_id=prompt.id, version=1, model_names=["fake-large"],
              context=RunContext(gateway=gateway, judge_model="fake-large"))
    session.commit()
    team_calls = session.exec(select(UsageEvent).where(UsageEvent.model_name == "fake-small",
                                                       UsageEvent.user_id == owner.id)).all()
    [run] = session.exec(select(PromptTestRun)).all()
    cost = sum(e.cost_usd for e in team_calls) + run.cost_usd
    assert cost > 0
    state = _state(session, use_case, "production", "used-recently")
    assert (state.state, state.detail) == (
        "met", f"used in the last 30 days: 1 model(s) in 1 call(s), 1 prompt(s) in 1 test run(s); a prompt's use is "
               f"its test runs in the portal; cost per month ${cost:,.2f} (the last 30 days)")

    # Thirty-one days later, the same use is too old.
    month_ago = utcnow() - timedelta(days=31)
    session.exec(update(UsageEvent).values(at=month_ago))
    session.exec(update(PromptTestRun).values(finished_at=month_ago))
    session.commit()
    assert _state(session, use_case, "production", "used-recently").detail.startswith(
        "not used through the portal in the last 30 days by the owner or the Claims team: model fake-small, prompt ")


def test_a_use_case_linking_nothing_has_no_use_to_look_for(session, make_user, make_use_case) -> None:
    use_case = make_use_case(1, owner=make_user("contributor"))
    state = _state(session, use_case, "production", "used-recently")
    assert (state.state, state.detail) == ("met", "it links no model or prompt, so there is no use to look for")
