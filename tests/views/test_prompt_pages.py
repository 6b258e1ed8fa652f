"""The prompt pages (AppTest): library search, a prompt's card and use, the editor with diffs and conflicts,
the review queue, test runs, and hostile text shown as text."""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from catalog.models import CatalogModel, DataClassification
from portal.core.auth import Role
from portal.core.db import session_scope
from portal.core.users import User
from prompt_library.as_code import SEED_PROMPTS, import_prompts, parse_prompt_file
from prompt_library.models import Prompt, PromptReview, PromptTestRun, PromptVersion
from prompt_library.review import decide_review, request_review
from prompt_library.runner import CaseInput, save_test_cases
from prompt_library.editing import PromptDraft, create_prompt, save_version
from prompt_library.reading import messages_of, variables_of, version_by_number
from prompt_library.templates import Message, Variable
from tests.views.support import errors, shown, unescaped

LIBRARY, PROMPT, EDITOR, REVIEWS = ("views/prompts.py", "views/prompt.py", "views/prompt_editor.py",
                                    "views/prompt_reviews.py")
PAGES_FOR = {"viewer": [LIBRARY, PROMPT], "contributor": [LIBRARY, PROMPT, EDITOR],
             "reviewer": [LIBRARY, PROMPT, EDITOR, REVIEWS], "risk_reviewer": [LIBRARY, PROMPT, EDITOR, REVIEWS],
             "admin": [LIBRARY, PROMPT, EDITOR, REVIEWS]}


@pytest.fixture
def library(portal_db, served_models, monkeypatch):
    """The seed prompts, with embeddings from the fake gateway (deterministic and fast)."""
    monkeypatch.setenv("PORTAL_EMBEDDING_SOURCE", "gateway")
    monkeypatch.setenv("PORTAL_EMBEDDING_MODEL", "fake-small")
    with session_scope(portal_db) as session:
        admin = session.exec(select(User).where(User.role == "admin")).first()
        import_prompts(session=session, actor=admin, fallback_owner=admin,
                       specs=parse_prompt_file(SEED_PROMPTS.read_text(encoding="utf-8"), source="seed"))
        ticket = session.exec(select(Prompt).where(Prompt.slug == "ticket-summary")).one()
        ticket.recommended_models = ["fake-small", "fake-large"]
    return portal_db




def prompt_row(engine, slug: str) -> Prompt:
    with Session(engine) as session:
        return session.exec(select(Prompt).where(Prompt.slug == slug)).one()


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_prompt_page_runs_for_every_role(open_page, library, role) -> None:
    for page in PAGES_FOR[role]:
        at = open_page(role, page, prompt="refund-reply")
        assert not errors(at), f"{page} as {role}: {errors(at)}"
        assert at.title, page


def test_viewers_cannot_open_the_editor_or_reviews(open_portal, user_with_role, library) -> None:
    at = open_portal(user_with_role("viewer"))
    for page in (EDITOR, REVIEWS):
        with pytest.raises(ValueError):
            at.switch_page(page)


def test_search_finds_and_opens_a_prompt(open_page, library) -> None:
    at = open_page("viewer", LIBRARY)
    assert "33 prompt(s) match" in shown(at)
    at.text_input(key="prompts_query").input("refund money back").run()
    table = at.dataframe[0].value
    assert table["title"].iloc[0] == "Reply to a refund request"
    assert at.button(key="prompts_open_button").disabled  # nothing picked yet
    at.selectbox(key="prompts_open").set_value("refund-reply").run()
    at.button(key="prompts_open_button").click().run()
    assert not at.exception and at.query_params["prompt"] == "refund-reply"
    assert unescaped(at.title[0].value) == "Reply to a refund request"


@pytest.mark.parametrize("widget, value, expected", [("prompts_category", "Legal", 5),
                                                     ("prompts_department", "Finance", 5)])
def test_filters_narrow_the_list(open_page, library, widget, value, expected) -> None:
    at = open_page("viewer", LIBRARY)
    at.selectbox(key=widget).set_value(value).run()
    assert f"{expected} prompt(s) match" in shown(at)


def test_a_favourite_marked_on_its_page_is_found_with_the_favourites_filter(open_page, library) -> None:
    at = open_page("viewer", PROMPT, prompt="nda-summary")
    at.button(key="prompt_favourite").click().run()
    assert at.button(key="prompt_favourite").label == "Unfavourite"
    at = open_page("viewer", LIBRARY)
    at.toggle(key="prompts_favourites").set_value(True).run()
    assert "1 prompt(s) match" in shown(at)
    assert list(at.dataframe[0].value["title"]) == [prompt_row(library, "nda-summary").title]


