"""Versions, diffs, forks, labels, four eyes, concurrent edits, ratings and usage."""

from __future__ import annotations

import pytest
from sqlmodel import select

from portal.core.audit import AuditEvent
from portal.core.errors import InvalidInput, NotFound, PermissionDenied
from prompt_library.models import PromptStatus, ReviewKind
from prompt_library.review import decide_review, labels_of, move_label, request_review, review_queue
from prompt_library.editing import EditConflict, fork_prompt, save_version
from prompt_library.reading import diff_versions, list_versions, visible_prompt
from prompt_library.service import rate_prompt, record_use, set_trusted, toggle_favourite
from prompt_library.templates import PromptTemplateError
from tests.prompt_library.conftest import draft


def test_every_save_is_a_new_immutable_version_with_a_note_and_hash(session, make_prompt) -> None:
    prompt = make_prompt()
    owner = owner_of(session, prompt)
    second = save_version(session=session, actor=owner, prompt_id=prompt.id, base_version=1,
                          draft=draft(user="Summarise briefly: {ticket}", change_note="shorter"))
    session.commit()
    versions = list_versions(session=session, prompt_id=prompt.id)
    assert [(v.number, v.change_note) for v in versions] == [(2, "shorter"), (1, "first version")]
    assert versions[0].content_hash != versions[1].content_hash
    assert versions[1].messages[1]["template"] == "Summarise: {ticket}"  # the old version is untouched
    diff = diff_versions(session=session, actor=owner, prompt_id=prompt.id, older=1, newer=2)
    assert "-Summarise: {ticket}" in diff and "+Summarise briefly: {ticket}" in diff
    assert second.number == 2 and prompt.latest_version == 2
    with pytest.raises(InvalidInput, match="Nothing changed"):
        save_version(session=session, actor=owner, prompt_id=prompt.id, base_version=2,
                     draft=draft(user="Summarise briefly: {ticket}"))


def owner_of(session, prompt):
    from portal.core.users import User

    return session.get(User, prompt.owner_id)


def test_a_save_based_on_an_older_version_is_a_conflict_that_keeps_both_texts(session, make_prompt) -> None:
    prompt = make_prompt()
    owner = owner_of(session, prompt)
    save_version(session=session, actor=owner, prompt_id=prompt.id, base_version=1,
                 draft=draft(user="Theirs: {ticket}", change_note="first editor"))
    session.commit()
    mine = draft(user="Mine: {ticket}", change_note="second editor")
    with pytest.raises(EditConflict) as raised:
        save_version(session=session, actor=owner, prompt_id=prompt.id, base_version=1, draft=mine)
    conflict = raised.value
    assert "Someone saved version 2 while you edited version 1" in conflict.message
    assert conflict.draft is mine and "Theirs: {ticket}" in conflict.latest_text and conflict.latest_number == 2
    assert "-Theirs: {ticket}" in conflict.diff and "+Mine: {ticket}" in conflict.diff
    session.rollback()
    assert [v.number for v in list_versions(session=session, prompt_id=prompt.id)] == [2, 1]


def test_an_invalid_template_saves_nothing(session, make_prompt) -> None:
    prompt = make_prompt()
    with pytest.raises(PromptTemplateError, match="line 1: '{ticket' is not closed"):
        save_version(session=session, actor=owner_of(session, prompt), prompt_id=prompt.id, base_version=1,
                     draft=draft(user="Summarise {ticket"))
    session.rollback()
    assert len(list_versions(session=session, prompt_id=prompt.id)) == 1


@pytest.mark.parametrize("role, allowed", [("viewer", False), ("contributor", False), ("reviewer", True),
                                           ("admin", True)])
def test_publishing_needs_a_reviewer_who_is_not_the_author(session, make_user, make_prompt, role, allowed) -> None:
    author = make_user("reviewer")  # even a reviewer cannot approve their own prompt
    prompt = make_prompt(owner=author)
    review = request_review(session=session, actor=author, prompt_id=prompt.id, kind=ReviewKind.PUBLISH, version=1)
    session.commit()
    assert prompt.status == PromptStatus.IN_REVIEW
    with pytest.raises(PermissionDenied, match="four eyes"):
        decide_review(session=session, actor=author, review_id=review.id, approve=True, comment="")
    other = make_user(role)
    if not allowed:
        with pytest.raises(PermissionDenied):
            decide_review(session=session, actor=other, review_id=review.id, approve=True, comment="")
        return
    assert [r.id for r, _, _ in review_queue(session=session, actor=other)] == [review.id]
    decide_review(session=session, actor=other, review_id=review.id, approve=True, comment="Clear and useful")
    session.commit()
    assert prompt.status == PromptStatus.PUBLISHED and prompt.visibility == "organisation"
    assert visible_prompt(session=session, actor=make_user("viewer"), prompt_id=prompt.id).id == prompt.id


