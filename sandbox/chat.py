"""A sandbox chat turn: check, guard, stream, record — `ChatTurn`, one implementation of metering.turn.Turn.

A turn runs in steps so a page can stream the answer between them:
`prepare_turn` checks the model is offered to this user for this data, the budgets, the message's and the system
prompt's size, and runs both through the guardrails (recording that a guardrail fired); `TurnStream`
(metering/turn.py) streams the answer through the metered gateway (which reserves the call's worst case, then
settles its usage) and keeps whatever arrived, even when the gateway fails part-way; `record_turn` stores the
messages; `guardrail_notice` says what the guardrails did.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from sqlmodel import Session, col, select

from catalog.models import CatalogModel, DataClassification
from catalog.service import usable_models_for
from guardrails.events import GuardrailFired
from guardrails.messages import GuardrailPolicy, PreGuarded
from guardrails.text import GuardrailAction, GuardrailOutcome, apply_guardrails, describe, guard_alongside
from metering.budgets import BudgetPolicy, Payer, check_budgets, effective_budget
from metering.gateway import MeteredGateway
from metering.models import CallStatus
from metering.turn import Call, Recorded, TurnNotice, TurnStream
from portal.core.audit import record, utcnow
from portal.core.auth import Permission, require
from portal.core.capabilities import NOTHING_REQUIRED, Capability, CapabilityGate
from portal.core.errors import InvalidInput, NotFound, PermissionDenied
from portal.core.features import UsageSource
from portal.core.users import User
from sandbox.models import SANDBOX_CHAT, ChatMessage, Conversation

TITLE_LENGTH = 60
SYSTEM_PROMPT = "the system prompt"
__all__ = ["ChatTurn", "PreparedTurn", "RecordedTurn", "SandboxPolicy", "TurnNotice", "TurnRequest", "TurnStream",
           "guardrail_notice", "offered_models", "prepare_turn", "record_guardrail_finding", "record_turn"]


@dataclass(frozen=True)
class SandboxPolicy:
    """The settings a turn obeys: budgets, message size, and the guardrail action per classification."""

    budgets: BudgetPolicy
    max_message_chars: int
    guardrail_actions: dict[str, str]
    # who may use confidential data: the caller hands in training's CourseGate (PORTAL_TRAINING_REQUIRED_COURSES)
    capabilities: CapabilityGate = NOTHING_REQUIRED
    max_system_prompt_chars: int = 4_000  # PORTAL_SANDBOX_MAX_SYSTEM_PROMPT_CHARS

    def guardrail_action(self, classification: DataClassification) -> GuardrailAction:
        return GuardrailPolicy(self.guardrail_actions).action_for(classification)


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
    """A checked turn: what will be sent, to which model, and what the guardrails did to the message and to
    the system prompt (None when there is none or nothing was found in it)."""

    user: User
    model: CatalogModel
    request: TurnRequest
    guardrails: GuardrailOutcome
    messages: list[dict[str, str]] = field(default_factory=list)
    source: UsageSource = SANDBOX_CHAT  # what its usage is reported under
    system_guardrails: GuardrailOutcome | None = None
    error: str = ""  # a plain chat turn fails only at the call, never before it

    @property
    def blocked(self) -> bool:
        return self.guardrails.blocked or bool(self.system_guardrails and self.system_guardrails.blocked)

    @property
    def blocked_message(self) -> str:
        """Why nothing is sent: what the guardrails found where; empty when the turn may go."""
        if self.guardrails.blocked:
            return describe(self.guardrails)
        if self.system_guardrails is not None and self.system_guardrails.blocked:
            return f"In {SYSTEM_PROMPT}: " + describe(self.system_guardrails, what="this message with its system prompt")
        return ""

    @property
    def question(self) -> str:
        """The person's message as sent (after any redaction): what the page shows and the conversation keeps."""
        return self.messages[-1]["content"] if self.messages else ""

    @property
    def call(self) -> Call:
        request = self.request
        # prepare_turn guarded the message, the system prompt (and a document turn its passages), each with a
        # notice of its own: the metered path sends them as they are instead of scanning them again.
        return Call(payer=Payer.of(self.user), model=self.model, source=self.source, messages=self.messages,
                    temperature=request.temperature, top_p=request.top_p, max_tokens=request.max_tokens,
                    classification=request.classification, guarded=PreGuarded(self.guardrails.action))

    def notice(self) -> TurnNotice:
        """What the guardrails did to the message and, after it, to the system prompt."""
        notice = guardrail_notice(self.guardrails)
        if self.system_guardrails is not None:
            notice = notice.joined(guardrail_notice(self.system_guardrails, where=SYSTEM_PROMPT))
        return notice


def guardrail_notice(outcome: GuardrailOutcome, *, where: str = "") -> TurnNotice:
    """The notice for one guardrail outcome (nothing to say when nothing was found); `where` names the text."""
    if not outcome.findings:
        return TurnNotice()
    said = describe(outcome)
    return TurnNotice(guardrail=f"In {where}: {said}" if where else said, action=outcome.action.value,
                      replacements=list(outcome.replacements))


