"""Typed links (portal/views/_links.py): the link a page builds is the value the target page reads, a page opened
again from the sidebar shows the one opened last, and a hostile value is shown as text."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from portal.core.db import session_scope
from portal.core.features import page_for_view
from portal.core.principals import SYSTEM_CLI
from portal.core.users import User
from portal.installed import INSTALLED_FEATURES
from portal.views import _links as links
from portal.views._sandbox_settings import MODEL
from portfolio.service import UseCaseForm, save_use_case
from prompt_library.as_code import SEED_PROMPTS, import_prompts, parse_prompt_file
from tests.conftest import REPO_ROOT
from tests.portfolio.conftest import complete_form
from tests.views.support import shown, unescaped
from training.sync import sync_courses

HOSTILE = "[x](javascript:alert(1)) **bold**"
ABOUT = [links.model_card, links.model_evaluations, links.prompt, links.template, links.course, links.quiz, links.lab,
         links.certificate, links.use_case, links.use_case_form]


@pytest.fixture
def content(portal_db, served_models):
    """A model card, the seed prompts, the courses (templates are built in)."""
    with Session(portal_db) as session:
        admin = session.exec(select(User).where(User.role == "admin")).first()
        import_prompts(session=session, actor=admin, fallback_owner=admin,
                       specs=parse_prompt_file(SEED_PROMPTS.read_text(encoding="utf-8"), source="seed"))
        sync_courses(session=session, actor=SYSTEM_CLI)
        session.commit()
    return portal_db


@pytest.fixture
def use_cases(portal_db) -> tuple[User, int, int]:
    """A contributor's submitted use case and their draft: (the contributor, the submitted one, the draft)."""
    with session_scope(portal_db) as session:
        owner = session.exec(select(User).where(User.role == "contributor")).first()
        submitted = save_use_case(session=session, actor=owner, form=complete_form(owner, 1), submit=True).id
        draft = save_use_case(session=session, actor=owner, form=UseCaseForm(title="Minutes drafting"), submit=False).id
    return owner, submitted, draft


@pytest.mark.parametrize("about", ABOUT, ids=lambda a: a.page)
def test_every_link_names_a_declared_page_and_the_parameter_it_reads(about) -> None:
    page = page_for_view(INSTALLED_FEATURES, REPO_ROOT / "portal" / about.page)
    assert page.view.endswith(about.page.removeprefix("views/"))
    assert about("some value") == links.Link(about.page, ((about.param, "some value"),))


# builder, value, what the page shows for it
ROUND_TRIPS = {
    "model card": (links.model_card, "fake-small", "Fake Small"),
    "prompt": (links.prompt, "refund-reply", "Reply to a refund request"),
    "template": (links.template, "rag-chatbot", "RAG chatbot over a folder of documents"),
    "course": (links.course, "prompt-engineering-basics", "Prompt engineering basics"),
    "quiz": (links.quiz, "prompt-engineering-basics", "Prompt engineering basics"),
    "lab": (links.lab, "prompt-engineering-basics", "Labs — Prompt engineering basics"),
}


@pytest.mark.parametrize("case", list(ROUND_TRIPS))
def test_a_link_opens_the_page_on_its_value_and_the_sidebar_reopens_it(open_page, content, case) -> None:
    assert_round_trip(open_page, "admin", *ROUND_TRIPS[case])


def test_a_use_case_link_opens_its_page_and_the_sidebar_reopens_it(open_page, use_cases) -> None:
    owner, submitted, _ = use_cases
    assert_round_trip(open_page, owner, links.use_case, str(submitted), "Invoice matching")


def test_the_form_link_opens_the_propose_form_on_the_draft(open_page, use_cases) -> None:
    owner, _, draft = use_cases
    link = links.use_case_form(str(draft))
    at = open_page(owner, link.page, **dict(link.query))
    assert not at.error, [e.value for e in at.error]
    assert at.text_input(key="pf_title").value == "Minutes drafting"
    assert f"Editing use case {draft}" in at.info[0].value


def assert_round_trip(open_page, role, about, value: str, title: str) -> None:
    """The link opens the page on its value; back from another page with a bare address it shows the same."""
    link = about(value)
    at = open_page(role, link.page, **dict(link.query))
    assert not at.error, [e.value for e in at.error]
    assert title in unescaped(shown(at))
    assert at.session_state[about.remember] == value  # for the next visit from the sidebar
    at.switch_page("views/home.py").run()
    at.query_params.clear()  # back from the sidebar: no parameter in the address bar
    at.switch_page(link.page).run()
    assert not at.exception and not at.error, at.exception or [e.value for e in at.error]
    assert title in unescaped(shown(at))


HOSTILE_PAGES = {"model card": links.model_card, "prompt": links.prompt, "template": links.template,
                 "course": links.course, "quiz": links.quiz, "lab": links.lab, "use case": links.use_case}


@pytest.mark.parametrize("case", list(HOSTILE_PAGES))
def test_a_hostile_value_in_a_link_is_shown_as_text(open_page, content, case) -> None:
    link = HOSTILE_PAGES[case](HOSTILE)
    at = open_page("viewer", link.page, **dict(link.query))
    assert len(at.error) == 1, [e.value for e in at.error]
    message = at.error[0].value
    assert HOSTILE not in message and "javascript:alert" not in message  # escaped: no link, no bold
    if case != "prompt":  # the prompt page names no slug in its message
        assert HOSTILE in unescaped(message)


def test_try_in_sandbox_hands_the_model_to_the_sandbox_once(open_page, served_models) -> None:
    at = open_page("viewer", links.model_card.page, model="fake-large")
    at.button(key="try_in_sandbox").click().run()
    assert not at.exception, at.exception
    assert at.session_state[MODEL] == "fake-large"
    assert links.sandbox.key not in at.session_state  # taken by the sandbox, not applied again on its next run
