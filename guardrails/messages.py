"""Guardrails on a gateway call: the action the admins chose for the call's data, applied to all it sends.

The metered gateway path (metering/gateway.py) runs `guard_messages` on every chat call (`guard_texts` on texts to
embed) before it reserves or sends anything, unless a step has already guarded exactly those texts (`PreGuarded`:
the sandbox's turns guard the message, the system prompt and the passages one by one, each with a notice of its
own; a document is guarded at upload).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from catalog.models import DataClassification
from guardrails.text import GuardrailAction, GuardrailOutcome, apply_guardrails, guard_alongside, require_sendable
from portal.core.settings import Settings


@dataclass(frozen=True)
class GuardrailPolicy:
    """What happens to personal or secret data, per data classification label (PORTAL_GUARDRAIL_ACTIONS)."""

    actions: Mapping[str, str] = field(
        default_factory=lambda: dict(Settings.model_fields["guardrail_actions"].default_factory()))

    def action_for(self, classification: DataClassification) -> GuardrailAction:
        return GuardrailAction(self.actions[classification.label])


@dataclass(frozen=True)
class PreGuarded:
    """A prepare step has already run these messages through the guardrails under `action`: send them as they are."""

    action: GuardrailAction


@dataclass(frozen=True)
class GuardedMessages:
    """A call's messages as they may be sent, and what the guardrails found in them (None: nothing, or not scanned
    here because a prepare step did it)."""

    messages: list[dict[str, str]]
    outcome: GuardrailOutcome | None = None

    @property
    def blocked(self) -> bool:
        return self.outcome is not None and self.outcome.blocked


def guard_messages(messages: list[dict[str, str]], action: GuardrailAction) -> GuardedMessages:
    """Every message's text scanned in one pass; the same value gets the same placeholder in every message."""
    outcome, contents = guard_alongside("", [message["content"] for message in messages], action)
    if outcome is None:
        return GuardedMessages(messages=messages)
    if outcome.blocked:
        return GuardedMessages(messages=[], outcome=outcome)
    return GuardedMessages(messages=[{**message, "content": content} for message, content in zip(messages, contents)],
                           outcome=outcome)


def guard_texts(texts: list[str], action: GuardrailAction) -> list[str]:
    """Texts to embed, each guarded on its own (they are separate inputs); raises GuardrailError when one is blocked."""
    return [require_sendable(apply_guardrails(text, action)) for text in texts]
