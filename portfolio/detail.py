"""Everything the use-case page shows, read in one call: the use case, its tier reasons, the waiting move, history."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from portal.core.audit import AuditEvent
from portal.core.auth import Permission, has_permission
from portal.core.users import User
from portfolio.checks import GraduationPolicy
from portfolio.criteria import CriterionState, criteria_states
from portfolio.links import links_of
from portfolio.models import FORWARD_STAGES, Stage, StageMove, UseCase
from portfolio.service import get_use_case, tier_proposal, timeline
from portfolio.stages import APPROVALS_NEEDED, approvals_of, next_stages, pending_move
from portfolio.tiers import TierProposal


@dataclass(frozen=True)
class ApprovalShown:
    approver: str
    risk_reviewer: bool
    note: str


@dataclass(frozen=True)
class UseCaseDetail:
    use_case: UseCase
    owner: str
    proposed_by: str
    proposal: TierProposal | None
    move: StageMove | None
    approvals: list[ApprovalShown]
    next_stages: list[Stage]
    may_move: bool  # the viewer may ask for a move (owner or reviewer)
    may_review: bool  # the viewer may raise the tier and decide moves
    history: list[AuditEvent]
    criteria_stage: str | None  # the forward move the criteria below guard: the waiting one, else the next one
    criteria: list[CriterionState]
    may_decide_criteria: bool  # a reviewer who is not the owner: may sign off and waive criteria
    links: dict[str, list[str]]  # by form field: models, prompts, templates, forks, courses, documents

    @property
    def signatures_needed(self) -> str:
        """What the tier asks of a move, in words."""
        return {0: "none: it moves at once when asked, and from assessment to pilot on its own, once its criteria are met",
                1: "one reviewer who is not the owner",
                2: "two reviewers who are not the owner, one of them a risk reviewer"}[
            APPROVALS_NEEDED[self.use_case.tier]] if self.use_case.tier else "none until it is submitted"


def use_case_detail(*, session: Session, actor: User, use_case_id: int,
                    policy: GraduationPolicy | None = None) -> UseCaseDetail:
    """The use case as its page shows it to this actor."""
    use_case = get_use_case(session=session, actor=actor, use_case_id=use_case_id)
    names = {u.id: u.email for u in (session.get(User, i) for i in {use_case.owner_id, use_case.proposed_by_id}
                                     if i is not None)}
    move = pending_move(session=session, use_case_id=use_case.id)
    approvals = [] if move is None else [ApprovalShown(user.email, a.risk_reviewer, a.note)
                                         for a, user in approvals_of(session=session, move_id=move.id)]
    stages = [] if use_case.draft else next_stages(use_case)
    guarded = move.to_stage if move is not None else next(
        (s.value for s in stages if s in FORWARD_STAGES and use_case.stage != Stage.PAUSED.value), None)
    return UseCaseDetail(
        use_case=use_case, owner=names.get(use_case.owner_id, ""), proposed_by=names.get(use_case.proposed_by_id, ""),
        proposal=tier_proposal(use_case), move=move, approvals=approvals,
        next_stages=stages,
        may_move=not use_case.draft and (actor.id == use_case.owner_id or has_permission(actor, Permission.REVIEW)),
        may_review=has_permission(actor, Permission.REVIEW),
        history=timeline(session=session, actor=actor, use_case_id=use_case.id), criteria_stage=guarded,
        criteria=[] if guarded is None else criteria_states(session=session, use_case=use_case, to_stage=guarded,
                                                                  policy=policy),
        may_decide_criteria=has_permission(actor, Permission.REVIEW) and actor.id != use_case.owner_id,
        links=links_of(session, use_case.id))