def test_fill_variables_and_try_in_sandbox_prefilled_and_counted(open_page, library) -> None:
    at = open_page("viewer", PROMPT, prompt="ticket-summary")
    at.text_area(key="prompt_var_product").input("Portal")
    at.text_area(key="prompt_var_ticket").input("Login fails since Monday")
    at.button(key="FormSubmitter:prompt_use_form-Show rendered text").click().run()
    assert any("[user]\nTicket thread:\nLogin fails since Monday" in code.value for code in at.code)
    at.button(key="FormSubmitter:prompt_use_form-Try in sandbox").click().run()
    assert not at.exception
    assert at.text_area(key="sandbox_draft").value == "Ticket thread:\nLogin fails since Monday"
    assert "senior support agent for Portal" in at.text_area(key="sandbox_system_prompt").value
    assert at.selectbox(key="sandbox_model_choice").value == "fake-small"
    assert prompt_row(library, "ticket-summary").usage_count == 2


def test_missing_variables_are_named_and_nothing_is_counted(open_page, library) -> None:
    at = open_page("viewer", PROMPT, prompt="ticket-summary")
    at.text_area(key="prompt_var_product").input("Portal")
    at.button(key="FormSubmitter:prompt_use_form-Try in sandbox").click().run()
    assert errors(at) == ["Fill in 'ticket' first."]
    assert at.text_area(key="prompt_var_product").value == "Portal"
    assert prompt_row(library, "ticket-summary").usage_count == 0


def test_rate_favourite_and_fork(open_page, library, user_with_role) -> None:
    at = open_page("contributor", PROMPT, prompt="nda-summary")
    at.select_slider(key="prompt_stars").set_value(5)
    at.button(key="prompt_rate").click().run()
    assert "rated 5/5" in shown(at)
    at.button(key="prompt_favourite").click().run()
    assert at.button(key="prompt_favourite").label == "Unfavourite"
    at.button(key="prompt_fork").click().run()
    assert at.query_params["prompt"] == "summarise-an-nda-fork"
    fork = prompt_row(library, "summarise-an-nda-fork")
    assert fork.owner_id == user_with_role("contributor").id and fork.status == "draft"


def test_hostile_text_is_shown_as_text(open_page, library, user_with_role) -> None:
    hostile = "<script>alert(1)</script> [click](javascript:alert(1)) **bold**"
    with session_scope(library) as session:
        owner = session.get(User, user_with_role("contributor").id)
        create_prompt(session=session, actor=owner, draft=PromptDraft(
            title=hostile, description=hostile, messages=[Message("user", "<img src=x onerror=alert(1)> {q}")],
            variables=[Variable("q", hostile)]), slug="hostile")
    at = open_page(user_with_role("contributor"), PROMPT, prompt="hostile")
    assert unescaped(at.title[0].value) == hostile
    assert "\\<script\\>" in at.title[0].value and "\\[click\\]\\(javascript" in at.markdown[0].value
    assert any(code.value == "<img src=x onerror=alert(1)> {q}" for code in at.code)
    for element in at.markdown:
        assert not getattr(element.proto, "allow_html", False)
    library = open_page(user_with_role("contributor"), LIBRARY)
    library.text_input(key="prompts_query").input("click bold").run()
    assert library.dataframe[0].value["title"].iloc[0] == hostile  # a table cell: text, never Markup


def test_editor_creates_a_prompt_and_an_error_keeps_the_draft(open_page, library) -> None:
    at = open_page("contributor", EDITOR)
    at.text_input(key="editor_title").input("Meeting notes to actions")
    at.text_area(key="editor_system").input("You turn meeting notes into action items.")
    at.text_area(key="editor_user").input("Notes:\n{notes").run()
    at.button(key="editor_save").click().run()
    assert "message 2 (user), line 2: '{notes' is not closed" in errors(at)[0]
    assert at.text_area(key="editor_user").value == "Notes:\n{notes"
    at.text_area(key="editor_user").input("Notes:\n{notes}").run()
    at.text_input(key="editor_var_desc_notes").input("the raw notes")
    at.button(key="editor_save").click().run()
    assert not at.exception and at.query_params["prompt"] == "meeting-notes-to-actions"
    stored = prompt_row(library, "meeting-notes-to-actions")
    assert stored.latest_version == 1 and stored.status == "draft"


