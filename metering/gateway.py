"""The one path every gateway call the portal makes on a person's behalf takes:
who pays → budgets in force → reservation → call → settle → one usage event.

A caller gets a `MeteredGateway` (the gateway client, the database and the configured budgets) and asks it for
a chat, a stream or embeddings for a `Payer` and a catalog card; it cannot skip a step. A refused reservation
raises `BudgetExhausted` before anything is sent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from catalog.models import CatalogModel
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
class MeteredAnswer:
    """A whole answer and the usage event it was settled as."""

    result: ChatResult
    usage: UsageEvent


@dataclass(frozen=True)
class MeteredEmbeddings:
    vectors: list[list[float]]
    usage: UsageEvent


class MeteredGateway:
    """The gateway client behind the metering steps; hand it to every service that calls a model."""

    def __init__(self, *, gateway: GatewayClient, engine: Engine, budgets: BudgetPolicy) -> None:
        self.gateway, self.engine, self.budgets = gateway, engine, budgets

    def reserve(self, *, payer: Payer, model: CatalogModel, source: UsageSource, tokens_in: int,
                max_tokens_out: int) -> Reservation:
        return reserve(engine=self.engine, payer=payer, model=model, source=source, defaults=self.budgets,
                       tokens_in=tokens_in, max_tokens_out=max_tokens_out)

    def settle(self, reservation: Reservation, usage: CallUsage) -> UsageEvent:
        return settle(engine=self.engine, reservation=reservation, usage=usage)

    def stream_chat(self, *, payer: Payer, model: CatalogModel, source: UsageSource,
                    messages: list[dict[str, str]], max_tokens: int, temperature: float | None = None,
                    top_p: float | None = None) -> MeteredStream:
        """Reserve, then stream; iterate it for the text. Settled when the stream ends, fails or is closed."""
        reservation = self.reserve(payer=payer, model=model, source=source,
                                   tokens_in=estimate_prompt_tokens(messages), max_tokens_out=max_tokens)
        return MeteredStream(self, reservation, messages, temperature=temperature, top_p=top_p,
                             max_tokens=max_tokens)

    def chat(self, *, payer: Payer, model: CatalogModel, source: UsageSource, messages: list[dict[str, str]],
             max_tokens: int, temperature: float | None = None) -> MeteredAnswer:
        """Reserve, ask for a whole answer, settle. A gateway failure is settled at no cost and raised."""
        reservation = self.reserve(payer=payer, model=model, source=source,
                                   tokens_in=estimate_prompt_tokens(messages), max_tokens_out=max_tokens)
        started = time.perf_counter()
        try:
            result = self.gateway.chat(model=model.name, messages=messages, caller=payer.caller,
                                       temperature=temperature, max_tokens=max_tokens)
        except BaseException as error:  # settled at no cost, whatever stopped it
            self.settle(reservation, _failed(started, error))
            raise
        return MeteredAnswer(result=result, usage=self.settle(reservation, _finished(result)))

    def embed(self, *, payer: Payer, model: CatalogModel, source: UsageSource, texts: list[str]) -> MeteredEmbeddings:
        """Reserve the texts' estimated tokens, embed them in one request, settle at the gateway's own count."""
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
    """Text deltas of one reserved call; afterwards `result` (or `error` and the `partial` text) and `usage`."""

    def __init__(self, metered: MeteredGateway, reservation: Reservation, messages: list[dict[str, str]], *,
                 temperature: float | None, top_p: float | None, max_tokens: int) -> None:
        self._metered, self.reservation, self._messages = metered, reservation, messages
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
