"""Catalog as code: the model catalog as a reviewed YAML file, validated whole before anything is written.

    models:
      - name: meta-llama/Llama-3.1-8B-Instruct      # the id the gateway serves
        display_name: Llama 3.1 8B Instruct
        status: approved
        allowed_classifications: [public, internal]

An entry describes the whole card: a field it leaves out takes the card's default. Import never deletes a
card the file does not mention, and records one audit event. It never sets a lifecycle state: a new card
starts as proposed, an existing card keeps its status (and its teams, dates and replacement), and every
lifecycle value of the file that differs is reported as not applied. Moves go through catalog.lifecycle,
with an actor, a reason and review (the seed does that too: catalog.seed). Files are untrusted input: safe
loading only, no anchors or aliases, no tags beyond plain YAML, bounded size, depth and entry count.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from catalog.card_file import (
    CatalogFileError,
    ImportResult,
    ModelCardSpec,
    file_value,
    validate_catalog,
)
from catalog.evaluations import import_evaluations
from catalog.models import CatalogModel, DataClassification
from portal.core import safe_yaml
from catalog.events import CatalogImported
from portal.core.audit import record, utcnow
from portal.core.auth import Permission, require
from portal.core.principals import Principal

__all__ = ["SEED_CATALOG", "CatalogFileError", "CatalogImport", "ImportResult", "NotApplied", "export_catalog",
           "import_catalog", "validate_catalog"]

SEED_CATALOG = Path(__file__).with_name("seed_catalog.yaml")
# The card columns only catalog.lifecycle's transitions change (each with an actor, a reason and an audit
# event); an import never writes them. Exactly what CatalogModel.snapshot() shows.
LIFECYCLE_FIELDS = ("status", "restricted_teams", "restricted_departments", "deprecated_on", "retired_on",
                    "replacement_name")
FILE_FIELD = {"replacement_name": "replacement"}  # where a file's field name differs from the card's column


@dataclass(frozen=True)
class NotApplied:
    """A lifecycle value a file gives for a card that the import left alone: moves go through review."""

    name: str
    field: str  # as the file spells it
    in_file: Any
    on_card: Any

    def __str__(self) -> str:
        return f"{self.name}: {self.field} {_shown(self.in_file)} in the file, {_shown(self.on_card)} on the card"


@dataclass(frozen=True)
class CatalogImport(ImportResult):
    """The import's counts, and the lifecycle values of the file it did not apply."""

    not_applied: tuple[NotApplied, ...] = ()


def _card_values(spec: ModelCardSpec) -> dict[str, Any]:
    """The card columns an entry sets (everything but the name)."""
    values = spec.model_dump(exclude={"name", "allowed_classifications", "replacement"})
    values["display_name"] = spec.display_name or spec.name
    values["modalities_in"] = ",".join(spec.modalities_in)
    values["modalities_out"] = ",".join(spec.modalities_out)
    # As catalog.evaluations stores them: notes and link only when given.
    values["evaluations"] = [{k: v for k, v in e.model_dump(mode="json").items() if v != ""} for e in spec.evaluations]
    values["max_classification"] = int(max(DataClassification.parse(c) for c in spec.allowed_classifications))
    values["replacement_name"] = spec.replacement
    return values


def import_catalog(*, session: Session, actor: Principal, text: str, source: str = "<catalog>",
                   only_new: bool = False) -> CatalogImport:
    """Validate the whole file, then create (as proposed) and update its cards as one audited change."""
    # only_new leaves existing cards alone, so re-seeding never overwrites an admin's edits. The caller commits.
    require(actor, Permission.MANAGE_CATALOG)
    cards = {card.name: card for card in session.exec(select(CatalogModel)).all()}
    specs = validate_catalog(text, source=source, known_names=frozenset(cards))
    created, before, after, not_applied = [], {}, {}, []
    for spec in specs:
        card = cards.get(spec.name)
        if card is None:
            values = _describing_values(spec)
            evaluations = values.pop("evaluations")
            card = CatalogModel(name=spec.name, **values)
            session.add(card)
            import_evaluations(session=session, actor=actor, model=card, evaluations=evaluations)
            created.append(spec.name)
        elif only_new:
            continue
        elif changes := _update_card(session, actor, card, spec):
            before[spec.name], after[spec.name] = changes
            session.add(card)
        not_applied += _not_applied(card, spec)
    result = CatalogImport(created=len(created), updated=len(after),
                           unchanged=len(specs) - len(created) - len(after), not_applied=tuple(not_applied))
    if created or after:
        _record_import(session, actor, source, result, created, before, after)
    session.flush()
    return result


