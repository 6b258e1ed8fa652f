"""Prioritisation: reviewers score a use case's value and feasibility, and set its place in the CoE's order.

Both are kept as history (portfolio/scoring_models.py): a new score or decision supersedes the last without
changing it, and names the version it saw, so two reviewers acting at once cannot silently overwrite each other.
The owner never scores or ranks their own use case.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import and_, func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, SQLModel, col, select

from portal.core.audit import record
from portal.core.auth import Permission, has_permission, require
from portal.core.errors import InvalidInput, PermissionDenied, StaleEdit
from portal.core.principals import Principal
from portal.core.users import User
from portfolio.events import PriorityDecided, UseCaseScored
from portfolio.models import UseCase
from portfolio.scoring_models import MAX_SCORE, MIN_SCORE, PriorityDecision, UseCaseScore
from portfolio.service import MAX_LONG, MIN_REASON, get_use_case

MAX_SCORE_REASON = 300  # a short reason: a sentence or two beside the number
MAX_PRIORITY = 999
Row = TypeVar("Row", UseCaseScore, PriorityDecision)


class ChangedMeanwhile(StaleEdit):
    """Another reviewer scored or ranked the use case since this one's page showed it; nothing was saved."""


@dataclass(frozen=True)
class Standing:
    """Where a use case stands in the prioritisation: its latest score and its priority (None when not set)."""

    value: int | None = None
    feasibility: int | None = None
    priority: int | None = None

    @property
    def scored(self) -> bool:
        return self.value is not None


def prioritisation_refusal(actor: Principal, use_case: UseCase) -> str | None:
    """Why the actor may not score or rank this use case, or None when they may."""
    if not has_permission(actor, Permission.REVIEW):
        return "Reviewers score and rank use cases; your role may follow them here."
    if actor.id is not None and actor.id == use_case.owner_id:
        return "You own this use case, so other reviewers score and rank it."
    if use_case.draft:
        return "This use case is a draft: it is scored and ranked once it is submitted."
    return None


def _checked_use_case(session: Session, actor: User, use_case_id: int) -> UseCase:
    """The use case, once the actor is a reviewer (through `require`) who may act on it."""
    try:
        require(actor, Permission.REVIEW)
    except PermissionDenied:
        raise PermissionDenied(f"Your role ({actor.role}) may not score or rank use cases; that needs the reviewer "
                               "role.") from None
    use_case = get_use_case(session=session, actor=actor, use_case_id=use_case_id)
    refusal = prioritisation_refusal(actor, use_case)
    if refusal:
        raise (PermissionDenied if actor.id == use_case.owner_id else InvalidInput)(refusal)
    return use_case


def score_use_case(*, session: Session, actor: User, use_case_id: int, value: int, feasibility: int,
                   value_reason: str, feasibility_reason: str, seen_version: int) -> UseCaseScore:
    """A reviewer who is not the owner scores value and feasibility (1–5, each with a short reason)."""
    use_case = _checked_use_case(session, actor, use_case_id)
    reasons = {"value": (value_reason or "").strip(), "feasibility": (feasibility_reason or "").strip()}
    problems = [f"the {name} score must be a whole number from {MIN_SCORE} to {MAX_SCORE}, not {number!r}"
                for name, number in (("value", value), ("feasibility", feasibility))
                if not isinstance(number, int) or isinstance(number, bool) or not MIN_SCORE <= number <= MAX_SCORE]
    problems += [f"say why the {name} scores as it does ({MIN_REASON} to {MAX_SCORE_REASON} characters, not "
                 f"{len(reason)})" for name, reason in reasons.items()
                 if not MIN_REASON <= len(reason) <= MAX_SCORE_REASON]
    if problems:
        raise InvalidInput("Cannot save the score: " + "; ".join(problems) + ". Nothing was saved.")
    latest = _unchanged_since(session, UseCaseScore, use_case.id, seen_version, lambda who, row: (
        f"{who} scored this use case (value {row.value}, feasibility {row.feasibility}) after your page showed it"))
    score = UseCaseScore(use_case_id=use_case.id, version=seen_version + 1, value=value, feasibility=feasibility,
                         value_reason=reasons["value"], feasibility_reason=reasons["feasibility"], by_id=actor.id)
    _insert_next(session, score, seen_version, "Another reviewer scored this use case at the same moment")
    previous = {} if latest is None else {"value": latest.value, "feasibility": latest.feasibility}
    record(session, actor, UseCaseScored(use_case_id=use_case.id, title=use_case.title, value=value,
                                         feasibility=feasibility, value_reason=reasons["value"],
                                         feasibility_reason=reasons["feasibility"], previous=previous))
    return score


def decide_priority(*, session: Session, actor: User, use_case_id: int, priority: int | None, note: str,
                    seen_version: int) -> PriorityDecision:
    """A reviewer who is not the owner sets the use case's rank (1 first; None takes it off the list), saying why."""
    use_case = _checked_use_case(session, actor, use_case_id)
    note = (note or "").strip()
    problems = []
    if priority is not None and (not isinstance(priority, int) or isinstance(priority, bool)
                                 or not 1 <= priority <= MAX_PRIORITY):
        problems.append(f"the priority must be a whole number from 1 (first) to {MAX_PRIORITY}, not {priority!r}")
    if not MIN_REASON <= len(note) <= MAX_LONG:
        problems.append(f"say why in the decision note ({MIN_REASON} to {MAX_LONG} characters, not {len(note)})")
    if problems:
        raise InvalidInput("Cannot record the priority: " + "; ".join(problems) + ". Nothing was saved.")
    latest = _unchanged_since(session, PriorityDecision, use_case.id, seen_version, lambda who, row: (
        f"{who} set this use case's priority ({_rank(row.priority)}) after your page showed it"))
    before = None if latest is None else latest.priority
    if latest is not None and priority == before:
        raise InvalidInput(f"The use case already has {_rank(priority)}; nothing was changed.")
    decision = PriorityDecision(use_case_id=use_case.id, version=seen_version + 1, priority=priority, note=note,
                                by_id=actor.id)
    _insert_next(session, decision, seen_version, "Another reviewer set this use case's priority at the same moment")
    record(session, actor, PriorityDecided(use_case_id=use_case.id, title=use_case.title, from_priority=before,
                                           to_priority=priority, note=note))
    return decision


