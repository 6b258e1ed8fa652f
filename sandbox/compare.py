"""Compare models: one message, two or three answers streamed at once, usage recorded, and a vote on the best.

`prepare_comparison` runs the sandbox's checks (model offered, budgets, guardrails) for every side;
`ComparisonRun` streams every side in its own thread and hands the texts to the caller's thread, which alone
touches the page; each call's usage ("sandbox compare") is settled by the metered gateway, and
`record_comparison` gathers the sides' results — compare turns are not saved as conversations; `vote_on_comparison` stores the user's verdict once, as hashes and model names.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

from sqlalchemy import case, func, or_
from sqlmodel import Session, col, select

from catalog.models import DataClassification
from portal.core.auth import Permission, require
from portal.core.errors import InvalidInput, PermissionDenied, PortalError
from metering.gateway import MeteredGateway
from portal.core.users import User
from metering.turn import TurnNotice
from sandbox.chat import (
    PreparedTurn,
    SandboxPolicy,
    TurnRequest,
    TurnStream,
    guardrail_notice,
    prepare_turn,
    record_guardrail_finding,
)
from guardrails.text import GuardrailOutcome, describe
from metering.models import CallStatus
from sandbox.models import SANDBOX_COMPARE, ComparisonVote

SIDES = ("a", "b", "c")
TIE, ALL_BAD = "tie", "none"
UNEXPECTED = "Something went wrong on our side while this answer streamed; it has been logged."


class AlreadyVoted(PortalError):
    """The comparison already has its vote."""


@dataclass(frozen=True)
class CompareSide:
    """One column: a model and the system prompt it gets."""

    model_name: str
    system_prompt: str = ""


@dataclass(frozen=True)
class CompareRequest:
    """One message for two or three sides, with the data classification and shared generation settings."""

    message: str
    classification: DataClassification
    sides: tuple[CompareSide, ...]
    temperature: float = 0.7
    top_p: float = 1.0
    max_tokens: int = 512


@dataclass
class PreparedComparison:
    """Every side checked; `blocked` when the guardrails stopped the message (for every side alike)."""

    request: CompareRequest
    turns: list[PreparedTurn]

    @property
    def guardrails(self) -> GuardrailOutcome:
        return self.turns[0].guardrails

    @property
    def blocked(self) -> bool:
        """Nothing is sent when the guardrails block the message or any side's system prompt."""
        return any(turn.blocked for turn in self.turns)

    @property
    def blocked_message(self) -> str:
        if self.guardrails.blocked:
            return describe(self.guardrails)
        for index, turn in self.distinct_prompts():
            if turn.system_guardrails is not None and turn.system_guardrails.blocked:
                return f"In {self._prompt_name(index)}: " + describe(
                    turn.system_guardrails, what="this message with its system prompts")
        return ""

    @property
    def sent_text(self) -> str:
        """What the models get as the user's message (after any redaction)."""
        return self.turns[0].question

    def notice(self) -> TurnNotice:
        """What the guardrails did to the message, then to each distinct system prompt."""
        notice = guardrail_notice(self.guardrails)
        for index, turn in self.distinct_prompts():
            if turn.system_guardrails is not None:
                notice = notice.joined(guardrail_notice(turn.system_guardrails, where=self._prompt_name(index)))
        return notice

    def distinct_prompts(self) -> list[tuple[int, PreparedTurn]]:
        """Each side whose system prompt no side before it has (one per prompt when the models share it)."""
        seen: set[str] = set()
        distinct = []
        for index, turn in enumerate(self.turns):
            if turn.request.system_prompt not in seen:
                seen.add(turn.request.system_prompt)
                distinct.append((index, turn))
        return distinct

    def _prompt_name(self, index: int) -> str:
        shared = len({turn.request.system_prompt for turn in self.turns}) == 1
        return "the system prompt" if shared else f"system prompt {SIDES[index].upper()}"


