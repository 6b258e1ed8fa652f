"""Typed audit events: each action belongs to one event type, declared by exactly one installed manifest."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, replace
from datetime import date
from typing import ClassVar

import pytest
from sqlmodel import select

from catalog.events import ModelRequested, ModelTransitioned
from catalog.models import ModelStatus
from metering.events import BudgetOverrideSet
from metering.models import BudgetScope
from portal.core.audit import AuditEvent, Event, record
from portal.core.features import FeatureManifest, ManifestError, action_owner, audit_event_types, check_features
from portal.core.principals import SYSTEM_SEED
from portal.core.user_events import UserCreated, UserSignedIn
from portal.installed import INSTALLED_FEATURES
from prompt_library.events import PromptLabelMoved, PromptTrustChanged
from sandbox.events import ConversationRenamed, DocumentGuardrailFired, GuardrailFired
from templates.events import TemplateForked
from templates.models import ForkDestination
from training.events import CourseAssigned
from training.models import TargetKind


def every_event_type(base: type[Event] = Event) -> set[type[Event]]:
    """Every event type defined in the imported code (the installed features are imported above)."""
    found = set()
    for cls in base.__subclasses__():
        if cls.__module__.startswith("tests."):
            continue  # types a test declares to check the refusals
        if hasattr(cls, "action"):
            found.add(cls)
        found |= every_event_type(cls)
    return found


def test_every_event_type_is_declared_by_exactly_one_manifest() -> None:
    declared = audit_event_types(INSTALLED_FEATURES)
    assert len(declared) == len(set(declared))
    assert set(declared) == every_event_type()


def test_every_action_belongs_to_one_event_type() -> None:
    owners: dict[str, set[type[Event]]] = {}
    for event in audit_event_types(INSTALLED_FEATURES):
        owners.setdefault(event.action, set()).add(action_owner(event))
    assert {action: len(types) for action, types in owners.items() if len(types) != 1} == {}
    # The one type that shares its action is a narrowing: the same finding, about a document.
    sharing = [e for e in audit_event_types(INSTALLED_FEATURES) if action_owner(e) is not e]
    assert sharing == [DocumentGuardrailFired]
    assert (DocumentGuardrailFired.action, DocumentGuardrailFired.entity_type) == (GuardrailFired.action, "document")


@pytest.mark.parametrize("event", sorted(every_event_type(), key=lambda e: e.__name__), ids=lambda e: e.__name__)
def test_every_event_type_is_a_frozen_dataclass_with_an_action_and_entity_type(event: type[Event]) -> None:
    assert dataclasses.is_dataclass(event) and event.__dataclass_params__.frozen
    feature, _, name = event.action.partition(".")
    assert feature and name and event.entity_type


@dataclass(frozen=True)
class _Renamed(Event):
    action: ClassVar[str] = "user.signed_in"  # already a portal action
    entity_type: ClassVar[str] = "use_case"
    use_case: int

    def entity_id(self) -> int:
        return self.use_case


PORTFOLIO = FeatureManifest(name="use_case_portfolio")


@pytest.mark.parametrize(("features", "problem"), [
    ((*INSTALLED_FEATURES, replace(PORTFOLIO, audit_events=(_Renamed,))),
     "use_case_portfolio: audit event _Renamed records 'user.signed_in', the action of UserSignedIn"),
    ((*INSTALLED_FEATURES, replace(PORTFOLIO, audit_events=(GuardrailFired,))),
     "use_case_portfolio: audit event GuardrailFired is already declared by guardrails"),
])
def test_a_manifest_reusing_an_action_or_event_type_is_refused(features, problem: str) -> None:
    with pytest.raises(ManifestError) as refused:
        check_features(features)
    assert str(refused.value) == problem


PINNED = [  # (event, entity id, summary, before JSON, after JSON) exactly as the log stores them
    (ModelTransitioned(model="m1", from_status=ModelStatus.APPROVED, to_status=ModelStatus.DEPRECATED,
                       reason="superseded", old={"status": "approved"}, new={"status": "deprecated"}),
     "m1", "approved → deprecated: superseded", '{"status": "approved"}', '{"status": "deprecated"}'),
    (ModelRequested(model="m2", team="Data", use_case="triage", card={"name": "m2", "risk_tier": 2}),
     "m2", "requested for Data: triage", "null", '{"name": "m2", "risk_tier": 2}'),
    (BudgetOverrideSet(scope=BudgetScope.USER, key="7", daily_tokens=5000, monthly_usd=None,
                       previous={"daily_tokens": 100, "monthly_usd": None}),
     "user:7", "user 7: 5,000 tokens a day", '{"daily_tokens": 100, "monthly_usd": null}',
     '{"daily_tokens": 5000, "monthly_usd": null}'),
    (ConversationRenamed(conversation_id=12, old_title="New chat", new_title="Budget"),
     "12", "", '{"title": "New chat"}', '{"title": "Budget"}'),
    (PromptTrustChanged(slug="greet", was_trusted=False, trusted=True),
     "greet", "trusted: True", '{"trusted": false}', '{"trusted": true}'),
    (PromptLabelMoved(slug="greet", label="production", from_version=None, to_version=2),
     "greet", "production → v2", '{"label": "production", "version": null}', '{"label": "production", "version": 2}'),
    (CourseAssigned(assignment_id=3, course="ai-basics", target_kind=TargetKind.TEAM, target="Data",
                    due_on=date(2026, 3, 1), previous=None),
     "3", "ai-basics to team Data, due 2026-03-01", "null",
     '{"course": "ai-basics", "target_kind": "team", "target": "Data", "due_on": "2026-03-01"}'),
    (UserCreated(user_id=5, email="a@example.com", profile={"role": "viewer"}, demo=True),
     "5", "demo user a@example.com", "null", '{"role": "viewer"}'),
    (UserSignedIn(user_id=5), "5", "", "null", "null"),
    (TemplateForked(fork_id=9, template="rag-chatbot", version="1.0", destination=ForkDestination.ZIP,
                    repo_path="", answers={"name": "x"}),
     "9", "rag-chatbot 1.0 -> a zip download", "null",
     '{"template": "rag-chatbot", "version": "1.0", "destination": "zip", "repo_path": "", "answers": {"name": "x"}}'),
]


@pytest.mark.parametrize(("event", "entity_id", "summary", "before", "after"), PINNED,
                         ids=[type(row[0]).__name__ for row in PINNED])
def test_a_recorded_event_stores_the_same_columns_and_json(session, event: Event, entity_id: str, summary: str,
                                                          before: str, after: str) -> None:
    record(session, SYSTEM_SEED, event)
    session.commit()
    stored = session.exec(select(AuditEvent)).one()
    assert (stored.action, stored.entity_type) == (event.action, event.entity_type)
    assert (stored.entity_id, stored.summary) == (entity_id, summary)
    assert (json.dumps(stored.before), json.dumps(stored.after)) == (before, after)
