"""Creating, editing, forking, reading and deleting prompts; every save is a new immutable version."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from catalog.models import DataClassification
from portal.core.audit import record, utcnow
from prompt_library.events import PromptCreated, PromptDeleted, PromptForked, PromptTrustChanged, PromptVersionSaved
from portal.core.auth import Permission, has_permission, require
from portal.core.errors import InvalidInput, NotFound, PermissionDenied, StaleEdit
from portal.core.users import User
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
    TemplateFormat,
    Visibility,
)
from prompt_library.templates import Message, Variable, content_hash, validate

MAX_TITLE = 200
MAX_NOTE = 500
_SLUG_UNSAFE = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class PromptDraft:
    """What the editor submits: the card fields and the template of the next version."""

    title: str
    messages: list[Message]
    template_format: str = TemplateFormat.F_STRING.value
    variables: list[Variable] = field(default_factory=list)
    description: str = ""
    category: str = ""
    department: str = ""
    tags: list[str] = field(default_factory=list)
    classification: int = int(DataClassification.INTERNAL)
    recommended_models: list[str] = field(default_factory=list)
    change_note: str = ""


class EditConflict(StaleEdit):
    """The editor started from an older version than the latest: nothing saved, both texts kept."""

    def __init__(self, *, base: int, latest: PromptVersion, draft: PromptDraft, diff: str) -> None:
        super().__init__(noun="prompt", base=base, latest=latest.number, message=(
            f"Someone saved version {latest.number} while you edited version {base}. Nothing was "
            "saved; compare the two below, then save again on top of the latest version."))
        # Plain values: the session that loaded `latest` is rolled back by the time a page shows this.
        self.base, self.latest_number, self.latest_text = base, latest.number, version_text(latest)
        self.draft, self.diff = draft, diff


def slugify(title: str) -> str:
    return _SLUG_UNSAFE.sub("-", title.lower()).strip("-")[:100] or "prompt"


def _unique_slug(session: Session, title: str) -> str:
    base = slugify(title)
    taken = set(session.exec(select(Prompt.slug).where(col(Prompt.slug).startswith(base))).all())
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def create_prompt(*, session: Session, actor: User, draft: PromptDraft, slug: str | None = None) -> Prompt:
    """A new private prompt with its first version."""
    require(actor, Permission.CONTRIBUTE)
    _check_card(draft)
    validate(draft.messages, draft.template_format, draft.variables, trusted=False)
    prompt = Prompt(slug=slug or _unique_slug(session, draft.title), title=draft.title.strip(), owner_id=actor.id)
    _apply_card(prompt, draft)
    session.add(prompt)
    session.flush()
    version = _add_version(session, prompt, actor, draft)
    record(session, actor, PromptCreated(slug=prompt.slug, title=prompt.title, version=version.number))
    return prompt


def save_version(*, session: Session, actor: User, prompt_id: int, draft: PromptDraft,
                 base_version: int) -> PromptVersion:
    """Save the draft as the next version; refuses (EditConflict) when the editor's base is not the latest."""
    prompt = editable_prompt(session=session, actor=actor, prompt_id=prompt_id)
    _check_card(draft)
    validate(draft.messages, draft.template_format, draft.variables, trusted=prompt.trusted)
    latest = version_by_number(session=session, prompt_id=prompt.id, number=prompt.latest_version)
    if base_version != latest.number:
        raise _conflict(base_version, latest, draft)
    if _hash(draft) == latest.content_hash:
        raise InvalidInput("Nothing changed in the messages or variables since the latest version.")
    _claim_next_number(session, prompt, base_version, draft)
    _apply_card(prompt, draft)
    version = _add_version(session, prompt, actor, draft)
    record(session, actor, PromptVersionSaved(slug=prompt.slug, version=version.number,
                                              change_note=version.change_note, previous_version=latest.number))
    return version


def _conflict(base: int, latest: PromptVersion, draft: PromptDraft) -> EditConflict:
    return EditConflict(base=base, latest=latest, draft=draft,
                        diff=diff_texts(version_text(latest), draft_text(draft), f"v{latest.number} (saved)",
                                        "your draft"))


def _claim_next_number(session: Session, prompt: Prompt, base: int, draft: PromptDraft) -> None:
    """Take the next version number only if the prompt is still at `base`: of two saves at once, one wins and the
    other gets the editor's conflict (never a unique-constraint error)."""
    # One guarded UPDATE as this transaction's first write: PostgreSQL re-checks the condition after waiting on
    # the row lock, SQLite serialises writers, so the later save sees zero rows on both.
    with session.no_autoflush:
        claimed = session.execute(update(Prompt).where(col(Prompt.id) == prompt.id, col(Prompt.latest_version) == base)
                                  .values(latest_version=base + 1).execution_options(synchronize_session=False))
        if claimed.rowcount == 1:
            return
        number = session.execute(select(Prompt.latest_version).where(Prompt.id == prompt.id)).scalar_one()
        latest = version_by_number(session=session, prompt_id=prompt.id, number=number)
    session.expire(prompt)
    raise _conflict(base, latest, draft)