def prepare_comparison(*, session: Session, user: User, policy: SandboxPolicy,
                       request: CompareRequest) -> PreparedComparison:
    """Check the sides, then each turn as the sandbox does; nothing is sent here."""
    require(user, Permission.USE_SANDBOX)
    _check_sides(request.sides)
    turns = [prepare_turn(session=session, user=user, policy=policy, audit_guardrails=False,
                          source=SANDBOX_COMPARE,
                          request=TurnRequest(
                              message=request.message, model_name=side.model_name,
                              classification=request.classification, system_prompt=side.system_prompt,
                              temperature=request.temperature, top_p=request.top_p, max_tokens=request.max_tokens))
             for side in request.sides]
    prepared = PreparedComparison(request=request, turns=turns)
    # One message, so one message finding (with the first side); each distinct system prompt's finding once.
    distinct = {index for index, _ in prepared.distinct_prompts()}
    for index, turn in enumerate(turns):
        record_guardrail_finding(session, turn, message=index == 0, system_prompt=index in distinct)
    return prepared


def _check_sides(sides: tuple[CompareSide, ...]) -> None:
    if not 2 <= len(sides) <= len(SIDES):
        raise InvalidInput("Pick two or three models, or one model with two different system prompts.")
    keys = [(s.model_name, s.system_prompt.strip()) for s in sides]
    if len(set(keys)) != len(keys):
        raise InvalidInput("Two sides are the same model with the same system prompt: pick another model, or "
                           "give each side its own system prompt.")


@dataclass
class SideProgress:
    """One side's stream and when things happened on it (perf_counter seconds)."""

    stream: TurnStream
    text: str = ""
    started_at: float = 0.0
    first_token_at: float | None = None
    finished_at: float | None = None
    unexpected: BaseException | None = None
    deltas: queue.Queue = field(default_factory=queue.Queue)


class ComparisonRun:
    """Streams every side in its own thread; the caller's thread reads the texts through `updates()`."""

    def __init__(self, prepared: PreparedComparison, metered: MeteredGateway) -> None:
        if prepared.blocked:
            raise InvalidInput("The guardrails blocked this message, so it is not sent to any model.")
        self.prepared = prepared
        self.sides = [SideProgress(stream=TurnStream(turn, metered)) for turn in prepared.turns]
        self._threads = [threading.Thread(target=self._pump, args=(side,), daemon=True, name=f"compare-{i}")
                         for i, side in enumerate(self.sides)]

    def start(self) -> ComparisonRun:
        for thread in self._threads:
            thread.start()
        return self

    def _pump(self, side: SideProgress) -> None:
        side.started_at = time.perf_counter()
        try:
            for delta in side.stream:
                if side.first_token_at is None:
                    side.first_token_at = time.perf_counter()
                side.deltas.put(delta)
        except Exception as exc:  # noqa: BLE001 — reported as this side's failure; the others go on
            side.unexpected = exc
        finally:
            side.finished_at = time.perf_counter()
            side.deltas.put(None)

    @property
    def finished(self) -> bool:
        return all(not thread.is_alive() for thread in self._threads)

    def updates(self, *, interval_s: float = 0.05) -> Iterator[list[str]]:
        """Every side's text so far, each time some side changed, until every side has finished."""
        open_sides = set(range(len(self.sides)))
        while open_sides:
            changed = False
            for i in sorted(open_sides):
                changed |= self._drain(i, open_sides)
            if changed:
                yield [side.text for side in self.sides]
            elif open_sides:
                time.sleep(interval_s)
        for thread in self._threads:
            thread.join()

    def _drain(self, index: int, open_sides: set[int]) -> bool:
        side, changed = self.sides[index], False
        while True:
            try:
                delta = side.deltas.get_nowait()
            except queue.Empty:
                return changed
            if delta is None:
                open_sides.discard(index)
                return True
            side.text += delta
            changed = True

    def wait(self) -> list[str]:
        """Run to the end without showing anything; the final texts."""
        for _ in self.updates(interval_s=0.01):
            pass
        return [side.text for side in self.sides]


@dataclass(frozen=True)
class SideResult:
    """What one column shows after the run: the answer (or what arrived), its usage, speed or error."""

    model_name: str
    system_prompt_hash: str
    text: str
    status: CallStatus
    error: str
    tokens_in: int
    tokens_out: int
    cost_usd: float
    time_to_first_token_s: float | None
    tokens_per_second: float | None