def test_a_concurrent_edit_is_a_conflict_with_the_diff_and_both_texts(open_page, library, user_with_role) -> None:
    owner = user_with_role("contributor")
    with session_scope(library) as session:
        prompt = create_prompt(session=session, actor=session.get(User, owner.id), draft=PromptDraft(
            title="Standup summary", messages=[Message("user", "Summarise: {notes}")]), slug="standup")
    at = open_page(owner, PROMPT, prompt="standup")
    at.button(key="prompt_edit").click().run()
    assert at.session_state["prompt_edit_id"] == prompt.id and at.title[0].value == "Edit: Standup summary"
    # AppTest reruns the page it last switched to itself, so open the editor that way for the next runs.
    at.switch_page(EDITOR).run()
    at.text_area(key="editor_user").input("Summarise in 3 bullets: {notes}")
    with session_scope(library) as session:  # someone else saves first
        save_version(session=session, actor=session.get(User, owner.id), prompt_id=prompt.id, base_version=1,
                     draft=PromptDraft(title="Standup summary", messages=[Message("user", "TL;DR of: {notes}")],
                                       change_note="other tab"))
    at.run()
    assert not at.exception, at.exception
    at.button(key="editor_save").click().run()
    assert not at.exception, at.exception
    assert "Someone saved version 2 while you edited version 1" in errors(at)[0]
    diff = next(c.value for c in at.code if c.language == "diff" and "TL;DR" in c.value)
    assert "-TL;DR of: {notes}" in diff and "+Summarise in 3 bullets: {notes}" in diff
    assert at.text_area(key="editor_user").value == "Summarise in 3 bullets: {notes}"
    at.button(key="editor_rebase").click().run()
    at.button(key="editor_save").click().run()
    assert not errors(at) and prompt_row(library, "standup").latest_version == 3


def test_a_save_landing_at_the_same_moment_is_the_same_conflict_and_keeps_the_draft(open_page, library,
                                                                                   user_with_role) -> None:
    owner = user_with_role("contributor")
    with session_scope(library) as session:
        prompt = create_prompt(session=session, actor=session.get(User, owner.id), draft=PromptDraft(
            title="Standup summary", messages=[Message("user", "Summarise: {notes}")]), slug="standup")
    at = open_page(owner, PROMPT, prompt="standup")
    at.button(key="prompt_edit").click().run()
    at.switch_page(EDITOR).run()
    at.text_area(key="editor_user").input("Mine: {notes}")
    landed: list[int] = []

    def other_editor_saves_first(_conn, _cursor, statement: str, *_args) -> None:
        """Another editor's save commits after this page's checks passed, just before its first write."""
        if landed or not statement.startswith(("UPDATE prompt SET", "INSERT INTO prompt_version")):
            return
        landed.append(1)
        with session_scope(library) as session:
            save_version(session=session, actor=session.get(User, owner.id), prompt_id=prompt.id, base_version=1,
                         draft=PromptDraft(title="Standup summary", messages=[Message("user", "Theirs: {notes}")]))

    event.listen(Engine, "before_cursor_execute", other_editor_saves_first)
    try:
        at.button(key="editor_save").click().run()
    finally:
        event.remove(Engine, "before_cursor_execute", other_editor_saves_first)
    assert landed and not at.exception, at.exception
    assert "Someone saved version 2 while you edited version 1" in errors(at)[0]
    assert at.text_area(key="editor_user").value == "Mine: {notes}"
    assert prompt_row(library, "standup").latest_version == 2


def test_versions_tab_shows_a_diff_between_any_two_versions(open_page, library) -> None:
    refund = prompt_row(library, "refund-reply")
    with session_scope(library) as session:
        owner = session.get(User, refund.owner_id)
        save_version(session=session, actor=owner, prompt_id=refund.id, base_version=1, draft=PromptDraft(
            title=refund.title, messages=[Message("system", "Be kind."), Message("user", "{message}")],
            variables=[Variable("message")], change_note="simpler"))
        # Readers get a version once a reviewer other than its author approved it.
        review = request_review(session=session, actor=owner, prompt_id=refund.id, kind="publish", version=2)
        reviewer = session.exec(select(User).where(User.role == "reviewer")).first()
        decide_review(session=session, actor=reviewer, review_id=review.id, approve=True, comment="")
    at = open_page("viewer", PROMPT, prompt="refund-reply")
    diff = next(c.value for c in at.code if c.language == "diff")
    assert "+Be kind." in diff and diff.startswith("--- v1")


