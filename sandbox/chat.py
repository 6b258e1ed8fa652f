"""A sandbox chat turn: check, guard, stream, record.

A turn runs in three steps so a page can stream the answer between them:
`prepare_turn` checks the model is offered to this user for this data, the budgets, and the guardrails
(recording that a guardrail fired); `TurnStream` streams the answer through the metered gateway (which reserves
the call's worst case, then settles its usage) and keeps whatever arrived, even when the gateway fails part-way;
`record_turn` stores the messages.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from sqlmodel import Session, col, select

from catalog.models import CatalogModel, DataClassification
from catalog.service import usable_models_for
from metering.budgets import BudgetExhausted, BudgetPolicy, Payer, check_budgets, effective_budget
from metering.gateway import MeteredGateway, MeteredStream
from metering.models import CallStatus, UsageEvent, UsageSource
from sandbox.events import GuardrailFired
from portal.core.audit import record, utcnow
from portal.core.auth import Permission, require
from portal.core.capabilities import NOTHING_REQUIRED, Capability, CapabilityGate
from portal.core.errors import InvalidInput, NotFound, PermissionDenied, PortalError
from portal.core.gateway import ChatResult
from portal.core.users import User
from sandbox.guardrails import GuardrailAction, GuardrailOutcome, apply_guardrails
from sandbox.models import ChatMessage, Conversation

TITLE_LENGTH = 60


@dataclass(frozen=True)
class SandboxPolicy:
    """The settings a turn obeys: budgets, message size, and the guardrail action per classification."""

    budgets: BudgetPolicy
    max_message_chars: int
    guardrail_actions: dict[str, str]
    # who may use confidential data: the caller hands in training's CourseGate (PORTAL_TRAINING_REQUIRED_COURSES)
    capabilities: CapabilityGate = NOTHING_REQUIRED

    def guardrail_action(self, classification: DataClassification) -> GuardrailAction:
        return GuardrailAction(self.guardrail_actions[classification.label])


@dataclass(frozen=True)
class TurnRequest:
    """What the user asked: the message, the model, the data classification and the generation settings."""

    message: str
    model_name: str
    classification: DataClassification
    conversation_id: int | None = None
    system_prompt: str = ""
    temperature: float = 0.7
    top_p: float = 1.0
    max_tokens: int = 512


@dataclass
class PreparedTurn:
    """A checked turn: what will be sent, to which model, and what the guardrails did."""

    user: User
    model: CatalogModel
    request: TurnRequest
    guardrails: GuardrailOutcome
    messages: list[dict[str, str]] = field(default_factory=list)
    source: UsageSource = UsageSource.SANDBOX_CHAT  # what its usage is reported under

    @property
    def blocked(self) -> bool:
        return self.guardrails.blocked


def offered_models(*, session: Session, user: User, classification: DataClassification) -> list[CatalogModel]:
    """Chat models this user may use for data of this classification that the gateway serves right now."""
    return [m for m in usable_models_for(session=session, user=user, classification=classification) if m.served]


def prepare_turn(*, session: Session, user: User, policy: SandboxPolicy, request: TurnRequest,
                 audit_guardrails: bool = True, source: UsageSource = UsageSource.SANDBOX_CHAT) -> PreparedTurn:
    """Check everything before a call; a guardrail that fired is audited (type, count, action — never content).

    A comparison prepares one turn per model for the same message and audits the guardrails once.
    """
    require(user, Permission.USE_SANDBOX)
    message = request.message.strip()
    if not message:
        raise InvalidInput("Type a message first.")
    if len(message) > policy.max_message_chars:
        raise InvalidInput(f"Your message is {len(message):,} characters long; at most "
                           f"{policy.max_message_chars:,} fit. Shorten it or split it.")
    conversation = None
    if request.conversation_id is not None:
        conversation = own_conversation(session=session, user=user, conversation_id=request.conversation_id)
        # Its history goes with every turn, so a turn is as sensitive as the most sensitive one before.
        floor = DataClassification(conversation.classification)
        request = replace(request, classification=max(request.classification, floor))
    if request.classification >= DataClassification.CONFIDENTIAL:
        policy.capabilities.require(session=session, user=user, capability=Capability.SANDBOX_CONFIDENTIAL)
    model = _offered_model(session, user, request)
    budgets = effective_budget(session=session, user=user, defaults=policy.budgets)
    check_budgets(session=session, user=user, policy=budgets)
    outcome = apply_guardrails(message, policy.guardrail_action(request.classification))
    prepared = PreparedTurn(user=user, model=model, request=request, guardrails=outcome, source=source)
    if audit_guardrails:
        record_guardrail_finding(session, prepared)
    if not outcome.blocked:
        prepared.messages = _messages(session, conversation, request, outcome.text_to_send or message)
    return prepared


def record_guardrail_finding(session: Session, prepared: PreparedTurn) -> None:
    """Audit that a guardrail fired on the turn's message: type, count and action — never the content."""
    outcome, request = prepared.guardrails, prepared.request
    if outcome.findings:
        record(session, prepared.user, GuardrailFired(subject=prepared.model.name, outcome=outcome,
                                                      classification=request.classification))


def _offered_model(session: Session, user: User, request: TurnRequest) -> CatalogModel:
    for model in offered_models(session=session, user=user, classification=request.classification):
        if model.name == request.model_name:
            return model
    raise PermissionDenied(f"'{request.model_name}' is not offered to you for {request.classification.label} "
                           "data: it is not approved for that data, not served by the gateway, or restricted "
                           "to other teams. Pick one of the models listed.")