def _record_import(session: Session, actor: Principal, source: str, result: CatalogImport, created: list[str],
                   before: dict, after: dict) -> None:
    ignored: dict[str, dict[str, Any]] = {}
    for note in result.not_applied:
        ignored.setdefault(note.name, {})[note.field] = _audited(note.in_file)
    record(session, actor, CatalogImported(source=source, created=created, unchanged=result.unchanged,
                                           changes_before=before, changes_after=after, not_applied=ignored))


def _describing_values(spec: ModelCardSpec) -> dict[str, Any]:
    """The card columns an entry may set: everything but the name and the lifecycle."""
    return {key: value for key, value in _card_values(spec).items() if key not in LIFECYCLE_FIELDS}


def _not_applied(card: CatalogModel, spec: ModelCardSpec) -> list[NotApplied]:
    """The entry's lifecycle values that differ from the card's, which the import leaves as they are."""
    values = _card_values(spec)
    return [NotApplied(name=spec.name, field=FILE_FIELD.get(key, key), in_file=values[key], on_card=getattr(card, key))
            for key in LIFECYCLE_FIELDS if getattr(card, key) != values[key]]


def _update_card(session: Session, actor: Principal, card: CatalogModel,
                 spec: ModelCardSpec) -> tuple[dict, dict] | None:
    """Set the card's describing fields that differ from the entry; (before, after) of those fields, or None."""
    changed = {key: value for key, value in _describing_values(spec).items() if getattr(card, key) != value}
    if not changed:
        return None
    before = {key: _audited(getattr(card, key)) for key in changed}
    for key, value in changed.items():
        if key == "evaluations":  # one audited step per evaluation, as on the evaluations page
            import_evaluations(session=session, actor=actor, model=card, evaluations=value)
        else:
            setattr(card, key, value)
    card.updated_at = utcnow()
    card.revision += 1  # an editor who opened the card before the import must not save over it unawares
    return before, {key: _audited(value) for key, value in changed.items()}


def _shown(value: Any) -> str:
    """A lifecycle value as a person reads it in the import's report."""
    if value in (None, "", []):
        return "(none)"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value.isoformat() if isinstance(value, dt.date) else value)


def _audited(value: Any) -> Any:
    """A value as the audit event stores it: JSON-friendly, long text shortened."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str) and len(value) > 200:
        return value[:200] + "…"
    return value



_EXPORTED = {
    "modalities_in": lambda card: card.input_modalities,
    "modalities_out": lambda card: card.output_modalities,
    "allowed_classifications": lambda card: [c.label for c in card.allowed_classifications],
    "replacement": lambda card: card.replacement_name,
    # Evaluations are stored with an ISO date (catalog.evaluations); YAML shows it as a date again.
    "evaluations": lambda card: [{**e, "date": dt.date.fromisoformat(e["date"])} for e in card.evaluations],
}


def _entry_from_card(card: CatalogModel) -> dict[str, Any]:
    """The card as a catalog entry, fields in schema order; empty fields that default to empty are left out."""
    fields = ModelCardSpec.model_fields
    entry = {name: _EXPORTED[name](card) if name in _EXPORTED else file_value(getattr(card, name)) for name in fields}
    return {name: value for name, value in entry.items()
            if not (value in (None, "", []) and value == fields[name].default)}


def export_catalog(*, session: Session) -> str:
    """The whole catalog as YAML in the import schema, sorted by name; importing it back changes nothing."""
    # Sorted in Python: databases collate names differently, and the file must not depend on which one ran.
    entries = [_entry_from_card(card) for card in sorted(session.exec(select(CatalogModel)).all(),
                                                         key=lambda card: card.name)]
    body = safe_yaml.dump({"models": entries})
    return "# The AI CoE model catalog. Load it with: coe-portal catalog import FILE\n" + body
