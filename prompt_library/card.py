"""A prompt's card: title, description, category, department, tags, data classification and recommended models.

Each version keeps the card it was saved with. The prompt row holds the card readers see — the newest approved
version's once a reviewer approved one, the latest version's before that — so the library listing, keyword search
and the semantic index read plain prompt columns. Editors see and edit the latest version's card.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from catalog.models import DataClassification
from portal.core.audit import utcnow
from portal.core.errors import InvalidInput
from portal.core.users import User
from prompt_library.models import Prompt, PromptVersion
from prompt_library.reading import readable_version, version_by_number

MAX_TITLE = 200
# Field name -> how a reviewer's card diff names it.
CARD_FIELDS = {"title": "title", "description": "description", "category": "category", "department": "department",
               "tags": "tags", "classification": "data up to", "recommended_models": "recommended models"}


def normalised_tags(tags: list[str]) -> list[str]:
    """Tags as the library stores and filters them: trimmed, lower-case, each once, sorted."""
    return sorted({t.strip().lower() for t in tags if t.strip()})


@dataclass(frozen=True)
class Card:
    """The card fields of a prompt row, a version or a draft, trimmed and normalised as they are stored."""

    title: str
    description: str = ""
    category: str = ""
    department: str = ""
    tags: tuple[str, ...] = ()
    classification: int = int(DataClassification.INTERNAL)
    recommended_models: tuple[str, ...] = ()

    @classmethod
    def of(cls, row: Any) -> Card:
        return cls(title=row.title.strip(), description=row.description.strip(), category=row.category.strip(),
                   department=row.department.strip(), tags=tuple(normalised_tags(list(row.tags))),
                   classification=int(row.classification),
                   recommended_models=tuple(m.strip() for m in row.recommended_models if m.strip()))

    def write_to(self, row: Prompt | PromptVersion) -> None:
        row.title, row.description, row.category = self.title, self.description, self.category
        row.department, row.tags, row.classification = self.department, list(self.tags), self.classification
        row.recommended_models = list(self.recommended_models)

    def shown(self, name: str) -> str:
        """One field as a person reads it."""
        value = getattr(self, name)
        if name == "classification":
            return DataClassification(value).label
        return ", ".join(value) if isinstance(value, tuple) else value


def checked_card(draft: Any) -> Card:
    """The draft's card, or InvalidInput naming what is wrong with it."""
    card = Card.of(draft)
    if not card.title:
        raise InvalidInput("Give the prompt a title.")
    if len(card.title) > MAX_TITLE:
        raise InvalidInput(f"The title is {len(card.title)} characters long; at most {MAX_TITLE} fit.")
    try:
        DataClassification(card.classification)
    except ValueError:
        raise InvalidInput(f"{card.classification} is not a data classification.") from None
    return card


def show_to_readers(prompt: Prompt, version: PromptVersion) -> None:
    """Readers, the listing and both searches now get this version's card and text (the caller adds the row)."""
    Card.of(version).write_to(prompt)
    prompt.search_text = search_text(version)
    prompt.updated_at = utcnow()


def search_text(version: PromptVersion) -> str:
    """The text keyword and semantic search read for a prompt whose readers get this version."""
    parts = [version.title, version.description, version.category, version.department, " ".join(version.tags),
             *(m["template"] for m in version.messages),
             *(f"{v['name']} {v['description']}" for v in version.variables)]
    return "\n".join(p for p in parts if p)


def card_for(*, session: Session, actor: User, prompt: Prompt) -> Card:
    """The card the actor is shown: the pending (latest) one to its editors, the approved one to everyone else."""
    number = readable_version(prompt, actor)
    if number == (prompt.approved_version or prompt.latest_version):
        return Card.of(prompt)
    return Card.of(version_by_number(session=session, prompt_id=prompt.id, number=number))


@dataclass(frozen=True)
class CardChange:
    field: str  # as CARD_FIELDS names it
    before: str
    after: str


def changes_on_approval(prompt: Prompt, version: PromptVersion) -> list[CardChange]:
    """What approving the version changes on the card readers see (nothing when a newer one is approved)."""
    if version.number <= prompt.approved_version:
        return []
    return card_changes(Card.of(prompt) if prompt.approved_version else None, Card.of(version))


def card_changes(before: Card | None, after: Card) -> list[CardChange]:
    """What differs between two cards, field by field (`before` None: nothing shown yet, every filled field)."""
    return [CardChange(field=label, before=before.shown(name) if before else "", after=after.shown(name))
            for name, label in CARD_FIELDS.items()
            if (before.shown(name) if before else "") != after.shown(name)]
