"""The guardrails' audit event: what was found and done, never the content."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from catalog.models import DataClassification
from guardrails.text import GuardrailOutcome
from portal.core.audit import Event, JSONDict


@dataclass(frozen=True)
class GuardrailFired(Event):
    """Guardrails found sensitive data in a chat message: the types, counts and what was done, never the content."""

    # The sandbox recorded it first; the action keeps its name so the audit log reads as one history.
    action: ClassVar[str] = "sandbox.guardrail_fired"
    entity_type: ClassVar[str] = "sandbox"
    entity_field: ClassVar[str] = "subject"
    subject: str | int  # the model the message was for (a document's: its conversation; a prompt test's: the prompt)
    outcome: GuardrailOutcome
    classification: DataClassification
    source: str = ""  # what was scanned, when it was not a chat message

    def summary(self) -> str:
        return f"{self.outcome.action.value}: {self.outcome.summary()}"

    def after(self) -> JSONDict:
        return {"action": self.outcome.action.value, "counts": self.outcome.summary(),
                "classification": self.classification.label, **({"source": self.source} if self.source else {})}


GUARDRAIL_EVENTS: tuple[type[Event], ...] = (GuardrailFired,)
