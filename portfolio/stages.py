"""Stage moves: which moves exist, who must sign them for each tier, and the decisions on pending moves.

Every forward move first needs its graduation criteria (portfolio.criteria) met or waived, for all tiers. Then
tier 1 moves on its own at once; tier 2 needs one reviewer who is neither the owner nor the requester; tier 3 needs
two such approvers, one a risk reviewer. Pausing and retiring (with a reason) never wait: stopping is always allowed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col, select

from catalog.models import RiskTier
from portal.core.audit import record, utcnow
from portal.core.auth import Permission, has_permission, require
from portal.core.errors import InvalidInput, NotFound, PermissionDenied
from portal.core.users import User
from portfolio.checks import GraduationPolicy
from portfolio.criteria import unmet
from portfolio.events import StageMoveApproved, StageMoved, StageMoveRejected, StageMoveRequested
from portfolio.models import FORWARD_STAGES, MoveApproval, MoveState, Stage, StageMove, UseCase
from portfolio.service import MAX_LONG, MIN_REASON, check_revision, get_use_case

STOPPING = (Stage.PAUSED, Stage.RETIRED)
APPROVALS_NEEDED = {RiskTier.SELF_SERVICE: 0, RiskTier.LIGHT_REVIEW: 1, RiskTier.FULL_REVIEW: 2}


class MoveDecidedMeanwhile(InvalidInput):
    """Another reviewer decided on (or approved) the move since this one looked at it."""


@dataclass(frozen=True)
class Approver:
    user_id: int
    risk_reviewer: bool


def next_stages(use_case: UseCase) -> list[Stage]:
    """The stages the use case may be moved to now."""
    stage = Stage(use_case.stage)
    if stage == Stage.RETIRED:
        return []
    if stage == Stage.PAUSED:
        return [Stage(use_case.paused_from or Stage.IDEA), Stage.RETIRED]
    after = FORWARD_STAGES.index(stage) + 1
    return [*FORWARD_STAGES[after:after + 1], Stage.PAUSED, Stage.RETIRED]


def approval_refusal(*, tier: RiskTier, owner_id: int | None, requester_id: int, approvals: Sequence[Approver],
                     approver: Approver) -> str | None:
    """Why this approver may not approve the move now, or None when they may."""
    if approver.user_id == owner_id:
        return "You own this use case, so a reviewer who does not must sign its move."
    if approver.user_id == requester_id:
        return "You asked for this move, so another reviewer must sign it."
    if any(a.user_id == approver.user_id for a in approvals):
        return "You already approved this move; it needs another approver."
    if tier == RiskTier.FULL_REVIEW and approvals and not any(a.risk_reviewer for a in approvals) \
            and not approver.risk_reviewer:
        return ("A tier-3 move needs a risk reviewer among its two approvers and the first was not one: "
                "the second approval must come from a risk reviewer.")
    return None


def approvals_complete(tier: RiskTier, approvals: Sequence[Approver]) -> bool:
    """True when the approvals given are all the tier asks for."""
    needed = max(1, APPROVALS_NEEDED[tier])  # a pending move always waits for at least one signature
    return len(approvals) >= needed and (tier != RiskTier.FULL_REVIEW or any(a.risk_reviewer for a in approvals))


def pending_move(*, session: Session, use_case_id: int) -> StageMove | None:
    """The move waiting for approval, if any (there is at most one)."""
    return session.exec(select(StageMove).where(StageMove.use_case_id == use_case_id,
                                                StageMove.state == MoveState.PENDING.value)).first()


def approvals_of(*, session: Session, move_id: int) -> list[tuple[MoveApproval, User]]:
    """A move's approvals with their approvers, in the order given."""
    return list(session.exec(select(MoveApproval, User).join(User, col(User.id) == MoveApproval.approver_id)
                             .where(MoveApproval.move_id == move_id).order_by(col(MoveApproval.id))).all())


def request_move(*, session: Session, actor: User, use_case_id: int, to_stage: Stage, base_revision: int,
                 reason: str = "", policy: GraduationPolicy | None = None) -> StageMove | None:
    """Ask to move the use case; returns the pending move, or None when it moved at once (tier 1, pause, retire)."""
    require(actor, Permission.BROWSE)
    use_case = get_use_case(session=session, actor=actor, use_case_id=use_case_id)
    if actor.id != use_case.owner_id and not has_permission(actor, Permission.REVIEW):
        raise PermissionDenied("Only the use case's owner or a reviewer may move it to another stage.")
    if use_case.draft:
        raise InvalidInput("This use case is a draft: submit it with every answer first.")
    check_revision(use_case, base_revision)
    to_stage, reason = Stage(to_stage), (reason or "").strip()
    allowed = next_stages(use_case)
    if to_stage not in allowed:
        raise InvalidInput(f"A use case in {use_case.stage} can move to {', '.join(allowed) or 'nothing'}, "
                           f"not to {to_stage}.")
    if len(reason) > MAX_LONG or (to_stage in STOPPING and len(reason) < MIN_REASON):
        raise InvalidInput(f"Say why it is {to_stage} (between {MIN_REASON} and {MAX_LONG} characters).")
    waiting = pending_move(session=session, use_case_id=use_case.id)
    if to_stage in STOPPING:
        if waiting is not None:
            _close(session, waiting, MoveState.WITHDRAWN)
        _apply(session, actor, use_case, to_stage, reason=reason, approvers=[])
        return None
    if waiting is not None:
        raise InvalidInput(f"A move to {waiting.to_stage} already waits for approval; it is decided first.")
    require_criteria(session, use_case, from_stage=use_case.stage, to_stage=to_stage, policy=policy)
    if APPROVALS_NEEDED[use_case.tier] == 0:
        _apply(session, actor, use_case, to_stage, reason=reason, approvers=[])
        return None
    move = StageMove(use_case_id=use_case.id, from_stage=use_case.stage, to_stage=to_stage.value,
                     requested_by_id=actor.id, reason=reason)
    session.add(move)
    session.flush()
    record(session, actor, StageMoveRequested(use_case_id=use_case.id, title=use_case.title, move_id=move.id,
                                              from_stage=move.from_stage, to_stage=move.to_stage,
                                              tier=int(use_case.tier)))
    return move


