"""Using and looking after prompts: ratings, favourites, use counts, trust and deletion.

Reading prompts lives in prompt_library.reading, writing them in prompt_library.editing, their cards in
prompt_library.card.
"""

from __future__ import annotations

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from portal.core.audit import record, utcnow
from portal.core.auth import Permission, require
from portal.core.errors import InvalidInput, PermissionDenied
from portal.core.users import User
from prompt_library.events import PromptDeleted, PromptTrustChanged
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
from prompt_library.reading import can_edit, visible_prompt


def rate_prompt(*, session: Session, actor: User, prompt_id: int, stars: int) -> Prompt:
    """Rate 1–5 (rating again replaces the earlier rating); keeps the average for sorting."""
    prompt = visible_prompt(session=session, actor=actor, prompt_id=prompt_id)
    if stars not in range(1, 6):
        raise InvalidInput("A rating is 1 to 5 stars.")
    rating = session.exec(select(PromptRating).where(PromptRating.prompt_id == prompt.id,
                                                     PromptRating.user_id == actor.id)).first()
    rating = rating or PromptRating(prompt_id=prompt.id, user_id=actor.id, stars=stars)
    rating.stars, rating.at = stars, utcnow()
    session.add(rating)
    session.flush()
    count, average = session.exec(select(func.count(), func.avg(PromptRating.stars))
                                  .where(PromptRating.prompt_id == prompt.id)).one()
    prompt.rating_count, prompt.rating_average = int(count), float(average or 0)
    session.add(prompt)
    return prompt


def toggle_favourite(*, session: Session, actor: User, prompt_id: int) -> bool:
    """Favourite or un-favourite; returns whether it is now a favourite."""
    prompt = visible_prompt(session=session, actor=actor, prompt_id=prompt_id)
    existing = session.exec(select(PromptFavourite).where(PromptFavourite.prompt_id == prompt.id,
                                                          PromptFavourite.user_id == actor.id)).first()
    if existing is not None:
        session.delete(existing)
        return False
    session.add(PromptFavourite(prompt_id=prompt.id, user_id=actor.id))
    return True


def is_favourite(*, session: Session, actor: User, prompt_id: int) -> bool:
    return session.exec(select(PromptFavourite.id).where(PromptFavourite.prompt_id == prompt_id,
                                                         PromptFavourite.user_id == actor.id)).first() is not None


def record_use(*, session: Session, actor: User, prompt_id: int) -> Prompt:
    """Count one use (try in sandbox, copy); counted in SQL so concurrent uses are not lost."""
    prompt = visible_prompt(session=session, actor=actor, prompt_id=prompt_id)
    session.exec(Prompt.__table__.update().where(Prompt.__table__.c.id == prompt.id)
                 .values(usage_count=Prompt.__table__.c.usage_count + 1))
    session.refresh(prompt)
    return prompt


def set_trusted(*, session: Session, actor: User, prompt_id: int, trusted: bool) -> Prompt:
    """An admin allows (or forbids) jinja2 templates for one prompt."""
    require(actor, Permission.MANAGE_PROMPTS)
    prompt = visible_prompt(session=session, actor=actor, prompt_id=prompt_id)
    before, prompt.trusted = prompt.trusted, trusted
    session.add(prompt)
    record(session, actor, PromptTrustChanged(slug=prompt.slug, was_trusted=before, trusted=trusted))
    return prompt


# Rows that belong to a prompt, children before parents; comments hang off its versions.
_OWNED_BY_PROMPT = (PromptLabel, PromptReview, PromptTestRun, PromptTestCase, PromptRating, PromptFavourite)


def delete_prompt(*, session: Session, actor: User, prompt_id: int) -> None:
    """Delete an unpublished prompt and all that belongs to it; its forks stay, no longer pointing at it."""
    prompt = visible_prompt(session=session, actor=actor, prompt_id=prompt_id)
    if not can_edit(prompt, actor):
        raise PermissionDenied("Only the prompt's owner (or a portal admin) can delete it.")
    if prompt.status == PromptStatus.PUBLISHED:
        raise InvalidInput("This prompt is published, and applications may be using it: unpublish it first, "
                           "then delete it.")
    versions = select(PromptVersion.id).where(PromptVersion.prompt_id == prompt.id)
    session.exec(delete(PromptComment).where(col(PromptComment.version_id).in_(versions)))
    for table in _OWNED_BY_PROMPT:
        session.exec(delete(table).where(table.prompt_id == prompt.id))
    session.exec(update(Prompt).where(col(Prompt.forked_from_id) == prompt.id).values(forked_from_id=None))
    session.exec(delete(PromptVersion).where(col(PromptVersion.prompt_id) == prompt.id))
    record(session, actor, PromptDeleted(slug=prompt.slug, title=prompt.title, status=prompt.status,
                                         versions=prompt.latest_version))
    session.delete(prompt)
    session.flush()