def test_private_prompts_are_hidden_from_other_viewers(session, make_user, make_prompt) -> None:
    prompt = make_prompt()
    with pytest.raises(NotFound):
        visible_prompt(session=session, actor=make_user("viewer"), prompt_id=prompt.id)


def test_labels_move_for_promotion_and_rollback_and_production_needs_approval(session, make_user,
                                                                               make_prompt) -> None:
    prompt = make_prompt()
    owner = owner_of(session, prompt)
    save_version(session=session, actor=owner, prompt_id=prompt.id, base_version=1,
                 draft=draft(user="v2 {ticket}", change_note="v2"))
    move_label(session=session, actor=owner, prompt_id=prompt.id, label="staging", version=2)
    move_label(session=session, actor=owner, prompt_id=prompt.id, label="staging", version=1)  # rollback
    with pytest.raises(PermissionDenied, match="needs a reviewer's approval"):
        move_label(session=session, actor=owner, prompt_id=prompt.id, label="production", version=2)
    review = request_review(session=session, actor=owner, prompt_id=prompt.id, kind="production", version=2)
    decide_review(session=session, actor=make_user("reviewer"), review_id=review.id, approve=True, comment="")
    session.commit()
    assert labels_of(session=session, prompt_id=prompt.id) == {"production": 2, "staging": 1}
    moves = session.exec(select(AuditEvent.summary).where(AuditEvent.action == "prompt.label_moved")).all()
    assert moves == ["staging → v2", "staging: v2 → v1", "production → v2"]


def test_a_rejection_needs_a_comment_and_the_comment_is_kept(session, make_user, make_prompt) -> None:
    prompt = make_prompt()
    review = request_review(session=session, actor=owner_of(session, prompt), prompt_id=prompt.id,
                            kind="publish", version=1)
    reviewer = make_user("reviewer")
    with pytest.raises(InvalidInput, match="Say why"):
        decide_review(session=session, actor=reviewer, review_id=review.id, approve=False, comment=" ")
    decide_review(session=session, actor=reviewer, review_id=review.id, approve=False, comment="Too vague")
    assert prompt.status == PromptStatus.DRAFT and review.state == "rejected"


def test_only_the_owner_or_an_admin_edits_others_fork(session, make_user, make_prompt) -> None:
    prompt = make_prompt()
    stranger = make_user("reviewer")
    with pytest.raises(PermissionDenied, match="fork it"):
        save_version(session=session, actor=stranger, prompt_id=prompt.id, base_version=1,
                     draft=draft(user="x {ticket}"))
    fork = fork_prompt(session=session, actor=stranger, prompt_id=prompt.id)
    session.commit()
    assert fork.owner_id == stranger.id and fork.forked_from_id == prompt.id and fork.title.endswith("(fork)")
    assert fork.status == PromptStatus.DRAFT


def test_jinja2_needs_an_admin_to_mark_the_prompt_trusted(session, make_user, make_prompt) -> None:
    prompt = make_prompt()
    owner = owner_of(session, prompt)
    jinja = draft(system="Be brief.", user="{% for t in tickets %}{{ t }}\n{% endfor %}", template_format="jinja2",
                  variables=[])
    with pytest.raises(PromptTemplateError, match="trusted"):
        save_version(session=session, actor=owner, prompt_id=prompt.id, base_version=1, draft=jinja)
    with pytest.raises(PermissionDenied):
        set_trusted(session=session, actor=make_user("reviewer"), prompt_id=prompt.id, trusted=True)
    set_trusted(session=session, actor=make_user("admin"), prompt_id=prompt.id, trusted=True)
    assert save_version(session=session, actor=owner, prompt_id=prompt.id, base_version=1, draft=jinja).number == 2


def test_ratings_average_favourites_toggle_and_uses_count(session, make_user, make_prompt) -> None:
    prompt = make_prompt()
    reviewer, admin = make_user("reviewer"), make_user("admin")
    rate_prompt(session=session, actor=reviewer, prompt_id=prompt.id, stars=5)
    rate_prompt(session=session, actor=admin, prompt_id=prompt.id, stars=2)
    rate_prompt(session=session, actor=admin, prompt_id=prompt.id, stars=4)  # replaces the 2
    assert (prompt.rating_count, prompt.rating_average) == (2, 4.5)
    with pytest.raises(InvalidInput):
        rate_prompt(session=session, actor=admin, prompt_id=prompt.id, stars=6)
    assert toggle_favourite(session=session, actor=admin, prompt_id=prompt.id) is True
    assert toggle_favourite(session=session, actor=admin, prompt_id=prompt.id) is False
    record_use(session=session, actor=admin, prompt_id=prompt.id)
    assert record_use(session=session, actor=admin, prompt_id=prompt.id).usage_count == 2
