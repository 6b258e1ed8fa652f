"""Stage moves per tier: (tier, move, approvals so far, who acts) -> moved, waiting, or refused with the reason."""

from __future__ import annotations

import pytest
from sqlmodel import select

from portal.core.audit import AuditEvent
from portal.core.errors import InvalidInput, PermissionDenied, StaleEdit
from portfolio.models import MoveState, Stage, UseCase
from portfolio.stages import decide_move, next_stages, pending_move, request_move

OWNER = "owner"
# Asking for a move: (tier, to stage, reason, who asks) -> outcome.
REQUESTS = [
    (1, "assessment", "", OWNER, "moved to assessment"),
    (1, "assessment", "", "reviewer", "moved to assessment"),
    (1, "pilot", "", OWNER, "refused: A use case in idea can move to assessment, paused, retired, not to pilot."),
    (1, "assessment", "", "contributor", "refused: Only the use case's owner or a reviewer may move it"),
    (2, "assessment", "", OWNER, "waits for approval"),
    (3, "assessment", "", OWNER, "waits for approval"),
    (3, "paused", "", OWNER, "refused: Say why it is paused"),
    (3, "paused", "budget frozen until Q3", OWNER, "moved to paused"),
    (3, "retired", "the vendor tool covers it", "reviewer", "moved to retired"),
]


@pytest.mark.parametrize("tier, to, reason, who, outcome", REQUESTS)
def test_asking_for_a_move(session, make_user, make_use_case, tier, to, reason, who, outcome) -> None:
    owner = make_user("contributor")
    use_case = make_use_case(tier, owner=owner)
    actor = owner if who == OWNER else make_user(who)
    try:
        move = request_move(session=session, actor=actor, use_case_id=use_case.id, to_stage=Stage(to),
                            reason=reason, base_revision=use_case.revision)
        session.commit()
    except (InvalidInput, PermissionDenied) as refused:
        session.rollback()
        assert outcome.startswith("refused: ") and refused.message.startswith(outcome.removeprefix("refused: "))
        assert session.get(UseCase, use_case.id).stage == "idea"
        return
    session.expire_all()
    stage = session.get(UseCase, use_case.id).stage
    assert (f"moved to {stage}" if move is None else "waits for approval") == outcome
    assert stage == (to if move is None else "idea")


# Deciding on a pending move the owner asked for: (tier, approvals so far, who decides, approve?) -> outcome.
DECISIONS = [
    (2, [], "reviewer", True, "moved to assessment"),
    (2, [], "risk_reviewer", True, "moved to assessment"),
    (2, [], OWNER, True, "refused: You own this use case, so a reviewer who does not must sign its move."),
    (2, [], "contributor", True, "refused: Your role (contributor) may not approve others'"),
    (2, [], "viewer", True, "refused: Your role (viewer) may not approve others'"),
    (2, [], "reviewer", False, "rejected"),
    (3, [], "reviewer", True, "waits with 1 approval"),
    (3, [], "risk_reviewer", True, "waits with 1 approval"),
    (3, ["reviewer"], "reviewer", True, "refused: A tier-3 move needs a risk reviewer among its two approvers"),
    (3, ["reviewer"], "same", True, "refused: You already approved this move; it needs another approver."),
    (3, ["reviewer"], "risk_reviewer", True, "moved to assessment"),
    (3, ["reviewer"], "admin", True, "moved to assessment"),
    (3, ["risk_reviewer"], "reviewer", True, "moved to assessment"),
    (3, ["risk_reviewer"], "risk_reviewer", True, "moved to assessment"),
    (3, ["reviewer"], "reviewer", False, "rejected"),
    (3, ["reviewer"], OWNER, False, "refused: You own this use case"),
]