def decide_move(*, session: Session, actor: User, move_id: int, approve: bool, seen_version: int,
                note: str = "", policy: GraduationPolicy | None = None) -> StageMove:
    """Approve or reject a pending move; the use case moves once the tier's approvals are complete."""
    require(actor, Permission.REVIEW)
    move = session.get(StageMove, move_id)
    if move is None:
        raise NotFound(f"There is no stage move {move_id}.")
    if move.state != MoveState.PENDING.value:
        raise MoveDecidedMeanwhile(f"This move was already {move.state}; nothing was changed.")
    use_case = session.get(UseCase, move.use_case_id)
    given = [Approver(a.approver_id, a.risk_reviewer) for a, _ in approvals_of(session=session, move_id=move.id)]
    me = Approver(actor.id, has_permission(actor, Permission.REVIEW_RISK))
    note = (note or "").strip()
    refusal = approval_refusal(tier=use_case.tier, owner_id=use_case.owner_id, requester_id=move.requested_by_id,
                               approvals=given, approver=me)
    if refusal and (approve or me.user_id in (use_case.owner_id, move.requested_by_id)):
        raise PermissionDenied(refusal)
    if len(note) > MAX_LONG or (not approve and len(note) < MIN_REASON):
        raise InvalidInput(f"Say why you reject the move (between {MIN_REASON} and {MAX_LONG} characters).")
    _claim(session, move, seen_version)
    if not approve:
        _close(session, move, MoveState.REJECTED)
        record(session, actor, StageMoveRejected(use_case_id=use_case.id, title=use_case.title, move_id=move.id,
                                                 to_stage=move.to_stage, reason=note))
        return move
    session.add(MoveApproval(move_id=move.id, approver_id=actor.id, risk_reviewer=me.risk_reviewer, note=note))
    record(session, actor, StageMoveApproved(use_case_id=use_case.id, title=use_case.title, move_id=move.id,
                                             to_stage=move.to_stage, risk_reviewer=me.risk_reviewer, note=note))
    if approvals_complete(use_case.tier, [*given, me]):
        require_criteria(session, use_case, from_stage=move.from_stage, to_stage=Stage(move.to_stage),
                         policy=policy)
        _close(session, move, MoveState.APPROVED)
        names = [user.email for _, user in approvals_of(session=session, move_id=move.id)]
        _apply(session, actor, use_case, Stage(move.to_stage), reason=move.reason, approvers=names,
               from_stage=move.from_stage)
    return move


def require_criteria(session: Session, use_case: UseCase, *, from_stage: str, to_stage: Stage,
                     policy: GraduationPolicy | None = None) -> None:
    """Refuse a forward move, listing what is missing, until each of its graduation criteria is met or waived."""
    if from_stage == Stage.PAUSED.value:
        return  # resuming returns to a stage the use case already graduated to
    missing = unmet(session=session, use_case=use_case, to_stage=to_stage.value, policy=policy)
    if missing:
        raise InvalidInput(f"The move to {to_stage.value} waits for its graduation criteria; missing: "
                           + "; ".join(missing) + ".")


def _claim(session: Session, move: StageMove, seen_version: int) -> None:
    """Move the version on only if it is still the one the reviewer saw: two decisions at once cannot both land."""
    claimed = session.execute(update(StageMove).where(
        col(StageMove.id) == move.id, col(StageMove.version) == seen_version,
        col(StageMove.state) == MoveState.PENDING.value,
    ).values(version=seen_version + 1).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        raise MoveDecidedMeanwhile("Another reviewer decided on this move while you were looking at it; nothing "
                                   "was changed. Look at the move again.")
    session.refresh(move)


def _close(session: Session, move: StageMove, state: MoveState) -> None:
    move.state, move.decided_at = state.value, utcnow()
    session.add(move)
    session.flush()


def _apply(session: Session, actor: User, use_case: UseCase, to_stage: Stage, *, reason: str,
           approvers: list[str], from_stage: str | None = None) -> None:
    """Set the stage if it is still the one the move started from; record the move."""
    from_stage = from_stage or use_case.stage
    values = {"stage": to_stage.value, "updated_at": utcnow(), "revision": col(UseCase.revision) + 1,
              "paused_from": from_stage if to_stage == Stage.PAUSED else None,
              "stage_reason": reason if to_stage in STOPPING else ""}
    moved = session.execute(update(UseCase).where(col(UseCase.id) == use_case.id,
                                                  col(UseCase.stage) == from_stage)
                            .values(**values).execution_options(synchronize_session=False))
    if moved.rowcount != 1:
        raise MoveDecidedMeanwhile(f"The use case left {from_stage} meanwhile; nothing was changed.")
    session.refresh(use_case)
    record(session, actor, StageMoved(use_case_id=use_case.id, title=use_case.title, from_stage=from_stage,
                                      to_stage=to_stage.value, tier=int(use_case.tier), reason=reason,
                                      approvers=approvers))
