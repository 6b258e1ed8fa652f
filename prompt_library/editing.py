"""Writing prompts: creating, saving and forking; every save is a new immutable version with its card."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlmodel import Session, col, select

from catalog.models import DataClassification
from portal.core.audit import record, utcnow
from portal.core.auth import Permission, require
from portal.core.errors import InvalidInput, StaleEdit
from portal.core.slugs import first_free
from portal.core.users import User
from prompt_library.card import Card, checked_card, show_to_readers
from prompt_library.events import PromptCreated, PromptForked, PromptVersionSaved
from prompt_library.models import Prompt, PromptVersion, TemplateFormat
from prompt_library.reading import (
    as_diff_text,
    diff_texts,
    editable_prompt,
    messages_of,
    readable_version,
    variables_of,
    version_by_number,
    version_text,
    visible_prompt,
)
from prompt_library.templates import Message, Variable, content_hash, validate

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
    return first_free(session, Prompt.slug, slugify(title))


def draft_text(draft: PromptDraft) -> str:
    return as_diff_text(draft.messages, draft.variables)


def create_prompt(*, session: Session, actor: User, draft: PromptDraft, slug: str | None = None) -> Prompt:
    """A new private prompt with its first version."""
    require(actor, Permission.CONTRIBUTE)
    card = _checked(draft)
    validate(draft.messages, draft.template_format, draft.variables, trusted=False)
    prompt = Prompt(slug=slug or _unique_slug(session, card.title), title=card.title, owner_id=actor.id)
    session.add(prompt)
    session.flush()
    version = _add_version(session, prompt, actor, draft, card)
    record(session, actor, PromptCreated(slug=prompt.slug, title=prompt.title, version=version.number))
    return prompt


def save_version(*, session: Session, actor: User, prompt_id: int, draft: PromptDraft,
                 base_version: int) -> PromptVersion:
    """Save the draft as the next version; refuses (EditConflict) when the editor's base is not the latest.

    Once a version was approved, readers keep its card and messages until a reviewer approves a later one."""
    prompt = editable_prompt(session=session, actor=actor, prompt_id=prompt_id)
    card = _checked(draft)
    validate(draft.messages, draft.template_format, draft.variables, trusted=prompt.trusted)
    latest = version_by_number(session=session, prompt_id=prompt.id, number=prompt.latest_version)
    if base_version != latest.number:
        raise _conflict(base_version, latest, draft)
    if _hash(draft) == latest.content_hash and card == Card.of(latest):
        raise InvalidInput("Nothing changed in the card, the messages or the variables since the latest version.")
    _claim_next_number(session, prompt, base_version, draft)
    version = _add_version(session, prompt, actor, draft, card)
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


def _checked(draft: PromptDraft) -> Card:
    if len(draft.change_note) > MAX_NOTE:
        raise InvalidInput(f"The change note is {len(draft.change_note)} characters long; at most {MAX_NOTE} fit.")
    return checked_card(draft)


def _add_version(session: Session, prompt: Prompt, actor: User, draft: PromptDraft, card: Card) -> PromptVersion:
    version = PromptVersion(prompt_id=prompt.id, number=prompt.latest_version + 1,
                            template_format=draft.template_format,
                            messages=[{"role": m.role, "template": m.template} for m in draft.messages],
                            variables=[{"name": v.name, "description": v.description, "example": v.example}
                                       for v in draft.variables],
                            change_note=draft.change_note.strip() or ("first version" if not prompt.latest_version
                                                                      else "no note"),
                            content_hash=_hash(draft), author_id=actor.id)
    card.write_to(version)
    session.add(version)
    prompt.latest_version, prompt.content_hash, prompt.updated_at = version.number, version.content_hash, utcnow()
    if not prompt.approved_version:  # once approved, readers keep the approved card and text until the next one
        show_to_readers(prompt, version)
    session.add(prompt)
    session.flush()
    return version


def fork_prompt(*, session: Session, actor: User, prompt_id: int, title: str = "") -> Prompt:
    """A private copy of the version the actor reads, with its card, owned by the actor, remembering its source."""
    source = visible_prompt(session=session, actor=actor, prompt_id=prompt_id)
    read = version_by_number(session=session, prompt_id=source.id, number=readable_version(source, actor))
    card = Card.of(read)
    draft = PromptDraft(title=title or f"{card.title} (fork)", messages=messages_of(read),
                        template_format=read.template_format, variables=variables_of(read),
                        description=card.description, category=card.category, department=actor.department,
                        tags=list(card.tags), classification=card.classification,
                        recommended_models=list(card.recommended_models),
                        change_note=f"forked from {source.slug} v{read.number}")
    if read.template_format == TemplateFormat.JINJA2:
        raise InvalidInput("This prompt uses a trusted jinja2 template; a fork would not be trusted. "
                           "Ask an admin to fork it.")
    fork = create_prompt(session=session, actor=actor, draft=draft)
    fork.forked_from_id = source.id
    record(session, actor, PromptForked(slug=fork.slug, source=source.slug, source_version=read.number))
    return fork
