"""The one path every gateway call the portal makes on a person's behalf takes:
who pays → guardrails → budgets in force → reservation → call → settle → one usage event.

A caller gets a `MeteredGateway` (the gateway client, the database, the configured budgets and guardrail actions)
and asks it for a chat or a stream of a `Call`, or embeddings; it cannot skip a step. A `Call` names the data
classification of what it sends, and the admins' guardrail action for that classification is applied to every
message before anything is reserved: blocked raises `GuardrailError` and nothing is sent, redacted sends the
placeholders, warned sends the text as written; either way `guardrails` on the answer says what was found. A call
whose messages a prepare step already guarded (`PreGuarded`, the sandbox's turns) is not scanned twice. A refused
reservation raises `BudgetExhausted` before anything is sent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

from catalog.models import CatalogModel, DataClassification
from guardrails.messages import GuardedMessages, GuardrailPolicy, PreGuarded, guard_messages, guard_texts
from guardrails.text import GuardrailError, GuardrailOutcome
from metering.budgets import BudgetPolicy, Payer
from metering.ledger import CallUsage, Reservation, reserve, settle
from metering.models import CallStatus, UsageEvent
from portal.core.gateway import (
    ChatResult,
    GatewayClient,
    GatewayError,
    GatewayStreamInterrupted,
    MeasuredEmbeddings,
    estimate_prompt_tokens,
)
from portal.core.features import UsageSource


@dataclass(frozen=True)
class Call:
    """One chat call as the metered gateway makes it: who pays, which card, reported under what, what is sent and
    the data classification of what is sent (which picks the guardrail action)."""

    payer: Payer
    model: CatalogModel
    source: UsageSource
    messages: list[dict[str, str]]
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int = 512
    classification: DataClassification = field(kw_only=True)
    guarded: PreGuarded | None = field(default=None, kw_only=True)  # set only by a step that guarded `messages`


@dataclass(frozen=True)
class MeteredAnswer:
    """A whole answer, the usage event it was settled as, and what the guardrails found in what was sent."""

    result: ChatResult
    usage: UsageEvent
    guardrails: GuardrailOutcome | None = None  # None: nothing found, or guarded before the call


@dataclass(frozen=True)
class MeteredEmbeddings:
    vectors: list[list[float]]
    usage: UsageEvent


class MeteredGateway:
    """The gateway client behind the metering steps; hand it to every service that calls a model."""

    def __init__(self, *, gateway: GatewayClient, engine: Engine, budgets: BudgetPolicy,
                 guardrails: GuardrailPolicy | None = None) -> None:
        self.gateway, self.engine, self.budgets = gateway, engine, budgets
        self.guardrails = guardrails or GuardrailPolicy()  # the settings' defaults unless the admins' are given

    def guard(self, call: Call) -> GuardedMessages:
        """The call's messages as the guardrails let them go; raises GuardrailError when they may not go at all."""
        if call.guarded is not None:
            return GuardedMessages(messages=call.messages)
        guarded = guard_messages(call.messages, self.guardrails.action_for(call.classification))
        if guarded.blocked:
            raise GuardrailError(guarded.outcome)
        return guarded

    def reserve(self, *, payer: Payer, model: CatalogModel, source: UsageSource, tokens_in: int,
                max_tokens_out: int) -> Reservation:
        return reserve(engine=self.engine, payer=payer, model=model, source=source, defaults=self.budgets,
                       tokens_in=tokens_in, max_tokens_out=max_tokens_out)

    def settle(self, reservation: Reservation, usage: CallUsage) -> UsageEvent:
        return settle(engine=self.engine, reservation=reservation, usage=usage)

    def stream_chat(self, call: Call) -> MeteredStream:
        """Guard, reserve, then stream; iterate it for the text. Settled when the stream ends, fails or is closed."""
        guarded = self.guard(call)
        reservation = self.reserve(payer=call.payer, model=call.model, source=call.source,
                                   tokens_in=estimate_prompt_tokens(guarded.messages), max_tokens_out=call.max_tokens)
        return MeteredStream(self, reservation, guarded, temperature=call.temperature, top_p=call.top_p,
                             max_tokens=call.max_tokens)

    def chat(self, call: Call) -> MeteredAnswer:
        """Guard, reserve, ask for a whole answer, settle. A gateway failure is settled at no cost and raised."""
        guarded = self.guard(call)
        reservation = self.reserve(payer=call.payer, model=call.model, source=call.source,
                                   tokens_in=estimate_prompt_tokens(guarded.messages), max_tokens_out=call.max_tokens)
        started = time.perf_counter()
        try:
            result = self.gateway.chat(model=call.model.name, messages=guarded.messages, caller=call.payer.caller,
                                       temperature=call.temperature, top_p=call.top_p, max_tokens=call.max_tokens)
        except BaseException as error:  # settled at no cost, whatever stopped it
            self.settle(reservation, _failed(started, error))
            raise
        return MeteredAnswer(result=result, usage=self.settle(reservation, _finished(result)),
                             guardrails=guarded.outcome)

    def embed(self, *, payer: Payer, model: CatalogModel, source: UsageSource, texts: list[str],
              classification: DataClassification, guarded: PreGuarded | None = None) -> MeteredEmbeddings:
        """Guard the texts (unless a step already did), reserve their estimated tokens, embed them in one request,
        settle at the gateway's own count. Raises GuardrailError when the guardrails block a text."""
        if guarded is None:
            texts = guard_texts(texts, self.guardrails.action_for(classification))
        estimate = estimate_prompt_tokens([{"content": text} for text in texts])
        reservation = self.reserve(payer=payer, model=model, source=source, tokens_in=estimate, max_tokens_out=0)
        started = time.perf_counter()
        try:
            measured: MeasuredEmbeddings = self.gateway.embed_measured(model=model.name, texts=texts,
                                                                       caller=payer.caller)
        except BaseException as error:  # settled at no cost, whatever stopped it
            self.settle(reservation, _failed(started, error))
            raise
        # The gateway's own count when it gives one (OpenAI, LiteLLM and vLLM do); otherwise the estimate.
        counted = measured.prompt_tokens
        usage = CallUsage(tokens_in=estimate if counted is None else counted, tokens_out=0, estimated=counted is None,
                          latency_s=time.perf_counter() - started, ttft_s=None, status=CallStatus.OK)
        return MeteredEmbeddings(vectors=measured.vectors, usage=self.settle(reservation, usage))


