"""The CoE side: assignments and overdue work, the dashboard's SQL aggregates, CSV and xAPI exports, unlocks."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from catalog.models import DataClassification
from portal import deps
from portal.core.audit import AuditEvent, utcnow
from portal.core.capabilities import NOTHING_REQUIRED
from portal.core.errors import InvalidInput, PermissionDenied
from portal.core.settings import load_settings
from prompt_library.models import PromptReview, PromptStatus, ReviewKind
from prompt_library.review import request_review
from prompt_library.editing import create_prompt
from sandbox.chat import SandboxPolicy, TurnRequest, prepare_turn
from training.assignments import assign_course, list_assignments
from training.dashboard import as_records, to_csv, training_dashboard
from training.learning import course_list, enrol
from training.models import Assignment
from training.statements import export_statements
from training.unlocks import Capability, CapabilityLocked, CourseGate, require_capability
from tests.prompt_library.conftest import draft
from tests.training.conftest import POLICY, complete

TOMORROW = utcnow().date() + timedelta(days=1)


@pytest.mark.parametrize(("role", "allowed"), [("viewer", False), ("contributor", False), ("reviewer", True),
                                               ("admin", True)])
def test_only_the_coe_team_assigns_and_sees_the_dashboard(session: Session, synced, make_user, role, allowed) -> None:
    actor = make_user(role)
    calls = [lambda: assign_course(session=session, actor=actor, slug="responsible-ai", target_kind="team",
                                   target="Data Platform", due_on=TOMORROW),
             lambda: training_dashboard(session=session, actor=actor),
             lambda: list(export_statements(session=session, actor=actor))]
    for call in calls:
        if allowed:
            call()
        else:
            with pytest.raises(PermissionDenied, match="assign courses and see the training dashboard"):
                call()


@pytest.mark.parametrize(("kind", "target", "due", "message"), [
    ("team", "Nobody's Team", TOMORROW, "No portal user is in the team 'Nobody's Team'"),
    ("person", "ghost@example.com", TOMORROW, "No portal user has the e-mail address 'ghost@example.com'"),
    ("group", "x", TOMORROW, "Assign to a person, team or department, not 'group'"),
    ("team", "Data Platform", date(2020, 1, 1), "The due date 2020-01-01 is in the past"),
])
def test_bad_assignments_are_refused(session: Session, synced, make_user, kind, target, due, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        assign_course(session=session, actor=make_user("reviewer"), slug="responsible-ai", target_kind=kind,
                      target=target, due_on=due)


def test_learners_see_assignments_and_the_coe_sees_overdue_people(session: Session, synced, make_user) -> None:
    coe = make_user("reviewer", department="AI Center of Excellence", team="Platform")
    late, done, other = (make_user(team="Campaigns", department="Marketing"),
                         make_user(team="Campaigns", department="Marketing"),
                         make_user(team="FP&A", department="Finance"))
    assign_course(session=session, actor=coe, slug="genai-fundamentals", target_kind="department",
                  target="Marketing", due_on=TOMORROW)
    complete(session, done)
    enrol(session=session, user=late, slug="genai-fundamentals")
    session.commit()
    row = next(r for r in course_list(session=session, user=late) if r.slug == "genai-fundamentals")
    assert row.due_on == TOMORROW and not row.overdue
    assert all(r.due_on is None for r in course_list(session=session, user=other))
    # A week later the learner who has not finished is overdue.
    assignment = session.exec(select(Assignment)).one()
    assignment.due_on = utcnow().date() - timedelta(days=7)
    session.add(assignment)
    session.commit()
    [listed] = list_assignments(session=session, actor=coe)
    assert (listed.people, listed.completed, listed.overdue) == (2, 1, 1)
    board = training_dashboard(session=session, actor=coe)
    assert [(o.email, o.status) for o in board.overdue] == [(late.email, "in progress")]
    assert board.totals.overdue == 1
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "training.assigned")).one().actor_email == coe.email


def test_the_dashboard_groups_completion_by_department_team_and_course(session: Session, synced, make_user) -> None:
    a = make_user(department="Finance", team="FP&A")
    b = make_user(department="Finance", team="Treasury")
    c = make_user(department="People", team="Talent")
    complete(session, a)
    complete(session, b)
    enrol(session=session, user=c, slug="genai-fundamentals")
    enrol(session=session, user=c, slug="responsible-ai")
    session.commit()
    board = training_dashboard(session=session, actor=make_user("admin"))
    assert [(r.group, r.enrolled, r.completed) for r in board.by_department] == [("Finance", 2, 2), ("People", 2, 0)]
    assert [(r.group, r.rate) for r in board.by_team] == [("FP&A", 1.0), ("Talent", 0.0), ("Treasury", 1.0)]
    assert [(r.group, r.enrolled, r.completed) for r in board.by_course] == [
        ("Generative AI fundamentals for everyone", 3, 2), ("Responsible AI and data classification", 1, 0)]
    assert board.completions_by_month == [(utcnow().strftime("%Y-%m"), 2)]
    assert board.quiz_scores == [(100, 2)]
    assert (board.totals.learners, board.totals.enrolments, board.totals.completions) == (3, 4, 2)


def test_csv_export_has_a_header_and_one_line_per_row(session: Session, synced, make_user) -> None:
    complete(session, make_user(department="Finance"))
    board = training_dashboard(session=session, actor=make_user("admin"))
    text = to_csv(as_records(board.by_department))
    assert text.splitlines() == ["group,enrolled,completed,rate", "Finance,1,1,1.0"]
    assert to_csv([]) == ""


def test_statements_export_as_xapi_json_lines(session: Session, synced, make_user) -> None:
    learner = make_user(name="Lena Learner")
    complete(session, learner)
    lines = list(export_statements(session=session, actor=make_user("reviewer")))
    statements = [json.loads(line) for line in lines]
    assert all(line.endswith("\n") for line in lines)
    verbs = [s["verb"]["display"]["en-US"] for s in statements]
    assert verbs == ["registered", "experienced", "experienced", "experienced", "passed", "completed"]
    completed = statements[-1]
    assert completed["actor"] == {"objectType": "Agent", "name": "Lena Learner", "mbox": f"mailto:{learner.email}"}
    assert completed["verb"]["id"] == "http://adlnet.gov/expapi/verbs/completed"
    assert completed["object"]["id"] == "urn:coe-portal:training:genai-fundamentals"
    assert completed["result"] == {"success": True, "completion": True}
    assert statements[4]["result"] == {"success": True, "score": {"scaled": 1.0}}
    assert set(completed) == {"id", "actor", "verb", "object", "result", "timestamp"}


REQUIRED = {"sandbox_confidential": ["responsible-ai"], "publish_prompts": ["responsible-ai"]}


def test_a_capability_names_the_course_that_unlocks_it(session: Session, synced, make_user) -> None:
    user = make_user()
    with pytest.raises(CapabilityLocked, match="To publish prompts in the prompt library you need a valid "
                                               "certificate of the course 'Responsible AI and data classification'"):
        require_capability(session=session, user=user, capability=Capability.PUBLISH_PROMPTS, required=REQUIRED)
    certificate = complete(session, user, "responsible-ai").certificate
    require_capability(session=session, user=user, capability=Capability.PUBLISH_PROMPTS, required=REQUIRED)
    with pytest.raises(CapabilityLocked):  # an expired certificate no longer unlocks
        require_capability(session=session, user=user, capability="publish_prompts", required=REQUIRED,
                           now=certificate.expires_at + timedelta(seconds=1))
    require_capability(session=session, user=make_user(), capability=Capability.PUBLISH_PROMPTS, required={})


def test_the_sandbox_refuses_confidential_data_until_the_course_is_done(session: Session, synced, make_user,
                                                                     make_model) -> None:
    make_model(name="fake-small", served=True, max_classification=int(DataClassification.CONFIDENTIAL))
    user = make_user()
    policy = SandboxPolicy(budgets=POLICY.budgets, max_message_chars=20_000,
                           guardrail_actions=POLICY.guardrail_actions, capabilities=CourseGate(REQUIRED))
    confidential = TurnRequest(message="Summarise this contract", model_name="fake-small",
                               classification=DataClassification.CONFIDENTIAL)
    internal = TurnRequest(message="Summarise this plan", model_name="fake-small",
                           classification=DataClassification.INTERNAL)
    assert prepare_turn(session=session, user=user, policy=policy, request=internal).messages
    with pytest.raises(CapabilityLocked, match="To use confidential or restricted data in the sandbox"):
        prepare_turn(session=session, user=user, policy=policy, request=confidential)
    complete(session, user, "responsible-ai")
    assert prepare_turn(session=session, user=user, policy=policy, request=confidential).messages


def test_the_setting_knows_exactly_the_capabilities_of_the_code(monkeypatch) -> None:
    for capability in Capability:
        monkeypatch.setenv("PORTAL_TRAINING_REQUIRED_COURSES", json.dumps({capability.value: ["responsible-ai"]}))
        assert load_settings().training_required_courses == {capability.value: ["responsible-ai"]}
    monkeypatch.setenv("PORTAL_TRAINING_REQUIRED_COURSES", '{"fly": ["x"]}')
    from portal.core.errors import SettingsError

    with pytest.raises(SettingsError, match="PORTAL_TRAINING_REQUIRED_COURSES: unknown capability 'fly'"):
        load_settings()


def test_requesting_publication_of_a_prompt_needs_the_required_course(session: Session, synced, make_user) -> None:
    author = make_user("contributor")
    prompt = create_prompt(session=session, actor=author, draft=draft())
    session.commit()
    events_before = len(session.exec(select(AuditEvent)).all())
    with pytest.raises(CapabilityLocked, match="'Responsible AI and data classification'"):
        request_review(session=session, actor=author, prompt_id=prompt.id, kind=ReviewKind.PUBLISH, version=1,
                       capabilities=CourseGate(REQUIRED))
    session.rollback()
    assert session.exec(select(PromptReview)).all() == []
    assert session.get(type(prompt), prompt.id).status == PromptStatus.DRAFT
    assert len(session.exec(select(AuditEvent)).all()) == events_before
    complete(session, author, "responsible-ai")
    review = request_review(session=session, actor=author, prompt_id=prompt.id, kind=ReviewKind.PUBLISH, version=1,
                            capabilities=CourseGate(REQUIRED))
    assert review.kind == ReviewKind.PUBLISH


def test_the_course_gate_says_who_holds_a_capability_and_which_course_unlocks_it(session: Session, synced,
                                                                                make_user) -> None:
    gate, user, confidential = CourseGate(REQUIRED), make_user(), Capability.SANDBOX_CONFIDENTIAL
    assert gate.named_requirement(session=session, capability=confidential) == (
        "'Responsible AI and data classification'")
    assert not gate.holds(session=session, user=user, capability=confidential)
    with pytest.raises(CapabilityLocked, match="certificate of the course 'Responsible AI and data classification'"):
        gate.require(session=session, user=user, capability=confidential)
    complete(session, user, "responsible-ai")
    assert gate.holds(session=session, user=user, capability=confidential)
    gate.require(session=session, user=user, capability=confidential)
    for open_gate in (CourseGate({}), NOTHING_REQUIRED):  # no course configured: open to everyone
        assert open_gate.holds(session=session, user=make_user(), capability=confidential)
        assert open_gate.named_requirement(session=session, capability=confidential) == ""
        open_gate.require(session=session, user=make_user(), capability=confidential)


def test_the_portal_hands_the_configured_courses_to_the_sandbox_and_the_prompt_library(monkeypatch) -> None:
    monkeypatch.setenv("PORTAL_TRAINING_REQUIRED_COURSES", json.dumps(REQUIRED))
    settings = load_settings()
    assert deps.capability_gate(settings) == CourseGate(REQUIRED)
    assert deps.sandbox_policy(settings).capabilities == CourseGate(REQUIRED)
