"""A prompt's approval is bound to the version approved: a later save reaches no reader until it is reviewed."""

from __future__ import annotations

import pytest

from portal.core.errors import NotFound, PermissionDenied
from portal.core.users import User
from prompt_library.client import PromptClient
from prompt_library.models import ReviewKind
from prompt_library.review import decide_review, labels_of, request_review
from prompt_library.editing import fork_prompt, save_version
from prompt_library.reading import (
    can_edit,
    diff_versions,
    messages_of,
    readable_version,
    readable_versions,
    version_by_number,
    visible_prompt,
)
from tests.prompt_library.conftest import draft


def approved(session, prompt, kind: ReviewKind, version: int, reviewer: User) -> None:
    """The owner asks for `kind` on `version`, and a reviewer other than the author approves it."""
    owner = session.get(User, prompt.owner_id)
    review = request_review(session=session, actor=owner, prompt_id=prompt.id, kind=kind, version=version)
    session.commit()
    decide_review(session=session, actor=reviewer, review_id=review.id, approve=True, comment="")
    session.commit()


def what_readers_get(session, engine, prompt, viewer: User) -> dict[str, str]:
    """The user message a viewer is shown, and what applications get for `latest` and the default label."""
    shown = visible_prompt(session=session, actor=viewer, prompt_id=prompt.id)
    number = labels_of(session=session, prompt_id=prompt.id).get("production", readable_version(shown, viewer))
    page = messages_of(version_by_number(session=session, prompt_id=prompt.id, number=number))[1].template
    client = PromptClient(engine=engine)  # a fresh cache: what an application starting now would get
    latest = client.get_prompt(prompt.slug, "latest").messages[1].prompt.template
    default = client.get_prompt(prompt.slug).messages[1].prompt.template
    return {"page": page, "latest": latest, "default": default}


def published_with_production(session, make_user, make_prompt):
    prompt = make_prompt(owner=make_user("reviewer"), user="v1 {ticket}")  # four eyes, not the role, stops them
    reviewer = make_user("reviewer")
    approved(session, prompt, ReviewKind.PUBLISH, 1, reviewer)
    approved(session, prompt, ReviewKind.PRODUCTION, 1, reviewer)
    return prompt, reviewer


@pytest.mark.parametrize("kind", [ReviewKind.PRODUCTION, ReviewKind.PUBLISH])
def test_a_save_after_approval_reaches_readers_only_once_another_person_approves_it(session, engine, make_user,
                                                                                    make_prompt, kind) -> None:
    prompt, reviewer = published_with_production(session, make_user, make_prompt)
    owner, viewer = session.get(User, prompt.owner_id), make_user("viewer")
    save_version(session=session, actor=owner, prompt_id=prompt.id, base_version=1,
                 draft=draft(user="v2 unreviewed {ticket}", change_note="v2"))
    session.commit()
    assert what_readers_get(session, engine, prompt, viewer) == {"page": "v1 {ticket}", "latest": "v1 {ticket}",
                                                                 "default": "v1 {ticket}"}
    # The author still sees, and edits on top of, the draft.
    assert readable_version(prompt, owner) == 2 and can_edit(prompt, owner)
    assert [v.number for v in readable_versions(session=session, actor=owner, prompt=prompt)] == [2, 1]
    # Other readers cannot open it by another door: history, diff or fork.
    assert [v.number for v in readable_versions(session=session, actor=viewer, prompt=prompt)] == [1]
    with pytest.raises(NotFound):
        diff_versions(session=session, actor=viewer, prompt_id=prompt.id, older=1, newer=2)
    fork = fork_prompt(session=session, actor=make_user("contributor"), prompt_id=prompt.id)
    assert messages_of(version_by_number(session=session, prompt_id=fork.id, number=1))[1].template == "v1 {ticket}"
    session.rollback()
    # The author cannot approve their own version.
    review = request_review(session=session, actor=owner, prompt_id=prompt.id, kind=kind, version=2)
    session.commit()
    with pytest.raises(PermissionDenied, match="four eyes"):
        decide_review(session=session, actor=owner, review_id=review.id, approve=True, comment="")
    session.rollback()
    decide_review(session=session, actor=reviewer, review_id=review.id, approve=True, comment="")
    session.commit()
    # `latest` is the newest approved version; the page and the default follow the production label.
    production = "v2 unreviewed {ticket}" if kind is ReviewKind.PRODUCTION else "v1 {ticket}"
    assert what_readers_get(session, engine, prompt, viewer) == {"page": production, "default": production,
                                                                 "latest": "v2 unreviewed {ticket}"}
    assert [v.number for v in readable_versions(session=session, actor=viewer, prompt=prompt)] == [2, 1]


def test_a_rejected_version_never_reaches_readers(session, engine, make_user, make_prompt) -> None:
    prompt, reviewer = published_with_production(session, make_user, make_prompt)
    owner, viewer = session.get(User, prompt.owner_id), make_user("viewer")
    save_version(session=session, actor=owner, prompt_id=prompt.id, base_version=1,
                 draft=draft(user="v2 rejected {ticket}", change_note="v2"))
    review = request_review(session=session, actor=owner, prompt_id=prompt.id, kind=ReviewKind.PUBLISH, version=2)
    session.commit()
    decide_review(session=session, actor=reviewer, review_id=review.id, approve=False, comment="Not yet")
    session.commit()
    assert set(what_readers_get(session, engine, prompt, viewer).values()) == {"v1 {ticket}"}