class MeteredStream:
    """Text deltas of one guarded, reserved call; afterwards `result` (or `error` and the `partial` text) and
    `usage`."""

    def __init__(self, metered: MeteredGateway, reservation: Reservation, guarded: GuardedMessages, *,
                 temperature: float | None, top_p: float | None, max_tokens: int) -> None:
        self._metered, self.reservation, self._messages = metered, reservation, guarded.messages
        self.guardrails = guarded.outcome  # what the guardrails found in what is sent (None: nothing, or pre-guarded)
        self._options = {"temperature": temperature, "top_p": top_p, "max_tokens": max_tokens}
        self.result: ChatResult | None = None
        self.error: GatewayError | None = None
        self.partial = ""
        self.chunks = 0
        self.first_token_s: float | None = None
        self.usage: UsageEvent | None = None

    def __iter__(self) -> Iterator[str]:
        started = time.perf_counter()
        try:
            stream = self._metered.gateway.stream_chat(model=self.reservation.model.name, messages=self._messages,
                                                       caller=self.reservation.payer.caller, **self._options)
            for delta in stream:
                if self.first_token_s is None:
                    self.first_token_s = time.perf_counter() - started
                self.partial += delta
                self.chunks += 1
                yield delta
            self.result = stream.result
        except GatewayStreamInterrupted as exc:
            self.error, self.partial = exc, exc.partial_text or self.partial
        except GatewayError as exc:
            self.error = exc
        finally:  # also when the reader stops early: the reservation never outlives the call
            self.usage = self._metered.settle(self.reservation, self._usage(time.perf_counter() - started))

    @property
    def status(self) -> CallStatus:
        if self.result is not None:
            return CallStatus.OK
        return CallStatus.INTERRUPTED if self.partial else CallStatus.FAILED

    def _usage(self, elapsed_s: float) -> CallUsage:
        if self.result is not None:
            return _finished(self.result)
        status = self.status
        # No usage from the gateway: the prompt is estimated, the answer counted in streamed pieces.
        tokens_in = 0 if status == CallStatus.FAILED else estimate_prompt_tokens(self._messages)
        return CallUsage(tokens_in=tokens_in, tokens_out=self.chunks, estimated=True, latency_s=elapsed_s,
                         ttft_s=self.first_token_s, status=status, error=self.error.message if self.error else "")


def _finished(result: ChatResult) -> CallUsage:
    return CallUsage(tokens_in=result.tokens_in, tokens_out=result.tokens_out, estimated=not result.usage_reported,
                     latency_s=result.total_time_s, ttft_s=result.time_to_first_token_s, status=CallStatus.OK)


def _failed(started: float, error: BaseException) -> CallUsage:
    why = error.message if isinstance(error, GatewayError) else "the call was stopped"
    return CallUsage(tokens_in=0, tokens_out=0, estimated=False, latency_s=time.perf_counter() - started,
                     ttft_s=None, status=CallStatus.FAILED, error=why)
