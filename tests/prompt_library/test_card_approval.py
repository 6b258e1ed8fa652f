"""A prompt's card is bound to the approved version too: a save after approval changes the title, description,
tags, data classification or recommended models readers see only once another person approves it."""

from __future__ import annotations

import pytest
from sqlmodel import select

from catalog.models import DataClassification
from portal.core.errors import InvalidInput
from portal.core.users import User
from prompt_library.as_code import dump_yaml, export_prompt, import_prompts, parse_prompt_file
from prompt_library.card import Card, CardChange, card_for
from prompt_library.client import PromptClient
from prompt_library.editing import fork_prompt, save_version
from prompt_library.models import Prompt, ReviewKind
from prompt_library.reading import version_by_number, visible_prompt
from prompt_library.review import decide_review, pending_reviews, request_review
from prompt_library.runner import CaseInput, run_tests, save_test_cases
from prompt_library.search import PromptFilter, search_prompts
from tests.prompt_library.conftest import draft

OLD = dict(title="Summarise a ticket", description="For the support desk.", tags=["support"],
           classification=int(DataClassification.INTERNAL), recommended_models=["fake-small"])
NEW = dict(title="Escalation digest", description="For the escalation managers.", tags=["escalations"],
           classification=int(DataClassification.CONFIDENTIAL), recommended_models=["fake-large"])


def approve(session, prompt, version: int, reviewer: User, kind: ReviewKind = ReviewKind.PUBLISH) -> None:
    owner = session.get(User, prompt.owner_id)
    review = request_review(session=session, actor=owner, prompt_id=prompt.id, kind=kind, version=version)
    session.commit()
    decide_review(session=session, actor=reviewer, review_id=review.id, approve=True, comment="")
    session.commit()


def published(session, make_user, make_prompt):
    """A prompt with the OLD card, published by a reviewer; its owner then saves v2 with the NEW card only."""
    prompt = make_prompt(**OLD)
    reviewer = make_user("reviewer")
    approve(session, prompt, 1, reviewer)
    save_version(session=session, actor=session.get(User, prompt.owner_id), prompt_id=prompt.id, base_version=1,
                 draft=draft(**NEW, change_note="new card"))
    session.commit()
    return prompt, reviewer


def what_readers_see(session, engine, prompt, viewer: User) -> dict[str, object]:
    """The card on the prompt's page, in the library listing, in keyword search, and in `get_prompt("latest")`."""
    shown = visible_prompt(session=session, actor=viewer, prompt_id=prompt.id)
    listing = search_prompts(session=session, actor=viewer, filters=PromptFilter(), index=None).prompts
    found = {word: [p.id for p in search_prompts(session=session, actor=viewer, index=None,
                                                 filters=PromptFilter(query=word)).prompts]
             for word in ("desk", "escalation")}
    by_tag = search_prompts(session=session, actor=viewer, index=None, filters=PromptFilter(tags=["escalations"]))
    metadata = PromptClient(engine=engine).get_prompt(prompt.slug, "latest").metadata
    return {"page": card_for(session=session, actor=viewer, prompt=shown).title,
            "listing": [p.title for p in listing if p.id == prompt.id],
            "keyword": [word for word, ids in found.items() if prompt.id in ids],
            "tag filter": by_tag.total, "latest": (metadata["title"], metadata["classification"])}


@pytest.mark.parametrize("kind", [ReviewKind.PUBLISH, ReviewKind.PRODUCTION])
def test_a_new_card_reaches_readers_only_once_another_person_approves_it(session, engine, make_user, make_prompt,
                                                                          kind) -> None:
    prompt, reviewer = published(session, make_user, make_prompt)
    owner, viewer = session.get(User, prompt.owner_id), make_user("viewer")
    assert what_readers_see(session, engine, prompt, viewer) == {
        "page": OLD["title"], "listing": [OLD["title"]], "keyword": ["desk"], "tag filter": 0,
        "latest": (OLD["title"], "internal")}
    shown = visible_prompt(session=session, actor=viewer, prompt_id=prompt.id)
    assert (shown.description, shown.tags, shown.recommended_models) == (OLD["description"], OLD["tags"],
                                                                        OLD["recommended_models"])
    # The owner sees, and the editor loads, the pending card.
    assert card_for(session=session, actor=owner, prompt=prompt) == Card.of(draft(**NEW))
    assert version_by_number(session=session, prompt_id=prompt.id, number=prompt.latest_version).title == NEW["title"]
    # A reader's fork copies the approved card, not the pending one.
    fork = fork_prompt(session=session, actor=make_user("contributor"), prompt_id=prompt.id)
    assert (fork.title, fork.classification) == (f"{OLD['title']} (fork)", OLD["classification"])
    session.rollback()

    approve(session, prompt, 2, reviewer, kind)
    assert what_readers_see(session, engine, prompt, viewer) == {
        "page": NEW["title"], "listing": [NEW["title"]], "keyword": ["escalation"], "tag filter": 1,
        "latest": (NEW["title"], "confidential")}
    session.refresh(prompt)
    assert Card.of(prompt) == Card.of(draft(**NEW))


