"""Decisions on one stage move at the same moment: only one commits, the others are told and change nothing."""

from __future__ import annotations

import threading

from sqlmodel import Session, select

from portal.core.audit import AuditEvent
from portfolio.models import MoveApproval, StageMove, UseCase
from portfolio.stages import MoveDecidedMeanwhile, decide_move, request_move
from tests.concurrency import run_together

THREADS = 10


def decide_at_once(engine, move: StageMove, deciders, approve_for) -> list[object]:
    opened = threading.Barrier(len(deciders))

    def decide(i: int) -> str:
        with Session(engine) as own:
            seen = own.get(StageMove, move.id).version  # every reviewer opened the page before anyone decided
            opened.wait()
            approve = approve_for(i)
            decide_move(session=own, actor=deciders[i], move_id=move.id, approve=approve, seen_version=seen,
                        note="" if approve else "No rollback plan yet.")
            own.commit()
            return "approved" if approve else "rejected"

    return run_together(len(deciders), decide)


def test_approve_and_reject_of_one_move_at_the_same_moment_only_one_commits(engine, session, make_user,
                                                                          make_use_case) -> None:
    owner = make_user("contributor")
    use_case = make_use_case(2, owner=owner)
    move = request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage="assessment",
                        base_revision=1)
    session.commit()
    reviewers = [make_user("reviewer") for _ in range(THREADS)]
    results = decide_at_once(engine, move, reviewers, lambda i: i % 2 == 1)
    won = [r for r in results if isinstance(r, str)]
    assert len(won) == 1, results
    assert all(isinstance(r, MoveDecidedMeanwhile) for r in results if not isinstance(r, str)), results
    session.expire_all()
    assert session.get(StageMove, move.id).state == won[0]
    assert session.get(UseCase, use_case.id).stage == ("assessment" if won[0] == "approved" else "idea")
    decided = session.exec(select(AuditEvent).where(AuditEvent.action.in_(
        ["use_case.move_approved", "use_case.move_rejected"]))).all()
    assert len(decided) == 1


def test_two_tier3_approvals_at_the_same_moment_only_one_lands(engine, session, make_user, make_use_case) -> None:
    owner = make_user("contributor")
    use_case = make_use_case(3, owner=owner)
    move = request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage="assessment",
                        base_revision=1)
    session.commit()
    deciders = [make_user("reviewer" if i % 2 else "risk_reviewer") for i in range(THREADS)]
    results = decide_at_once(engine, move, deciders, lambda i: True)
    assert len([r for r in results if r == "approved"]) == 1, results
    session.expire_all()
    # One approval, not two from a race: the move still waits for its second approver.
    assert len(session.exec(select(MoveApproval).where(MoveApproval.move_id == move.id)).all()) == 1
    assert (session.get(StageMove, move.id).state, session.get(UseCase, use_case.id).stage) == ("pending", "idea")