@dataclass(frozen=True)
class ComparisonRecord:
    """A recorded comparison, enough to vote on it: no message text, only its hash."""

    comparison_id: str
    user_id: int
    classification: int
    message_hash: str
    sides: tuple[SideResult, ...]

    @property
    def prompt_variant(self) -> bool:
        return len({side.model_name for side in self.sides}) == 1


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def side_result(*, side: SideProgress) -> SideResult:
    """What one side's column shows; its call's usage ("sandbox compare") was settled when its stream ended."""
    stream, prepared = side.stream, side.stream.prepared
    result, status, usage = stream.result, stream.status, stream.usage
    error = stream.error.message if stream.error else (UNEXPECTED if side.unexpected else "")
    if side.unexpected is not None:
        status = CallStatus.INTERRUPTED if stream.partial else CallStatus.FAILED
    prompt = prepared.request.system_prompt.strip()
    return SideResult(model_name=prepared.model.name, system_prompt_hash=sha256(prompt) if prompt else "",
                      text=stream.partial, status=status, error=error,
                      tokens_in=usage.tokens_in if usage else 0, tokens_out=usage.tokens_out if usage else 0,
                      cost_usd=usage.cost_usd if usage else 0.0,
                      time_to_first_token_s=usage.time_to_first_token_s if usage else None,
                      tokens_per_second=result.tokens_per_second if result else None)


def record_comparison(*, run: ComparisonRun) -> ComparisonRecord:
    """Every side's result after the run (their usage is settled); the comparison gets an id to vote on."""
    if not run.finished:
        raise InvalidInput("The answers are still arriving; record the comparison when they are done.")
    prepared = run.prepared
    sides = tuple(side_result(side=side) for side in run.sides)
    return ComparisonRecord(comparison_id=uuid.uuid4().hex, user_id=prepared.turns[0].user.id,
                            classification=int(prepared.request.classification),
                            message_hash=sha256(prepared.sent_text), sides=sides)


def vote_on_comparison(*, session: Session, user: User, comparison: ComparisonRecord,
                       choice: str) -> ComparisonVote:
    """Store the user's verdict: side "a", "b" or "c", "tie" or "none" (all bad); one vote per comparison."""
    require(user, Permission.USE_SANDBOX)
    if comparison.user_id != user.id:
        raise PermissionDenied("Only the person who ran a comparison can vote on it.")
    choices = [*SIDES[:len(comparison.sides)], TIE, ALL_BAD]
    if choice not in choices:
        raise InvalidInput(f"'{choice}' is not a choice here: pick one of {', '.join(choices)}.")
    if session.exec(select(ComparisonVote.id)
                    .where(ComparisonVote.comparison_id == comparison.comparison_id)).first() is not None:
        raise AlreadyVoted("You already voted on this comparison; each comparison takes one vote. "
                           "Run a new comparison to vote again.")
    names = [side.model_name for side in comparison.sides] + [""] * (len(SIDES) - len(comparison.sides))
    hashes = [side.system_prompt_hash for side in comparison.sides] + [""] * (len(SIDES) - len(comparison.sides))
    winner = names[SIDES.index(choice)] if choice in SIDES else choice
    vote = ComparisonVote(comparison_id=comparison.comparison_id, user_id=user.id,
                          classification=comparison.classification, message_hash=comparison.message_hash,
                          model_a=names[0], model_b=names[1], model_c=names[2], system_prompt_hash_a=hashes[0],
                          system_prompt_hash_b=hashes[1], system_prompt_hash_c=hashes[2],
                          prompt_variant=comparison.prompt_variant,
                          winner_side=choice if choice in SIDES else "", winner=winner)
    session.add(vote)
    session.flush()
    return vote


@dataclass(frozen=True)
class VoteSummary:
    """How a model fared against other models: votes it won, lost (another model won) and tied."""

    wins: int
    losses: int
    ties: int
    comparisons: int  # every voted comparison against other models, including the ones judged all bad

    @property
    def all_bad(self) -> int:
        return self.comparisons - self.wins - self.losses - self.ties


def vote_summary(*, session: Session, model_name: str) -> VoteSummary:
    """The model's comparison votes against other models, counted in SQL (prompt variants are left out)."""
    v = ComparisonVote
    involved = or_(v.model_a == model_name, v.model_b == model_name, v.model_c == model_name)
    lost = (v.winner != model_name) & (v.winner != TIE) & (v.winner != ALL_BAD)

    def count_if(condition) -> object:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    comparisons, wins, losses, ties = session.exec(
        select(func.count(), count_if(v.winner == model_name), count_if(lost), count_if(v.winner == TIE))
        .where(involved, col(v.prompt_variant).is_(False))).one()
    return VoteSummary(wins=int(wins), losses=int(losses), ties=int(ties), comparisons=int(comparisons))