def _hash(draft: PromptDraft) -> str:
    return content_hash(draft.messages, draft.template_format, draft.variables)


def _check_card(draft: PromptDraft) -> None:
    title = draft.title.strip()
    if not title:
        raise InvalidInput("Give the prompt a title.")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"The title is {len(title)} characters long; at most {MAX_TITLE} fit.")
    if len(draft.change_note) > MAX_NOTE:
        raise InvalidInput(f"The change note is {len(draft.change_note)} characters long; at most {MAX_NOTE} fit.")
    DataClassification(draft.classification)


def normalised_tags(tags: list[str]) -> list[str]:
    """Tags as the library stores and filters them: trimmed, lower-case, each once, sorted."""
    return sorted({t.strip().lower() for t in tags if t.strip()})


def _apply_card(prompt: Prompt, draft: PromptDraft) -> None:
    prompt.title = draft.title.strip()
    prompt.description = draft.description.strip()
    prompt.category, prompt.department = draft.category.strip(), draft.department.strip()
    prompt.tags = normalised_tags(draft.tags)
    prompt.classification = int(draft.classification)
    prompt.recommended_models = [m.strip() for m in draft.recommended_models if m.strip()]
    prompt.updated_at = utcnow()


def _add_version(session: Session, prompt: Prompt, actor: User, draft: PromptDraft) -> PromptVersion:
    version = PromptVersion(prompt_id=prompt.id, number=prompt.latest_version + 1,
                            template_format=draft.template_format,
                            messages=[{"role": m.role, "template": m.template} for m in draft.messages],
                            variables=[{"name": v.name, "description": v.description, "example": v.example}
                                       for v in draft.variables],
                            change_note=draft.change_note.strip() or ("first version" if not prompt.latest_version
                                                                      else "no note"),
                            content_hash=_hash(draft), author_id=actor.id)
    session.add(version)
    prompt.latest_version, prompt.content_hash = version.number, version.content_hash
    if not prompt.approved_version:  # once approved, search reads the approved text until the next approval
        prompt.search_text = search_text(prompt, version)
    session.add(prompt)
    session.flush()
    return version


def search_text(prompt: Prompt, version: PromptVersion) -> str:
    """The text keyword and semantic search read for a prompt."""
    parts = [prompt.title, prompt.description, prompt.category, prompt.department, " ".join(prompt.tags),
             *(m["template"] for m in version.messages),
             *(f"{v['name']} {v['description']}" for v in version.variables)]
    return "\n".join(p for p in parts if p)


def messages_of(version: PromptVersion) -> list[Message]:
    return [Message(role=m["role"], template=m["template"]) for m in version.messages]


def variables_of(version: PromptVersion) -> list[Variable]:
    return [Variable(name=v["name"], description=v.get("description", ""), example=v.get("example", ""))
            for v in version.variables]


def version_text(version: PromptVersion) -> str:
    """A version as the diff shows it: each message headed by its role, then the variables."""
    return _as_text(messages_of(version), variables_of(version))


def draft_text(draft: PromptDraft) -> str:
    return _as_text(draft.messages, draft.variables)


def _as_text(messages: list[Message], variables: list[Variable]) -> str:
    body = "\n".join(f"### {m.role}\n{m.template}" for m in messages)
    # Sorted by name: the editor lists variables alphabetically, and their order carries no meaning.
    described = "\n".join(f"- {v.name}: {v.description}" for v in sorted(variables, key=lambda v: v.name))
    return body + ("\n### variables\n" + described if described else "")


def diff_texts(before: str, after: str, before_name: str, after_name: str) -> str:
    """A unified diff, line by line."""
    return "\n".join(difflib.unified_diff(before.splitlines(), after.splitlines(), before_name, after_name,
                                          lineterm=""))


def diff_versions(*, session: Session, actor: User, prompt_id: int, older: int, newer: int) -> str:
    """The unified diff between two versions of a prompt the actor can see."""
    prompt = visible_prompt(session=session, actor=actor, prompt_id=prompt_id)
    if max(older, newer) > newest_openable(prompt, actor):
        raise NotFound(f"Version {max(older, newer)} of this prompt does not exist.")
    a = version_by_number(session=session, prompt_id=prompt_id, number=older)
    b = version_by_number(session=session, prompt_id=prompt_id, number=newer)
    return diff_texts(version_text(a), version_text(b), f"v{a.number}", f"v{b.number}")


