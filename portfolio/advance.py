"""Tier 1's self-service: a tier-1 use case in assessment moves to pilot on its own once every graduation criterion
of the move is met — after a change to the use case (its save, a sign-off or waiver, its operations), and in
`coe-portal portfolio advance` for changes elsewhere (a model approved, a prompt test passing).

The move is made and audited by the system principal `system:portfolio` with the reason "criteria met". No person
calls it with their own identity, and it looks only at tier-1 use cases: tiers 2 and 3 keep their approvals.
"""

from __future__ import annotations

from sqlalchemy import exists
from sqlmodel import Session, col, select

from catalog.models import RiskTier
from portal.core.auth import Permission, require
from portal.core.principals import SYSTEM_PORTFOLIO
from portfolio.criteria import CriteriaFile, unmet
from portfolio.models import MoveState, Stage, StageMove, UseCase
from portfolio.stages import MoveDecidedMeanwhile
from portfolio.stages import _apply as apply_move  # the one way a stage changes and is audited

REASON = "criteria met"
FROM, TO = Stage.ASSESSMENT, Stage.PILOT


def advance_if_ready(*, session: Session, use_case_id: int, criteria: CriteriaFile | None = None) -> bool:
    """Move this use case to pilot if it is tier 1, in assessment and meets every criterion; True when it moved."""
    use_case = session.get(UseCase, use_case_id)
    if use_case is None or use_case.draft or use_case.tier != RiskTier.SELF_SERVICE or use_case.stage != FROM:
        return False
    return _advance(session, use_case, criteria)


def advance_ready(*, session: Session, criteria: CriteriaFile | None = None) -> list[UseCase]:
    """The sweep: every tier-1 use case in assessment whose pilot criteria are all met moves; returns those moved."""
    waiting = exists().where(StageMove.use_case_id == UseCase.id, StageMove.state == MoveState.PENDING.value)
    candidates = session.exec(select(UseCase).where(
        col(UseCase.tier) == RiskTier.SELF_SERVICE, col(UseCase.stage) == FROM.value, col(UseCase.draft).is_(False),
        ~waiting).order_by(col(UseCase.id))).all()
    return [use_case for use_case in candidates if _advance(session, use_case, criteria)]


def _advance(session: Session, use_case: UseCase, criteria: CriteriaFile | None) -> bool:
    require(SYSTEM_PORTFOLIO, Permission.BROWSE)
    if unmet(session=session, use_case=use_case, to_stage=TO.value, criteria=criteria):
        return False
    try:
        # A conditional update on the stage: a person's move at the same moment wins and this one changes nothing.
        apply_move(session, SYSTEM_PORTFOLIO, use_case, TO, reason=REASON, approvers=[], from_stage=FROM.value)
    except MoveDecidedMeanwhile:
        return False
    return True