@pytest.mark.parametrize("tier, before, who, approve, outcome", DECISIONS)
def test_deciding_on_a_move(session, make_user, make_use_case, tier, before, who, approve, outcome) -> None:
    owner = make_user("reviewer")  # an owner who may review, so only the four-eyes rule can refuse them
    use_case = make_use_case(tier, owner=owner)
    move = request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage.ASSESSMENT,
                        base_revision=use_case.revision)
    approvers = [make_user(role) for role in before]
    for approver in approvers:
        decide_move(session=session, actor=approver, move_id=move.id, approve=True, seen_version=move.version)
    session.commit()
    actor = {OWNER: owner, "same": approvers[0] if approvers else None}.get(who) or make_user(who)
    try:
        decide_move(session=session, actor=actor, move_id=move.id, approve=approve, seen_version=move.version,
                    note="" if approve else "The pilot plan has no rollback.")
        session.commit()
    except (InvalidInput, PermissionDenied) as refused:
        session.rollback()
        assert outcome.startswith("refused: ") and refused.message.startswith(outcome.removeprefix("refused: ")), \
            refused.message
        session.expire_all()
        assert (session.get(UseCase, use_case.id).stage, move.state) == ("idea", "pending")
        return
    session.expire_all()
    stage = session.get(UseCase, use_case.id).stage
    if move.state == MoveState.PENDING:
        shown = f"waits with {len(approvers) + 1} approval"
    else:
        shown = "rejected" if move.state == MoveState.REJECTED else f"moved to {stage}"
    assert shown == outcome
    assert stage == ("assessment" if outcome.startswith("moved") else "idea")


def test_a_move_through_every_stage_is_on_the_timeline(session, make_user, make_use_case, trained) -> None:
    owner, reviewer = make_user("contributor"), make_user("reviewer")
    use_case = make_use_case(2, owner=owner, operations=True)
    trained(owner)  # the courses tiers 2 and 3 require from pilot on
    for stage in ("assessment", "pilot", "production", "scaled"):
        move = request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage(stage),
                            base_revision=use_case.revision)
        decide_move(session=session, actor=reviewer, move_id=move.id, approve=True, seen_version=move.version)
    session.commit()
    assert use_case.stage == "scaled" and next_stages(use_case) == [Stage.PAUSED, Stage.RETIRED]
    moved = session.exec(select(AuditEvent).where(AuditEvent.action == "use_case.stage_moved")
                         .order_by(AuditEvent.id)).all()
    assert [e.summary for e in moved][-1] == f"Invoice matching: production → scaled (approved by {reviewer.email})"


def test_pausing_withdraws_the_waiting_move_and_resuming_returns_to_the_stage(session, make_user,
                                                                             make_use_case) -> None:
    owner, reviewer = make_user("contributor"), make_user("reviewer")
    use_case = make_use_case(2, owner=owner)
    move = request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage.ASSESSMENT,
                        base_revision=1)
    request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage.PAUSED,
                 reason="waiting for the new ERP", base_revision=1)
    assert (move.state, use_case.stage, use_case.stage_reason) == ("withdrawn", "paused", "waiting for the new ERP")
    assert next_stages(use_case) == [Stage.IDEA, Stage.RETIRED]
    resume = request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage.IDEA,
                          base_revision=use_case.revision)
    decide_move(session=session, actor=reviewer, move_id=resume.id, approve=True, seen_version=resume.version)
    assert (use_case.stage, use_case.paused_from, use_case.stage_reason) == ("idea", None, "")
    assert pending_move(session=session, use_case_id=use_case.id) is None


def test_a_move_asked_from_an_old_page_is_refused(session, make_user, make_use_case) -> None:
    owner = make_user("contributor")
    use_case = make_use_case(1, owner=owner)
    request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage.ASSESSMENT, base_revision=1)
    with pytest.raises(StaleEdit):
        request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage.PILOT, base_revision=1)


def test_a_draft_cannot_move(session, make_user) -> None:
    from portfolio.service import UseCaseForm, save_use_case

    viewer = make_user("viewer")
    draft = save_use_case(session=session, actor=viewer, form=UseCaseForm(title="Idea", owner_email=viewer.email),
                          submit=False)
    with pytest.raises(InvalidInput, match="This use case is a draft"):
        request_move(session=session, actor=viewer, use_case_id=draft.id, to_stage=Stage.ASSESSMENT,
                     base_revision=1)