def test_an_unreviewed_save_after_approval_stays_with_its_author_until_reviewed(open_page, library) -> None:
    refund = prompt_row(library, "refund-reply")
    with session_scope(library) as session:
        save_version(session=session, actor=session.get(User, refund.owner_id), prompt_id=refund.id, base_version=1,
                     draft=PromptDraft(title=refund.title, messages=[Message("user", "Unreviewed: {message}")],
                                       variables=[Variable("message")], change_note="unreviewed"))
    at = open_page("viewer", PROMPT, prompt="refund-reply")
    assert "Unreviewed" not in shown(at) + "".join(c.value for c in at.code) and "showing v1" in shown(at)
    at = open_page(user_of(library, refund.owner_id), PROMPT, prompt="refund-reply")
    assert "showing v1" in shown(at) and "Readers and applications get v1" in shown(at)  # production is v1
    at.button(key="prompt_request_version_review").click().run()
    assert "Review of v2 requested." in shown(at)
    with Session(library) as session:
        review = session.exec(select(PromptReview)).one()
    assert (review.kind, review.state, session.get(PromptVersion, review.version_id).number) == ("publish",
                                                                                                "pending", 2)


def test_readers_keep_the_approved_card_while_the_reviewer_sees_the_new_one(open_page, library) -> None:
    refund, renamed = prompt_row(library, "refund-reply"), "Refund reply, escalated"
    with session_scope(library) as session:
        owner, first = session.get(User, refund.owner_id), version_by_number(session=session, prompt_id=refund.id,
                                                                            number=1)
        save_version(session=session, actor=owner, prompt_id=refund.id, base_version=1, draft=PromptDraft(
            title=renamed, messages=messages_of(first), template_format=first.template_format,
            variables=variables_of(first), description=refund.description, category=refund.category,
            department=refund.department, tags=refund.tags, classification=refund.classification,
            recommended_models=refund.recommended_models, change_note="a clearer title"))
        review_id = request_review(session=session, actor=owner, prompt_id=refund.id, kind="publish", version=2).id
    assert open_page("viewer", PROMPT, prompt="refund-reply").title[0].value == refund.title
    assert open_page(user_of(library, refund.owner_id), PROMPT, prompt="refund-reply").title[0].value == renamed
    with Session(library) as session:  # the first reviewer by e-mail owns this seed prompt: four eyes hide it
        reviewer = session.exec(select(User).where(User.role == "reviewer", User.id != refund.owner_id)).first()
    at = open_page(reviewer, REVIEWS)
    card = at.dataframe[0].value
    assert (list(card["field"]), list(card["now"]), list(card["after approval"])) == (["title"], [refund.title],
                                                                                      [renamed])
    at.button(key=f"review_approve_{review_id}").click().run()
    assert "Approved." in shown(at)
    assert open_page("viewer", PROMPT, prompt="refund-reply").title[0].value == renamed
    assert renamed in list(open_page("viewer", LIBRARY).dataframe[0].value["title"])


def user_of(engine, user_id: int) -> User:
    with Session(engine) as session:
        return session.get(User, user_id)


def test_reviewer_approves_publication_from_the_queue(open_page, library, user_with_role) -> None:
    author = user_with_role("contributor")
    with session_scope(library) as session:
        create_prompt(session=session, actor=session.get(User, author.id), draft=PromptDraft(
            title="Release notes", messages=[Message("user", "Write release notes for {changes}")]), slug="notes")
    at = open_page(author, PROMPT, prompt="notes")
    at.button(key="prompt_request_publish").click().run()
    assert "Publication requested" in shown(at)
    with Session(library) as session:
        review = session.exec(select(PromptReview)).one()
    at = open_page("reviewer", REVIEWS)
    at.text_area(key=f"review_comment_{review.id}").input("Looks good")
    at.button(key=f"review_approve_{review.id}").click().run()
    assert "Approved." in shown(at) and "Nothing is waiting" in shown(at)
    assert prompt_row(library, "notes").status == "published"


def test_owner_runs_the_tests_and_sees_the_matrix(open_page, library, user_with_role) -> None:
    ticket = prompt_row(library, "ticket-summary")
    with session_scope(library) as session:
        owner = session.get(User, ticket.owner_id)
        save_test_cases(session=session, actor=owner, prompt_id=ticket.id, cases=[
            CaseInput("echoes", {"product": "P", "ticket": "refund"}, [{"kind": "contains", "value": "refund"}])])
    at = open_page(owner, PROMPT, prompt="ticket-summary")
    # The prompt is for internal data: Fake Large, cleared for public data only, is not offered to run it on.
    assert at.multiselect(key="prompt_run_models").options == ["fake-small"]
    with session_scope(library) as session:
        session.exec(select(CatalogModel).where(CatalogModel.name == "fake-large")).one().max_classification = int(
            DataClassification.INTERNAL)
    at.run()
    at.multiselect(key="prompt_run_models").set_value(["fake-small", "fake-large"])
    at.button(key="FormSubmitter:prompt_run_form-Run tests").click().run()
    assert not errors(at), errors(at)
    assert "fake-small 1/1, fake-large 1/1" in shown(at)
    matrix = at.dataframe[-1].value
    assert sorted(matrix["model"]) == ["fake-large", "fake-small"] and set(matrix["pass rate"]) == {"1/1"}
    with Session(library) as session:
        assert len(session.exec(select(PromptTestRun)).all()) == 2