def offered_models(*, session: Session, user: User, classification: DataClassification) -> list[CatalogModel]:
    """Chat models this user may use for data of this classification that the gateway serves right now."""
    return [m for m in usable_models_for(session=session, user=user, classification=classification) if m.served]


def prepare_turn(*, session: Session, user: User, policy: SandboxPolicy, request: TurnRequest,
                 audit_guardrails: bool = True, source: UsageSource = SANDBOX_CHAT) -> PreparedTurn:
    """Check everything before a call; a guardrail that fired is audited (type, count, action — never content).

    A comparison prepares one turn per model for the same message and audits the guardrails once.
    """
    require(user, Permission.USE_SANDBOX)
    message = request.message.strip()
    _check_sizes(message, request.system_prompt, policy)
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
    action = policy.guardrail_action(request.classification)
    outcome = apply_guardrails(message, action)
    # The system prompt goes to the model too: the same rules, with the message's placeholders taken so each
    # placeholder sent stands for one value.
    system, sendable = guard_alongside(outcome.text_to_send or message, [request.system_prompt], action)
    prepared = PreparedTurn(user=user, model=model, request=request, guardrails=outcome, source=source,
                            system_guardrails=system)
    if audit_guardrails:
        record_guardrail_finding(session, prepared)
    if not prepared.blocked:
        prepared.messages = _messages(session, conversation, sendable[0], outcome.text_to_send or message)
    return prepared


def _check_sizes(message: str, system_prompt: str, policy: SandboxPolicy) -> None:
    if not message:
        raise InvalidInput("Type a message first.")
    if len(message) > policy.max_message_chars:
        raise InvalidInput(f"Your message is {len(message):,} characters long; at most "
                           f"{policy.max_message_chars:,} fit. Shorten it or split it.")
    if len(system_prompt) > policy.max_system_prompt_chars:
        raise InvalidInput(f"The system prompt is {len(system_prompt):,} characters long; at most "
                           f"{policy.max_system_prompt_chars:,} fit. Shorten it — your message is kept.")


def record_guardrail_finding(session: Session, prepared: PreparedTurn, *, message: bool = True,
                             system_prompt: bool = True) -> None:
    """Audit that a guardrail fired on the turn's message and on its system prompt (a comparison audits its one
    message and each distinct system prompt once): type, count and action — never the content."""
    if message:
        _audit_finding(session, prepared, prepared.guardrails)
    if system_prompt and prepared.system_guardrails is not None:
        _audit_finding(session, prepared, prepared.system_guardrails, source=SYSTEM_PROMPT)


def _audit_finding(session: Session, prepared: PreparedTurn, outcome: GuardrailOutcome, source: str = "") -> None:
    if not outcome.findings:
        return
    record(session, prepared.user, GuardrailFired(subject=prepared.model.name, outcome=outcome,
                                                  classification=prepared.request.classification, source=source))


def _offered_model(session: Session, user: User, request: TurnRequest) -> CatalogModel:
    for model in offered_models(session=session, user=user, classification=request.classification):
        if model.name == request.model_name:
            return model
    raise PermissionDenied(f"'{request.model_name}' is not offered to you for {request.classification.label} "
                           "data: it is not approved for that data, not served by the gateway, or restricted "
                           "to other teams. Pick one of the models listed.")


def _messages(session: Session, conversation: Conversation | None, system_prompt: str,
              text: str) -> list[dict[str, str]]:
    """System prompt (as guarded), the conversation so far, and the new message, as the gateway expects them."""
    messages = [{"role": "system", "content": system_prompt}] if system_prompt.strip() else []
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


@dataclass(frozen=True)
class RecordedTurn(Recorded):
    answer: ChatMessage | None  # None when no answer arrived at all


def record_turn(*, session: Session, stream: TurnStream, question: str | None = None) -> RecordedTurn:
    """Store the question and (possibly partial) answer when any answer arrived (the usage is settled already).

    `question` is what the conversation keeps as the user's message when the text sent held more
    (a document question is sent with its passages).
    """
    prepared, result, usage = stream.prepared, stream.result, stream.usage
    question = prepared.question if question is None else question
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
    # The system prompt as sent, like the message: a redacted value is not kept (nor shared) in the clear.
    system_prompt = next((m["content"] for m in prepared.messages if m["role"] == "system"), "")
    conversation.model_name, conversation.system_prompt = prepared.model.name, system_prompt
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


@dataclass
class ChatTurn:
    """A plain sandbox chat turn (metering.turn.Turn): the page prepares, streams, records and tells it."""

    user: User
    policy: SandboxPolicy
    request: TurnRequest
    prepared: PreparedTurn | None = None

    def prepare(self, session: Session) -> PreparedTurn:
        self.prepared = prepare_turn(session=session, user=self.user, policy=self.policy, request=self.request)
        return self.prepared

    def stream(self, metered: MeteredGateway) -> TurnStream:
        return TurnStream(self._prepared(), metered)

    def record(self, session: Session, stream: TurnStream) -> RecordedTurn:
        return record_turn(session=session, stream=stream)

    def notice(self) -> TurnNotice:
        return self._prepared().notice()

    def _prepared(self) -> PreparedTurn:
        if self.prepared is None:
            raise RuntimeError("Prepare the turn before streaming it.")
        return self.prepared
