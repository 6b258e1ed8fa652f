"""Use cases and their assets on the pages: a use case links to its model, prompt, template and courses; the model
card, the prompt and the template list the use cases that use them, production first; the propose form offers
courses and keeps them."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from catalog.models import DataClassification
from portal.core.db import session_scope
from portal.core.principals import SYSTEM_CLI
from portal.core.users import User
from portfolio.links import linked
from portfolio.models import Autonomy, PeopleAffected, UseCase
from portfolio.service import UseCaseForm, save_use_case
from prompt_library.as_code import SEED_PROMPTS, import_prompts, parse_prompt_file
from tests.portfolio.conftest import complete_form
from tests.views.test_portfolio_pages import fill, user
from training.sync import sync_courses

ASSETS = dict(models=["fake-small"], prompts=["refund-reply"], templates=["rag-chatbot"],
              courses=["prompt-engineering-basics"])


@pytest.fixture
def linked_use_cases(portal_db, served_models) -> dict[str, int]:
    """A use case in production and one in pilot using the same assets, and someone else's draft using them too."""
    with session_scope(portal_db) as session:
        admin = session.exec(select(User).where(User.role == "admin")).first()
        import_prompts(session=session, actor=admin, fallback_owner=admin,
                       specs=parse_prompt_file(SEED_PROMPTS.read_text(encoding="utf-8"), source="seed"))
        sync_courses(session=session, actor=SYSTEM_CLI)
    chen, dana = user(portal_db, "chen.contributor@example.com"), user(portal_db, "dana.developer@example.com")
    made = {}
    with session_scope(portal_db) as session:
        for title, stage in (("Refund pilot", "pilot"), ("Refund replies", "production")):
            use_case = save_use_case(session=session, actor=chen, submit=True,
                                     form=complete_form(chen, title=title, **ASSETS))
            use_case.stage = stage  # set directly: the moves are tested elsewhere
            made[title] = use_case.id
        made["Dana's draft"] = save_use_case(session=session, actor=dana, submit=False,
                                             form=UseCaseForm(title="Dana's draft", **ASSETS)).id
    return made


def link_labels(at) -> list[str]:
    return [link.value for link in at.get("page_link")]


@pytest.mark.parametrize(("page", "query"), [("views/model_card.py", {"model": "fake-small"}),
                                             ("views/prompt.py", {"prompt": "refund-reply"}),
                                             ("views/template.py", {"template": "rag-chatbot"})])
def test_an_asset_page_lists_the_use_cases_using_it_production_first(open_page, linked_use_cases, page,
                                                                     query) -> None:
    at = open_page("viewer", page, **query)
    assert not at.error, [e.value for e in at.error]
    assert "Used by use cases" in [s.value for s in at.subheader]
    used = [label for label in link_labels(at) if " · tier " in label]
    assert used == ["Refund replies · production · tier 1", "Refund pilot · pilot · tier 1"]  # no one's draft


def test_the_model_cards_dependents_count_use_cases_in_production_first(open_page, linked_use_cases) -> None:
    at = open_page("reviewer", "views/model_card.py", model="fake-small")
    dependents = at.dataframe[0].value
    assert list(dependents["kind"])[:2] == ["use case", "use case"]
    assert list(dependents["name"])[:2] == ["1 in production", "1 in pilot"]


def test_the_use_case_page_links_to_each_asset_it_uses(open_page, linked_use_cases) -> None:
    at = open_page("viewer", "views/use_case.py", use_case=str(linked_use_cases["Refund replies"]))
    labels = link_labels(at)
    assert {"fake\\-small", "refund\\-reply", "rag\\-chatbot", "prompt\\-engineering\\-basics"} <= set(labels)


def test_the_propose_form_offers_courses_and_saves_the_chosen_one(open_page, portal_db, linked_use_cases) -> None:
    at = open_page("viewer", "views/portfolio_propose.py")
    assert "prompt-engineering-basics" in at.multiselect(key="pf_courses").options
    fill(at, title="Claims triage", problem="Claims are sorted by hand.", who_has_it="Claims handlers",
         value_amount=5000.0, value_assumption="2 hours a day", classification=DataClassification.INTERNAL,
         people_affected=PeopleAffected.STAFF, human_review=True, autonomy=Autonomy.ASSISTS)
    at.multiselect(key="pf_courses").set_value(["prompt-engineering-basics"])
    at.button(key="FormSubmitter:pf_form-Submit").click().run()
    assert not at.error, [e.value for e in at.error]
    with Session(portal_db) as session:
        claims = session.exec(select(UseCase).where(UseCase.title == "Claims triage")).one()
        assert linked(session, claims.id, "course") == ["prompt-engineering-basics"]