def test_before_any_approval_the_card_follows_every_save(session, make_user, make_prompt) -> None:
    prompt = make_prompt(**OLD)
    save_version(session=session, actor=session.get(User, prompt.owner_id), prompt_id=prompt.id, base_version=1,
                 draft=draft(**NEW))
    session.commit()
    session.refresh(prompt)
    assert Card.of(prompt) == Card.of(draft(**NEW))
    assert Card.of(version_by_number(session=session, prompt_id=prompt.id, number=1)) == Card.of(draft(**OLD))


def test_the_reviewer_sees_the_card_change_next_to_the_message_diff(session, make_user, make_prompt) -> None:
    prompt, reviewer = published(session, make_user, make_prompt)
    owner = session.get(User, prompt.owner_id)
    save_version(session=session, actor=owner, prompt_id=prompt.id, base_version=2,
                 draft=draft(**NEW, user="Summarise in three bullets: {ticket}"))
    request_review(session=session, actor=owner, prompt_id=prompt.id, kind=ReviewKind.PUBLISH, version=3)
    session.commit()
    [item] = pending_reviews(session=session, actor=reviewer)
    assert item.card_changes == [
        CardChange("title", OLD["title"], NEW["title"]),
        CardChange("description", OLD["description"], NEW["description"]),
        CardChange("tags", "support", "escalations"), CardChange("data up to", "internal", "confidential"),
        CardChange("recommended models", "fake-small", "fake-large")]
    # The diff starts at what readers get now (v1), so nothing saved in between escapes the reviewer.
    assert item.baseline == 1 and "+Summarise in three bullets: {ticket}" in item.diff


def test_a_first_publication_shows_the_whole_card_to_the_reviewer(session, make_user, make_prompt) -> None:
    prompt = make_prompt(**OLD)
    request_review(session=session, actor=session.get(User, prompt.owner_id), prompt_id=prompt.id,
                   kind=ReviewKind.PUBLISH, version=1)
    session.commit()
    [item] = pending_reviews(session=session, actor=make_user("reviewer"))
    assert [(c.field, c.before, c.after) for c in item.card_changes][:2] == [
        ("title", "", OLD["title"]), ("description", "", OLD["description"])]


def test_a_card_only_change_is_a_new_version(session, make_user, make_prompt) -> None:
    prompt = make_prompt(**OLD)
    version = save_version(session=session, actor=session.get(User, prompt.owner_id), prompt_id=prompt.id,
                           base_version=1, draft=draft(**{**OLD, "tags": ["support", "billing"]}))
    assert version.number == 2 and version.tags == ["billing", "support"]


def test_export_keeps_the_pending_card_on_its_version_and_import_restores_both(session, make_user,
                                                                               make_prompt) -> None:
    prompt, _ = published(session, make_user, make_prompt)
    admin = make_user("admin")
    document = export_prompt(session=session, prompt=prompt)
    # The file's card is the approved one; the pending version names only what it changes.
    assert (document["title"], document["classification"]) == (OLD["title"], "internal")
    assert "title" not in document["versions"][0]
    assert {k: document["versions"][1][k] for k in ("title", "classification", "tags")} == {
        "title": NEW["title"], "classification": "confidential", "tags": ["escalations"]}
    document["slug"] = "copied"
    import_prompts(session=session, actor=admin, fallback_owner=admin,
                   specs=parse_prompt_file(dump_yaml(document), source="copy.yaml"))
    session.commit()
    copied = session.exec(select(Prompt).where(Prompt.slug == "copied")).one()
    assert Card.of(copied) == Card.of(draft(**OLD))
    assert Card.of(version_by_number(session=session, prompt_id=copied.id, number=2)) == Card.of(draft(**NEW))
    assert {k: v for k, v in export_prompt(session=session, prompt=copied).items() if k != "slug"} == {
        k: v for k, v in document.items() if k != "slug"}


def test_a_pending_card_that_raises_the_classification_narrows_the_models_tests_run_on(
        session, make_user, make_prompt, make_model, run_context) -> None:
    make_model(name="internal-only")  # cleared for internal data, not for the pending card's confidential
    prompt, _ = published(session, make_user, make_prompt)
    owner = session.get(User, prompt.owner_id)
    save_test_cases(session=session, actor=owner, prompt_id=prompt.id, cases=[
        CaseInput("c", {"product": "P", "ticket": "x"}, [{"kind": "contains", "value": "x"}])])
    session.commit()
    with pytest.raises(InvalidInput, match="Not an approved chat model: internal-only"):
        run_tests(session=session, actor=owner, prompt_id=prompt.id, version=2, model_names=["internal-only"],
                  context=run_context)


def test_production_is_gated_on_the_models_the_versions_own_card_recommends(session, make_user,
                                                                             make_prompt) -> None:
    prompt, _ = published(session, make_user, make_prompt)
    owner = session.get(User, prompt.owner_id)
    save_test_cases(session=session, actor=owner, prompt_id=prompt.id, cases=[
        CaseInput("c", {"product": "P", "ticket": "x"}, [{"kind": "contains", "value": "x"}])])
    with pytest.raises(InvalidInput, match="have not been run on the recommended model fake-large"):
        request_review(session=session, actor=owner, prompt_id=prompt.id, kind=ReviewKind.PRODUCTION, version=2)
