"""Catalog as code: the model catalog as a reviewed YAML file, validated whole before anything is written.

    models:
      - name: meta-llama/Llama-3.1-8B-Instruct      # the id the gateway serves
        display_name: Llama 3.1 8B Instruct
        status: approved
        allowed_classifications: [public, internal]

An entry describes the whole card: a field it leaves out takes the card's default. Import never deletes a
card the file does not mention and does not go through lifecycle transitions: the import is the reviewed
change, recorded as one audit event. Files are untrusted input: safe loading only, no anchors or aliases,
no tags beyond plain YAML, bounded size, depth and entry count.
"""

from __future__ import annotations

import datetime as dt

from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from catalog.card_file import (
    APPROVING,
    CatalogFileError,
    ImportResult,
    ModelCardSpec,
    file_value,
    validate_catalog,
)
from catalog.models import CatalogModel, DataClassification
from portal.core import safe_yaml
from portal.core.audit import AuditAction, record_event, utcnow
from portal.core.auth import Permission, require
from portal.core.users import User

__all__ = ["SEED_CATALOG", "CatalogFileError", "ImportResult", "export_catalog", "import_catalog",
           "validate_catalog"]

SEED_CATALOG = Path(__file__).with_name("seed_catalog.yaml")


def _card_values(spec: ModelCardSpec) -> dict[str, Any]:
    """The card columns an entry sets (everything but the name)."""
    values = spec.model_dump(exclude={"name", "allowed_classifications", "replacement"})
    values["display_name"] = spec.display_name or spec.name
    values["modalities_in"] = ",".join(spec.modalities_in)
    values["modalities_out"] = ",".join(spec.modalities_out)
    values["evaluations"] = [{"benchmark": e.benchmark, "score": e.score, "date": e.date.isoformat()}
                             for e in spec.evaluations]
    values["max_classification"] = int(max(DataClassification.parse(c) for c in spec.allowed_classifications))
    values["replacement_name"] = spec.replacement
    return values


def import_catalog(*, session: Session, actor: User | None, text: str, source: str = "<catalog>",
                   only_new: bool = False) -> ImportResult:
    """Validate the whole file, then create and update its cards as one audited change; the caller commits."""
    # actor None is the system (command line, seed). only_new leaves existing cards alone, so re-seeding
    # never overwrites an admin's edits.
    if actor is not None:
        require(actor, Permission.MANAGE_CATALOG)
    cards = {card.name: card for card in session.exec(select(CatalogModel)).all()}
    specs = validate_catalog(text, source=source, known_names=frozenset(cards))
    created, before, after = [], {}, {}
    for spec in specs:
        card = cards.get(spec.name)
        if card is None:
            session.add(_new_card(spec, actor))
            created.append(spec.name)
        elif not only_new and (changes := _update_card(card, spec, actor)):
            before[spec.name], after[spec.name] = changes
            session.add(card)
    result = ImportResult(created=len(created), updated=len(after), unchanged=len(specs) - len(created) - len(after))
    if created or after:
        record_event(session, actor=actor, action=AuditAction.CATALOG_IMPORTED, entity_type="catalog",
                     entity_id=source if len(source) <= 120 else "…" + source[-119:],
                     summary=f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged",
                     before={"changes": before}, after={"created": created, "updated": list(after), "changes": after})
    session.flush()
    return result


def _new_card(spec: ModelCardSpec, actor: User | None) -> CatalogModel:
    card = CatalogModel(name=spec.name, **_card_values(spec))
    _stamp_approval(card, previous_status=None, actor=actor)
    return card


def _update_card(card: CatalogModel, spec: ModelCardSpec, actor: User | None) -> tuple[dict, dict] | None:
    """Set the card's fields that differ from the entry; (before, after) of those fields, or None."""
    changed = {key: value for key, value in _card_values(spec).items() if getattr(card, key) != value}
    if not changed:
        return None
    before = {key: _audited(getattr(card, key)) for key in changed}
    previous_status = card.status
    for key, value in changed.items():
        setattr(card, key, value)
    _stamp_approval(card, previous_status=previous_status, actor=actor)
    card.updated_at = utcnow()
    card.revision += 1  # an editor who opened the card before the import must not save over it unawares
    return before, {key: _audited(value) for key, value in changed.items()}


def _stamp_approval(card: CatalogModel, *, previous_status: str | None, actor: User | None) -> None:
    # The card shows who approved a model and when; an import that approves it is that approval.
    if card.status in APPROVING and previous_status not in APPROVING:
        card.approved_by_id, card.approved_at = (actor.id if actor else None), utcnow()


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
    # Only imports write evaluations, always with an ISO date; YAML shows it as a date again.
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
