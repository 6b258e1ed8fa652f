"""Typed audit events: each action belongs to one event type, declared by exactly one installed manifest."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from typing import ClassVar

import pytest

from portal.core.audit import Event
from portal.core.features import FeatureManifest, ManifestError, action_owner, audit_event_types, check_features
from portal.installed import INSTALLED_FEATURES
from sandbox.events import DocumentGuardrailFired, GuardrailFired


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
