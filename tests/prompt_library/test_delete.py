"""Deleting a prompt: who may, only while unpublished, everything it owns goes in one transaction, forks and usage
stay, and both search indexes forget it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings
from langchain_core.embeddings import Embeddings
from sqlmodel import func, select

from portal.core.audit import AuditEvent
from portal.core.errors import InvalidInput, NotFound, PermissionDenied
from portal.core.users import User
from prompt_library.keyword_index import keyword_ranking
from prompt_library.models import (
    Prompt,
    PromptComment,
    PromptFavourite,
    PromptLabel,
    PromptRating,
    PromptReview,
    PromptStatus,
    PromptTestCase,
    PromptTestRun,
    PromptVersion,
)
from prompt_library.review import add_comment, decide_review, move_label, request_review, unpublish
from prompt_library.runner import CaseInput, run_tests, save_test_cases
from prompt_library.search import PromptIndex
from prompt_library.editing import fork_prompt, save_version
from prompt_library.reading import can_delete
from prompt_library.service import delete_prompt, rate_prompt, toggle_favourite
from prompt_library.templates import Variable
from metering.models import UsageEvent
from tests.prompt_library.conftest import draft

OWNED = (PromptVersion, PromptLabel, PromptReview, PromptComment, PromptRating, PromptFavourite, PromptTestCase,
         PromptTestRun)


def count(session, table, *where) -> int:
    return session.exec(select(func.count()).select_from(table).where(*where)).one()


def owner_of(session, prompt) -> User:
    return session.get(User, prompt.owner_id)


def publish(session, prompt, reviewer: User) -> None:
    review = request_review(session=session, actor=owner_of(session, prompt), prompt_id=prompt.id, kind="publish",
                            version=prompt.latest_version)
    decide_review(session=session, actor=reviewer, review_id=review.id, approve=True, comment="")
    session.commit()


@pytest.fixture
def busy_prompt(session, make_prompt, make_user, make_model, run_context):
    """A draft with a row in every table a prompt owns (a rejected review leaves a comment), and a fork."""
    make_model(name="fake-small")
    prompt = make_prompt(system="Answer tersely.", user="{ticket}", variables=[Variable("ticket", "input")],
                         recommended_models=["fake-small"])
    owner, reviewer = owner_of(session, prompt), make_user("reviewer")
    save_version(session=session, actor=owner, prompt_id=prompt.id, base_version=1,
                 draft=draft(system="Answer briefly.", user="{ticket}", variables=[Variable("ticket", "input")],
                             change_note="briefer"))
    move_label(session=session, actor=owner, prompt_id=prompt.id, label="staging", version=2)
    review = request_review(session=session, actor=owner, prompt_id=prompt.id, kind="publish", version=2)
    decide_review(session=session, actor=reviewer, review_id=review.id, approve=False, comment="Name the tone")
    add_comment(session=session, actor=reviewer, prompt_id=prompt.id, version=1, body="v1 was wordy")
    rate_prompt(session=session, actor=reviewer, prompt_id=prompt.id, stars=4)
    toggle_favourite(session=session, actor=reviewer, prompt_id=prompt.id)
    save_test_cases(session=session, actor=owner, prompt_id=prompt.id, cases=[
        CaseInput("echoes", {"ticket": "refund"}, [{"kind": "contains", "value": "refund"}])])
    session.commit()  # saved before the run, as on the page: a run calls models outside open writes
    run_tests(session=session, actor=owner, prompt_id=prompt.id, version=2, model_names=["fake-small"],
              context=run_context)
    fork = fork_prompt(session=session, actor=reviewer, prompt_id=prompt.id)
    session.commit()
    return prompt, fork


def owned_counts(session, prompt_id: int) -> dict[str, int]:
    versions = select(PromptVersion.id).where(PromptVersion.prompt_id == prompt_id)
    return {table.__name__: count(session, table, table.version_id.in_(versions)) if table is PromptComment
            else count(session, table, table.prompt_id == prompt_id) for table in OWNED}


def test_the_owner_deletes_a_draft_with_everything_it_owns_and_its_fork_survives(session, busy_prompt) -> None:
    prompt, fork = busy_prompt
    prompt_id, slug, title = prompt.id, prompt.slug, prompt.title
    assert all(owned_counts(session, prompt_id).values()), owned_counts(session, prompt_id)
    usage = count(session, UsageEvent, UsageEvent.source == "prompt test")
    assert usage == 1

    delete_prompt(session=session, actor=owner_of(session, prompt), prompt_id=prompt_id)
    session.commit()
    session.expire_all()

    assert session.get(Prompt, prompt_id) is None
    assert set(owned_counts(session, prompt_id).values()) == {0}
    assert count(session, UsageEvent, UsageEvent.source == "prompt test") == usage  # history stays
    kept = session.get(Prompt, fork.id)
    assert kept.forked_from_id is None and count(session, PromptVersion, PromptVersion.prompt_id == fork.id) == 1
    deleted = session.exec(select(AuditEvent).where(AuditEvent.action == "prompt.deleted")).all()
    assert [(e.entity_id, e.summary, e.before["title"]) for e in deleted] == [(slug, f"deleted '{title}'", title)]


def test_a_published_prompt_is_refused_until_it_is_unpublished(session, make_prompt, make_user) -> None:
    prompt, admin = make_prompt(), make_user("admin")
    owner = owner_of(session, prompt)
    publish(session, prompt, make_user("reviewer"))
    prompts, events = count(session, Prompt), count(session, AuditEvent)
    for actor in (owner, admin):
        assert not can_delete(prompt, actor)
        with pytest.raises(InvalidInput, match="unpublish it first"):
            delete_prompt(session=session, actor=actor, prompt_id=prompt.id)
        session.rollback()
    assert (count(session, Prompt), count(session, AuditEvent)) == (prompts, events)
    assert session.get(Prompt, prompt.id).status == PromptStatus.PUBLISHED
    unpublish(session=session, actor=owner, prompt_id=prompt.id)
    delete_prompt(session=session, actor=owner, prompt_id=prompt.id)
    session.commit()
    assert count(session, Prompt) == prompts - 1


@pytest.mark.parametrize("role, refusal, message", [
    ("contributor", NotFound, "not shared with you"),  # another's draft is private: they cannot see it at all
    ("reviewer", PermissionDenied, "Only the prompt's owner"),  # reviewers see drafts, but may not delete them
])
def test_anyone_but_the_owner_or_an_admin_is_refused(session, make_prompt, make_user, role, refusal,
                                                     message) -> None:
    prompt, other = make_prompt(), make_user(role)
    prompts, events = count(session, Prompt), count(session, AuditEvent)
    assert not can_delete(prompt, other)
    with pytest.raises(refusal, match=message):
        delete_prompt(session=session, actor=other, prompt_id=prompt.id)
    session.rollback()
    assert (count(session, Prompt), count(session, AuditEvent)) == (prompts, events)


def test_an_admin_deletes_someone_elses_unpublished_prompt(session, make_prompt, make_user) -> None:
    prompt, admin = make_prompt(), make_user("admin")
    publish(session, prompt, make_user("reviewer"))
    unpublish(session=session, actor=owner_of(session, prompt), prompt_id=prompt.id)
    session.commit()
    assert can_delete(prompt, admin)
    delete_prompt(session=session, actor=admin, prompt_id=prompt.id)
    session.commit()
    assert session.get(Prompt, prompt.id) is None
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "prompt.deleted")).one()
    assert event.actor_id == admin.id and event.entity_id == prompt.slug


def test_keyword_search_no_longer_finds_a_deleted_prompt(session, make_prompt) -> None:
    prompt = make_prompt(title="Zanzibar shipping quote")
    kept = make_prompt(title="Zanzibar ferry timetable")
    assert set(keyword_ranking(session, "zanzibar", limit=10)) == {prompt.id, kept.id}
    delete_prompt(session=session, actor=owner_of(session, prompt), prompt_id=prompt.id)
    session.commit()
    assert keyword_ranking(session, "zanzibar", limit=10) == [kept.id]
    assert keyword_ranking(session, "shipping quote", limit=10) == []


class HashEmbeddings(Embeddings):
    """Deterministic vectors from a hash of the text: enough to store and find entries, no model needed."""

    name = "test:sha256"

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        return [byte / 255 for byte in hashlib.sha256(text.encode()).digest()[:16]]


def test_syncing_a_deleted_prompt_drops_its_vector(session, make_prompt, make_user, tmp_path: Path) -> None:
    client = chromadb.PersistentClient(path=str(tmp_path / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    index = PromptIndex(client=client, embeddings=HashEmbeddings())
    reviewer = make_user("reviewer")
    prompt, kept = make_prompt(title="Zanzibar shipping quote"), make_prompt(title="Ferry timetable")
    for p in (prompt, kept):
        publish(session, p, reviewer)
    assert index.sync(session).embedded == 2
    # Unpublished and deleted with no sync in between (the page's sync may have failed): the vector is still there.
    owner = owner_of(session, prompt)
    unpublish(session=session, actor=owner, prompt_id=prompt.id)
    delete_prompt(session=session, actor=owner, prompt_id=prompt.id)
    session.commit()
    assert str(prompt.id) in index.collection.get()["ids"]
    assert index.sync(session, prompt_ids=[prompt.id]).removed == 1
    assert index.collection.get()["ids"] == [str(kept.id)]
