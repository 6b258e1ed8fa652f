"""One label per enum value: each enum a page shows says its own label, and the pages use it."""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum
from typing import Protocol

import pytest

from catalog.models import DataClassification, Hosting, Mode, ModelStatus, RiskChangeState, RiskTier
from prompt_library.models import PromptStatus
from templates.models import ForkDestination
from training.learning import Status
from tests.conftest import REPO_ROOT

class Labelled(Protocol):
    """An enum member that says how people read it."""

    @property
    def label(self) -> str: ...


LABELLED: list[type[Enum]] = [ModelStatus, DataClassification, Hosting, Mode, RiskTier, RiskChangeState,
                              PromptStatus, ForkDestination, Status]


@pytest.mark.parametrize("enum", LABELLED, ids=lambda e: e.__name__)
def test_every_value_has_one_distinct_label(enum: Iterable[Labelled]) -> None:
    labels = [member.label for member in enum]
    assert all(labels) and len(set(labels)) == len(labels)


@pytest.mark.parametrize(("member", "label"), [
    (ModelStatus.UNDER_REVIEW, "under review"), (PromptStatus.IN_REVIEW, "in review"),
    (Hosting.THIRD_PARTY_API, "third-party API"), (ForkDestination.ZIP, "zip download"),
    (ForkDestination.GIT, "new git repository"), (Status.NOT_STARTED, "not started"),
    (Status.EXPIRED, "certificate expired"),  # the course list's badge and table say the same now
])
def test_labels_read_as_people_read_them(member: Labelled, label: str) -> None:
    assert member.label == label


def test_the_pages_keep_no_labels_of_their_own() -> None:
    """The label copies the pages used to keep are gone: they ask the enum."""
    views = REPO_ROOT / "portal" / "views"
    text = "\n".join(path.read_text(encoding="utf-8") for path in views.glob("*.py"))
    for copy in ('"new git repository"', '"zip download"', "HOSTING_SHORT", '"certificate expired"',
                 ":gray-badge[not started]"):
        assert copy not in text, copy
