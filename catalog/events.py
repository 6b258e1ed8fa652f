"""The model catalog's audit events: requests, registrations, lifecycle moves, edits, imports, syncs, probes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from catalog.models import DataClassification, ModelStatus, RiskChangeState, RiskTier
from portal.core.audit import Change, Event, JSONDict


@dataclass(frozen=True)
class _ModelEvent(Event):
    """An event about one catalog model, named by its model name (not an event type itself: it has no action)."""

    entity_type: ClassVar[str] = "catalog_model"
    entity_field: ClassVar[str] = "model"
    model: str


@dataclass(frozen=True)
class ModelRequested(_ModelEvent):
    action: ClassVar[str] = "catalog.model_requested"
    after_field: ClassVar[str] = "card"
    team: str
    use_case: str
    card: JSONDict

    def summary(self) -> str:
        return f"requested for {self.team}: {self.use_case[:200]}"


@dataclass(frozen=True)
class ModelRegistered(_ModelEvent):
    """An admin created a proposed card for a model the gateway serves."""

    action: ClassVar[str] = "catalog.model_registered"
    after_field: ClassVar[str] = "card"
    card: JSONDict

    def summary(self) -> str:
        return "registered from the gateway"


@dataclass(frozen=True)
class ModelTransitioned(_ModelEvent, Change):
    """A model moved through its lifecycle; the card before and after the move."""

    action: ClassVar[str] = "catalog.model_transitioned"
    from_status: ModelStatus
    to_status: ModelStatus
    reason: str
    old: JSONDict
    new: JSONDict

    def summary(self) -> str:
        return f"{self.from_status.label} → {self.to_status.label}: {self.reason}"


@dataclass(frozen=True)
class CardEdited(_ModelEvent, Change):
    """An admin edited a card; the changed fields' old and new values."""

    action: ClassVar[str] = "catalog.card_edited"
    old: JSONDict
    new: JSONDict

    def summary(self) -> str:
        return "edited " + ", ".join(self.new)


@dataclass(frozen=True)
class CatalogImported(Event):
    """A catalog file was imported: the cards it created, each updated card's changes, what it did not apply."""

    action: ClassVar[str] = "catalog.imported"
    entity_type: ClassVar[str] = "catalog"
    source: str
    created: list[str]
    unchanged: int
    changes_before: dict[str, JSONDict]
    changes_after: dict[str, JSONDict]
    not_applied: dict[str, JSONDict]

    def entity_id(self) -> str:
        return self.source if len(self.source) <= 120 else "…" + self.source[-119:]

    def summary(self) -> str:
        return f"{len(self.created)} created, {len(self.changes_after)} updated, {self.unchanged} unchanged"

    def before(self) -> JSONDict:
        return {"changes": self.changes_before}

    def after(self) -> JSONDict:
        return {"created": self.created, "updated": list(self.changes_after), "changes": self.changes_after,
                **({"not_applied": self.not_applied} if self.not_applied else {})}


@dataclass(frozen=True)
class CatalogSynced(Event):
    """Every card was marked served or not from the gateway's model list."""

    action: ClassVar[str] = "catalog.synced"
    entity_type: ClassVar[str] = "catalog"
    served: list[str]
    unregistered: list[str]
    unavailable: list[str]

    def entity_id(self) -> str:
        return "gateway"

    def summary(self) -> str:
        return f"{len(self.served)} served, {len(self.unregistered)} unregistered, {len(self.unavailable)} unavailable"

    def after(self) -> JSONDict:
        return {"served": self.served, "unregistered": self.unregistered, "unavailable": self.unavailable}


@dataclass(frozen=True)
class CatalogProbed(Event):
    action: ClassVar[str] = "catalog.probed"
    entity_type: ClassVar[str] = "catalog"
    probed: list[str]
    failed: list[str]

    def entity_id(self) -> str:
        return "gateway"

    def summary(self) -> str:
        return f"{len(self.probed)} probed, {len(self.failed)} failed"

    def after(self) -> JSONDict:
        return {"probed": self.probed, "failed": self.failed}


@dataclass(frozen=True)
class RiskChangeProposed(_ModelEvent):
    """A reviewer asked for a new risk tier or classification; `change` says what, as the queue shows it."""

    action: ClassVar[str] = "catalog.risk_change_proposed"
    change_id: int
    change: str
    reason: str

    def summary(self) -> str:
        return f"proposed {self.change}: {self.reason}"

    def after(self) -> JSONDict:
        return {"change_id": self.change_id}


@dataclass(frozen=True)
class RiskChangeDecided(_ModelEvent):
    """A second reviewer approved or rejected a risk change; the card's tier and classification before and after."""

    action: ClassVar[str] = "catalog.risk_change_decided"
    change_id: int
    change: str
    state: RiskChangeState
    note: str
    from_risk_tier: RiskTier
    from_classification: DataClassification
    to_risk_tier: RiskTier
    to_classification: DataClassification

    def summary(self) -> str:
        return f"{self.state.label} {self.change}" + (f": {self.note}" if self.note else "")

    def before(self) -> JSONDict:
        return {"change_id": self.change_id, "risk_tier": int(self.from_risk_tier),
                "max_classification": int(self.from_classification)}

    def after(self) -> JSONDict:
        return {"change_id": self.change_id, "state": self.state.value, "risk_tier": int(self.to_risk_tier),
                "max_classification": int(self.to_classification)}


@dataclass(frozen=True)
class EvaluationChange(_ModelEvent, Change):
    """One evaluation on a card added, corrected or removed (on the evaluations page or by an import)."""

    verb: ClassVar[str]
    index: int  # its place on the card, from 0
    old: JSONDict | None
    new: JSONDict | None

    def summary(self) -> str:
        shown = self.new or self.old or {}
        return f"evaluation {self.index + 1} {self.verb}: {shown.get('benchmark', '')} {shown.get('score', '')}"


@dataclass(frozen=True)
class EvaluationAdded(EvaluationChange):
    action: ClassVar[str] = "catalog.evaluation_added"
    verb: ClassVar[str] = "added"


@dataclass(frozen=True)
class EvaluationEdited(EvaluationChange):
    action: ClassVar[str] = "catalog.evaluation_edited"
    verb: ClassVar[str] = "edited"


@dataclass(frozen=True)
class EvaluationRemoved(EvaluationChange):
    action: ClassVar[str] = "catalog.evaluation_removed"
    verb: ClassVar[str] = "removed"


CATALOG_EVENTS: tuple[type[Event], ...] = (ModelRequested, ModelRegistered, ModelTransitioned, CardEdited,
                                           CatalogImported, CatalogSynced, CatalogProbed, RiskChangeProposed,
                                           RiskChangeDecided, EvaluationAdded, EvaluationEdited, EvaluationRemoved)
