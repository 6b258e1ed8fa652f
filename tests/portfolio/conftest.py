"""Portfolio fixtures: a factory for use cases of a given tier, submitted by their owner."""

from __future__ import annotations

import pytest

from catalog.models import DataClassification
from portal.core.principals import SYSTEM_CLI
from portal.core.users import User
from portfolio.models import Autonomy, PeopleAffected, UseCase
from portfolio.graduation import save_operations
from portfolio.service import UseCaseForm, save_use_case
from tests.training.conftest import complete
from training.sync import sync_courses

# The courses portfolio/criteria.yaml requires of the owner and the team (tier 1: the first only).
REQUIRED_COURSES = ("genai-fundamentals", "responsible-ai")

C = DataClassification
# Answers that make the portal propose each tier.
TIER_ANSWERS = {
    1: dict(classification=C.INTERNAL, people_affected=PeopleAffected.STAFF, human_review=True,
            autonomy=Autonomy.ASSISTS),
    2: dict(classification=C.INTERNAL, people_affected=PeopleAffected.CUSTOMERS, human_review=True,
            autonomy=Autonomy.ASSISTS),
    3: dict(classification=C.CONFIDENTIAL, people_affected=PeopleAffected.STAFF, human_review=True,
            autonomy=Autonomy.ASSISTS),
}


def complete_form(owner: User, tier: int = 1, **changes) -> UseCaseForm:
    """A form with every answer given, whose answers propose `tier`."""
    values = dict(title="Invoice matching", problem="Clerks match invoices to orders by hand.",
                  who_has_it="Accounts payable clerks", department="Finance", team="AP", owner_email=owner.email,
                  value_amount=1200.0, value_unit="hours", value_assumption="3 clerks save 8 hours a week",
                  **TIER_ANSWERS[tier])
    return UseCaseForm(**{**values, **changes})


@pytest.fixture
def make_use_case(session, make_user):
    """Factory: a submitted use case of the given tier, owned (and proposed) by a contributor.

    Its operations (on-call owner, rollback plan, monitoring link) are filled in when `operations=True`.
    """

    def make(tier: int = 1, *, owner: User | None = None, operations: bool = False, **changes) -> UseCase:
        owner = owner or make_user("contributor")
        use_case = save_use_case(session=session, actor=owner, form=complete_form(owner, tier, **changes),
                                 submit=True)
        if operations:
            save_operations(session=session, actor=owner, use_case_id=use_case.id, on_call_owner="AP on-call rota",
                            rollback_plan="Switch matching back to the manual queue.",
                            monitoring_url="https://grafana.example.com/d/ap", base_revision=use_case.revision)
        session.commit()
        return use_case

    return make


@pytest.fixture
def trained(session):
    """Factory: these people complete the required courses (the shipped courses are loaded the first time)."""
    loaded = []

    def train(*people: User, slugs: tuple[str, ...] = REQUIRED_COURSES) -> None:
        if not loaded:
            sync_courses(session=session, actor=SYSTEM_CLI)
            session.commit()
            loaded.append(True)
        for person in people:
            for slug in slugs:
                complete(session, person, slug)

    return train