def fork_prompt(*, session: Session, actor: User, prompt_id: int, title: str = "") -> Prompt:
    """A private copy of the version the actor reads, owned by the actor, remembering where it came from."""
    source = visible_prompt(session=session, actor=actor, prompt_id=prompt_id)
    latest = version_by_number(session=session, prompt_id=source.id, number=readable_version(source, actor))
    draft = PromptDraft(title=title or f"{source.title} (fork)", messages=messages_of(latest),
                        template_format=latest.template_format, variables=variables_of(latest),
                        description=source.description, category=source.category, department=actor.department,
                        tags=list(source.tags), classification=source.classification,
                        recommended_models=list(source.recommended_models),
                        change_note=f"forked from {source.slug} v{latest.number}")
    if latest.template_format == TemplateFormat.JINJA2:
        raise InvalidInput("This prompt uses a trusted jinja2 template; a fork would not be trusted. "
                           "Ask an admin to fork it.")
    fork = create_prompt(session=session, actor=actor, draft=draft)
    fork.forked_from_id = source.id
    record(session, actor, PromptForked(slug=fork.slug, source=source.slug, source_version=latest.number))
    return fork


def can_see(prompt: Prompt, actor: User) -> bool:
    if prompt.status == PromptStatus.PUBLISHED and prompt.visibility == Visibility.ORGANISATION:
        return has_permission(actor, Permission.BROWSE)
    return prompt.owner_id == actor.id or has_permission(actor, Permission.REVIEW)


def can_edit(prompt: Prompt, actor: User) -> bool:
    return (prompt.owner_id == actor.id and has_permission(actor, Permission.CONTRIBUTE)) or has_permission(
        actor, Permission.MANAGE_PROMPTS)


def sees_drafts(prompt: Prompt, actor: User) -> bool:
    """Its editors and reviewers see versions no reviewer has approved yet; other readers do not."""
    return can_edit(prompt, actor) or has_permission(actor, Permission.REVIEW)


def readable_version(prompt: Prompt, actor: User) -> int:
    """The version a reader is shown: the latest to its editors, to others the newest approved one."""
    if can_edit(prompt, actor) or not prompt.approved_version:
        return prompt.latest_version
    return prompt.approved_version


def newest_openable(prompt: Prompt, actor: User) -> int:
    """The newest version number the actor may open."""
    return prompt.latest_version if sees_drafts(prompt, actor) else readable_version(prompt, actor)


def readable_versions(*, session: Session, actor: User, prompt: Prompt) -> list[PromptVersion]:
    """The versions the actor may open, newest first: later, unreviewed ones only for editors and reviewers."""
    newest = newest_openable(prompt, actor)
    return [v for v in list_versions(session=session, prompt_id=prompt.id) if v.number <= newest]


def can_delete(prompt: Prompt, actor: User) -> bool:
    """Its owner or an admin, while it is not published: applications may be reading a published prompt."""
    return prompt.status != PromptStatus.PUBLISHED and can_edit(prompt, actor)


def visible_prompt(*, session: Session, actor: User, prompt_id: int | None = None, slug: str = "") -> Prompt:
    """A prompt the actor may read; others' private prompts are reported as not found."""
    require(actor, Permission.BROWSE)
    prompt = session.get(Prompt, prompt_id) if prompt_id is not None else session.exec(
        select(Prompt).where(Prompt.slug == slug)).first()
    if prompt is None or not can_see(prompt, actor):
        raise NotFound("That prompt does not exist or is not shared with you.")
    return prompt


def editable_prompt(*, session: Session, actor: User, prompt_id: int) -> Prompt:
    prompt = visible_prompt(session=session, actor=actor, prompt_id=prompt_id)
    if not can_edit(prompt, actor):
        raise PermissionDenied("Only the prompt's owner (or a portal admin) can change it; fork it to make your own.")
    return prompt


def version_by_number(*, session: Session, prompt_id: int, number: int) -> PromptVersion:
    version = session.exec(select(PromptVersion).where(PromptVersion.prompt_id == prompt_id,
                                                       PromptVersion.number == number)).first()
    if version is None:
        raise NotFound(f"Version {number} of this prompt does not exist.")
    return version


def list_versions(*, session: Session, prompt_id: int) -> list[PromptVersion]:
    return list(session.exec(select(PromptVersion).where(PromptVersion.prompt_id == prompt_id)
                             .order_by(col(PromptVersion.number).desc())).all())


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