def _rank(priority: int | None) -> str:
    return "no priority" if priority is None else f"priority {priority}"


def _changed(seen: int, latest: int, what: str) -> ChangedMeanwhile:
    return ChangedMeanwhile(noun="use case", base=seen, latest=latest, message=(
        f"{what}. Nothing was saved; your entry is still in the form: look at the latest, then save again."))


def _latest(session: Session, table: type[Row], use_case_id: int) -> Row | None:
    return session.exec(select(table).where(table.use_case_id == use_case_id)  # type: ignore[arg-type]
                        .order_by(col(table.version).desc()).limit(1)).first()


def _unchanged_since(session: Session, table: type[Row], use_case_id: int, seen_version: int,
                     told: Callable[[str, Row], str]) -> Row | None:
    """The latest row, unless someone added one after the version the reviewer saw: then say who and what."""
    latest = _latest(session, table, use_case_id)
    if latest is not None and latest.version != seen_version:
        who = session.get(User, latest.by_id)
        raise _changed(seen_version, latest.version, told(who.email if who else "Another reviewer", latest))
    return latest


def _insert_next(session: Session, row: SQLModel, seen_version: int, race: str) -> None:
    """Insert the next version; a reviewer who inserted the same version first wins (the unique key decides)."""
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        # The transaction is spoilt on PostgreSQL, so the winner cannot be named; the caller rolls back.
        raise _changed(seen_version, seen_version + 1, race) from None


def _latest_rows(table: type[Row], ids: Sequence[int]):
    """A subquery: each of the use cases' rows with its highest version (a max per group, as both databases run)."""
    newest = (select(table.use_case_id, func.max(table.version).label("version"))  # type: ignore[arg-type]
              .where(col(table.use_case_id).in_(ids)).group_by(table.use_case_id).subquery())
    row = aliased(table)
    return row, and_(row.use_case_id == newest.c.use_case_id, row.version == newest.c.version), newest


def standings(*, session: Session, actor: Principal, use_case_ids: Sequence[int]) -> dict[int, Standing]:
    """The latest score and priority of each of the use cases, read in one query."""
    require(actor, Permission.BROWSE)
    ids = list(dict.fromkeys(use_case_ids))
    if not ids:
        return {}
    score, score_on, newest_score = _latest_rows(UseCaseScore, ids)
    decision, decision_on, newest_decision = _latest_rows(PriorityDecision, ids)
    query = (select(UseCase.id, score.value, score.feasibility, decision.priority)
             .join(newest_score, newest_score.c.use_case_id == UseCase.id, isouter=True)
             .join(score, score_on, isouter=True)
             .join(newest_decision, newest_decision.c.use_case_id == UseCase.id, isouter=True)
             .join(decision, decision_on, isouter=True)
             .where(col(UseCase.id).in_(ids)))
    return {use_case_id: Standing(value, feasibility, priority)
            for use_case_id, value, feasibility, priority in session.exec(query).all()}


def priority_order(standing: Standing, newest_first_position: int = 0) -> tuple:
    """A sort key for the CoE's order: ranked use cases by rank (ties by value × feasibility), then the rest."""
    product = (standing.value or 0) * (standing.feasibility or 0)
    return (standing.priority is None, standing.priority or 0, -product, newest_first_position)


@dataclass(frozen=True)
class ScoreShown:
    value: int
    feasibility: int
    value_reason: str
    feasibility_reason: str
    by: str
    at: datetime


@dataclass(frozen=True)
class DecisionShown:
    priority: int | None
    note: str
    by: str
    at: datetime


@dataclass(frozen=True)
class Prioritisation:
    """What the use-case page shows of the prioritisation: both histories (newest first), and who may act."""

    scores: list[ScoreShown]
    decisions: list[DecisionShown]
    score_version: int  # what a new score names as seen
    priority_version: int
    refusal: str | None  # why the viewer may not score or rank, None when they may

    @property
    def priority(self) -> int | None:
        return self.decisions[0].priority if self.decisions else None


def prioritisation(*, session: Session, actor: Principal, use_case_id: int) -> Prioritisation:
    """The use case's scores and priority decisions, newest first, with their reviewers."""
    use_case = get_use_case(session=session, actor=actor, use_case_id=use_case_id)
    scores = _history(session, UseCaseScore, use_case.id)
    decisions = _history(session, PriorityDecision, use_case.id)
    return Prioritisation(
        scores=[ScoreShown(s.value, s.feasibility, s.value_reason, s.feasibility_reason, email, s.at)
                for s, email in scores],
        decisions=[DecisionShown(d.priority, d.note, email, d.at) for d, email in decisions],
        score_version=scores[0][0].version if scores else 0,
        priority_version=decisions[0][0].version if decisions else 0,
        refusal=prioritisation_refusal(actor, use_case))


def _history(session: Session, table: type[Row], use_case_id: int) -> list[tuple[Row, str]]:
    return list(session.exec(select(table, User.email).join(User, col(User.id) == table.by_id)  # type: ignore[arg-type]
                             .where(table.use_case_id == use_case_id)
                             .order_by(col(table.version).desc())).all())