def _messages(session: Session, conversation: Conversation | None, request: TurnRequest,
              text: str) -> list[dict[str, str]]:
    """System prompt, the conversation so far, and the new message, as the gateway expects them."""
    messages = [{"role": "system", "content": request.system_prompt}] if request.system_prompt.strip() else []
    if conversation is not None:
        history = conversation_history(session, conversation.id)
        if _is_retry(history, text):
            history = history[:-2]  # the retried question and its cut-off answer are replaced, not repeated
        messages += [{"role": m.role, "content": m.content} for m in history]
    return [*messages, {"role": "user", "content": text}]


def conversation_history(session: Session, conversation_id: int) -> list[ChatMessage]:
    """A conversation's messages, oldest first."""
    return list(session.exec(select(ChatMessage).where(ChatMessage.conversation_id == conversation_id)
                             .order_by(col(ChatMessage.id))).all())


def _is_retry(history: list[ChatMessage], text: str) -> bool:
    """True when the last answer was cut off and the same question is asked again."""
    return (len(history) >= 2 and history[-1].role == "assistant" and history[-1].incomplete
            and history[-2].role == "user" and history[-2].content == text)


class TurnStream:
    """Iterate for the answer's text; afterwards `result`, or `error` and the `partial` text that arrived, and
    `usage`, the call's settled usage event (None when the budgets refused the call before it was made)."""

    def __init__(self, prepared: PreparedTurn, metered: MeteredGateway) -> None:
        self.prepared = prepared
        self._metered = metered
        self._call: MeteredStream | None = None
        self.refused: BudgetExhausted | None = None
        self.started = time.perf_counter()
        self.finished: float | None = None

    def __iter__(self) -> Iterator[str]:
        request, prepared = self.prepared.request, self.prepared
        self.started = time.perf_counter()  # when the call starts, not when the stream object was made
        try:
            self._call = self._metered.stream_chat(
                payer=Payer.of(prepared.user), model=prepared.model, source=prepared.source, messages=prepared.messages,
                temperature=request.temperature, top_p=request.top_p, max_tokens=request.max_tokens)
            yield from self._call
        except BudgetExhausted as exc:  # parallel calls spent the budget since the turn was prepared
            self.refused = exc
        finally:
            self.finished = time.perf_counter()

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


@dataclass(frozen=True)
class RecordedTurn:
    conversation_id: int | None
    answer: ChatMessage | None  # None when no answer arrived at all


def record_turn(*, session: Session, stream: TurnStream, question: str | None = None) -> RecordedTurn:
    """Store the question and (possibly partial) answer when any answer arrived (the usage is settled already).

    `question` is what the conversation keeps as the user's message when the text sent held more
    (a document question is sent with its passages).
    """
    prepared, result, usage = stream.prepared, stream.result, stream.usage
    question = prepared.messages[-1]["content"] if question is None else question
    if usage is None or stream.status == CallStatus.FAILED:
        return RecordedTurn(conversation_id=prepared.request.conversation_id, answer=None)
    conversation = _conversation_for(session, prepared, question)
    session.add(ChatMessage(conversation_id=conversation.id, role="user", content=question,
                            redactions=len(prepared.guardrails.replacements)))
    answer = ChatMessage(conversation_id=conversation.id, role="assistant", content=stream.partial,
                         model_name=prepared.model.name, tokens_in=usage.tokens_in, tokens_out=usage.tokens_out,
                         cost_usd=usage.cost_usd, time_to_first_token_s=usage.time_to_first_token_s,
                         tokens_per_second=result.tokens_per_second if result else None,
                         incomplete=stream.status == CallStatus.INTERRUPTED)
    session.add(answer)
    conversation.updated_at = utcnow()
    session.add(conversation)
    session.flush()
    return RecordedTurn(conversation_id=conversation.id, answer=answer)


def _conversation_for(session: Session, prepared: PreparedTurn, question: str) -> Conversation:
    request = prepared.request
    conversation = session.get(Conversation, request.conversation_id) if request.conversation_id else None
    if conversation is not None and conversation.owner_id == prepared.user.id:
        history = conversation_history(session, conversation.id)
        if _is_retry(history, question):
            for message in history[-2:]:
                session.delete(message)
    else:  # a new conversation, or the old one was deleted in another tab while this answer streamed
        title = " ".join(question.split())[:TITLE_LENGTH] or "New conversation"
        conversation = Conversation(owner_id=prepared.user.id, title=title, model_name=prepared.model.name,
                                    classification=int(request.classification))
    conversation.classification = max(conversation.classification, int(request.classification))
    conversation.model_name, conversation.system_prompt = prepared.model.name, request.system_prompt
    conversation.temperature, conversation.top_p = request.temperature, request.top_p
    conversation.max_tokens = request.max_tokens
    session.add(conversation)
    session.flush()
    return conversation


def own_conversation(*, session: Session, user: User, conversation_id: int) -> Conversation:
    """The user's own conversation; someone else's is reported as not found."""
    conversation = session.get(Conversation, conversation_id)
    if conversation is None or conversation.owner_id != user.id:
        raise NotFound("That conversation does not exist or is not yours.")
    return conversation
