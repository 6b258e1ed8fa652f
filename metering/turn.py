"""One turn, whoever runs it: prepare (check and guard), stream (through the metered gateway), record, notice.

Sandbox chat (sandbox/chat.py), document chat (sandbox/documents/answering.py), compare, lab attempts and
prompt-test runs are turns. They live in different features, so the shape they share lives here, below all of
them (training > prompt_library | sandbox > metering): `Turn` is the protocol a page runs with no branches,
`Call` (metering/gateway.py) is what goes to the gateway, `TurnStream` streams a `Call` through `MeteredGateway`,
and `TurnNotice` is the one typed value every page shows with one renderer
(portal.views._sandbox_messages.show_notice).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from sqlmodel import Session

from guardrails.text import GuardrailError
from metering.budgets import BudgetExhausted
from metering.gateway import Call, MeteredAnswer, MeteredGateway, MeteredStream
from metering.models import CallStatus, UsageEvent
from portal.core.errors import PortalError
from portal.core.gateway import ChatResult


@dataclass
class TurnNotice:
    """What a turn (or an upload) leaves to tell the person: what the guardrails did, any failure and what to retry.

    `action` is the guardrail action ("warn", "redact", "block") or "info" for a plain confirmation;
    `replacements` pairs each placeholder sent with the person's own text, shown back to them only.
    """

    guardrail: str = ""
    action: str = ""
    replacements: list[tuple[str, str]] = field(default_factory=list, repr=False)
    error: str = ""
    retry_message: str = ""

    def joined(self, other: TurnNotice) -> TurnNotice:
        """Both notices as one: sentences in order, the first action that said anything, all replacements."""
        return TurnNotice(guardrail=" ".join(t for t in (self.guardrail, other.guardrail) if t),
                          action=self.action or other.action, replacements=[*self.replacements, *other.replacements],
                          error=self.error or other.error, retry_message=self.retry_message or other.retry_message)


def whole_answer(call: Call, metered: MeteredGateway) -> MeteredAnswer:
    """A turn that needs the answer whole, not streamed (a prompt-test case, the judge): the same metered steps.
    Raises GuardrailError when the guardrails block the call, before anything is reserved or sent."""
    return metered.chat(call)


class Sendable(Protocol):
    """A checked turn that knows its call (PreparedTurn in sandbox.chat)."""

    @property
    def call(self) -> Call: ...


class Prepared(Protocol):
    """What a page needs from a checked turn before it streams: what is shown as the person's message, and why
    nothing will be sent (`blocked`: the guardrails' sentence) or why it failed before the call (`error`)."""

    @property
    def question(self) -> str: ...

    @property
    def blocked_message(self) -> str: ...

    @property
    def error(self) -> str: ...


@dataclass(frozen=True)
class Recorded:
    """What a recorded turn left: the conversation it is in (None when it keeps none)."""

    conversation_id: int | None


class Turn(Protocol):
    """One turn: `prepare` checks and guards (nothing sent), `stream` calls the model through the metered gateway,
    `record` stores what arrived, `notice` says what the guardrails did. Never call `stream` inside an open write
    transaction: the metered path reserves and settles in transactions of its own."""

    def prepare(self, session: Session) -> Prepared: ...

    def stream(self, metered: MeteredGateway) -> TurnStream: ...

    def record(self, session: Session, stream: TurnStream) -> Recorded: ...

    def notice(self) -> TurnNotice: ...


class TurnStream:
    """Iterate for the answer's text; afterwards `result`, or `error` and the `partial` text that arrived, and
    `usage`, the call's settled usage event (None when the guardrails or the budgets refused the call before it was
    made: `refused` says why)."""

    def __init__(self, prepared: Sendable, metered: MeteredGateway) -> None:
        self.prepared = prepared
        self._metered = metered
        self._call: MeteredStream | None = None
        self.refused: BudgetExhausted | GuardrailError | None = None
        self.started = time.perf_counter()
        self.finished: float | None = None

    def __iter__(self) -> Iterator[str]:
        call = self.prepared.call
        self.started = time.perf_counter()  # when the call starts, not when the stream object was made
        try:
            self._call = self._metered.stream_chat(call)
            yield from self._call
        except (BudgetExhausted, GuardrailError) as exc:  # e.g. parallel calls spent the budget since prepare
            self.refused = exc
        finally:
            self.finished = time.perf_counter()

    def run(self) -> TurnStream:
        """Read the whole answer without showing it (labs grade it, compare's threads pump it)."""
        for _ in self:
            pass
        return self

    @property
    def result(self) -> ChatResult | None:
        return self._call.result if self._call else None

    @property
    def error(self) -> PortalError | None:
        return self._call.error if self._call else self.refused

    @property
    def partial(self) -> str:
        return self._call.partial if self._call else ""

    @property
    def first_token_s(self) -> float | None:
        return self._call.first_token_s if self._call else None

    @property
    def usage(self) -> UsageEvent | None:
        return self._call.usage if self._call else None

    @property
    def elapsed_s(self) -> float:
        return (self.finished or time.perf_counter()) - self.started

    @property
    def status(self) -> CallStatus:
        return self._call.status if self._call else CallStatus.FAILED