def test_the_test_tab_says_what_the_guardrails_replaced_in_a_case(open_page, library, fake_gateway) -> None:
    ticket = prompt_row(library, "ticket-summary")
    with session_scope(library) as session:
        owner = session.get(User, ticket.owner_id)
        save_test_cases(session=session, actor=owner, prompt_id=ticket.id, cases=[
            CaseInput("mail", {"product": "P", "ticket": "refund jane.doe@example.com"},
                      [{"kind": "contains", "value": "refund"}])])
    at = open_page(owner, PROMPT, prompt="ticket-summary")
    at.multiselect(key="prompt_run_models").set_value(["fake-small"])
    at.button(key="FormSubmitter:prompt_run_form-Run tests").click().run()
    assert not errors(at), errors(at)
    # Internal data is redacted by default (PORTAL_GUARDRAIL_ACTIONS): the placeholder went, the address did not.
    assert "mail: Found 1 e-mail address: redacted before sending." in unescaped(shown(at))
    assert "jane.doe" not in str(fake_gateway.last_request.body["messages"])


def test_the_owner_unpublishes_and_the_library_no_longer_lists_it(open_page, library, user_with_role) -> None:
    code = prompt_row(library, "code-review")
    with Session(library) as session:
        owner = session.get(User, code.owner_id)
    at = open_page(owner, PROMPT, prompt="code-review")
    at.button(key="prompt_unpublish").click().run()
    assert "Unpublished" in shown(at) and prompt_row(library, "code-review").status == "archived"
    at = open_page("viewer", LIBRARY)
    assert "32 prompt(s) match" in shown(at)


def draft_of(engine, owner: User, title: str, slug: str) -> Prompt:
    with session_scope(engine) as session:
        return create_prompt(session=session, actor=session.get(User, owner.id), slug=slug, draft=PromptDraft(
            title=title, messages=[Message("user", "Summarise: {notes}")]))


def delete_offered(at) -> bool:
    return "prompt_delete" in [b.key for b in at.button]


def test_delete_is_offered_to_the_owner_and_admins_of_an_unpublished_prompt_only(open_page, library,
                                                                                 user_with_role) -> None:
    draft_of(library, user_with_role("contributor"), "Standup summary", "standup")
    assert delete_offered(open_page("contributor", PROMPT, prompt="standup"))
    assert delete_offered(open_page("admin", PROMPT, prompt="standup"))
    assert not delete_offered(open_page("reviewer", PROMPT, prompt="standup"))  # sees drafts, may not delete
    refund = prompt_row(library, "refund-reply")
    with Session(library) as session:
        refund_owner = session.get(User, refund.owner_id)
    for who in ("viewer", refund_owner):  # refund-reply is published: its owner (an admin) must unpublish first
        at = open_page(who, PROMPT, prompt="refund-reply")
        assert at.title and not delete_offered(at)


def test_the_owner_deletes_a_draft_and_the_library_says_so_once(open_page, library, user_with_role) -> None:
    owner = user_with_role("contributor")
    draft_of(library, owner, "Standup summary", "standup")
    at = open_page(owner, PROMPT, prompt="standup")
    at.button(key="prompt_delete").click().run()
    assert not at.exception and not errors(at)
    assert at.title[0].value == "Prompt library" and "Deleted “Standup summary”." in shown(at)
    assert "33 prompt(s) match" in shown(at)
    with Session(library) as session:
        assert session.exec(select(Prompt).where(Prompt.slug == "standup")).first() is None
    at.run()
    assert "Deleted" not in shown(at)


def test_a_prompt_published_after_the_page_was_shown_is_not_deleted(open_page, library, user_with_role) -> None:
    draft_of(library, user_with_role("contributor"), "Standup summary", "standup")
    at = open_page("contributor", PROMPT, prompt="standup")
    with session_scope(library) as session:  # a reviewer approves publication meanwhile
        session.exec(select(Prompt).where(Prompt.slug == "standup")).one().status = "published"
    at.button(key="prompt_delete").click().run()
    assert not at.exception and not delete_offered(at)
    assert prompt_row(library, "standup").status == "published"
