"""Tier 1's self-service: in assessment, it moves to pilot on its own once its criteria are met — never tier 2 or 3."""

from __future__ import annotations

import threading

from sqlmodel import select

from catalog.lifecycle import TransitionRequest
from catalog.models import ModelStatus
from catalog.service import transition_model
from portal.core.audit import AuditEvent
from portfolio.advance import advance_ready
from portfolio.graduation import decide_criterion, save_operations
from portfolio.models import CriterionKind, Stage, UseCase
from portfolio.service import save_use_case
from portfolio.stages import decide_move, request_move
from tests.portfolio.conftest import complete_form


def _in_assessment(session, make_user, make_use_case, tier: int, **changes) -> tuple[UseCase, object]:
    owner = make_user("contributor")
    use_case = make_use_case(tier, owner=owner, **changes)
    move = request_move(session=session, actor=owner, use_case_id=use_case.id, to_stage=Stage.ASSESSMENT,
                        base_revision=use_case.revision)
    if move is not None:
        decide_move(session=session, actor=make_user("reviewer"), move_id=move.id, approve=True,
                    seen_version=move.version)
    session.commit()
    assert use_case.stage == "assessment"
    return use_case, owner


def _stage(session, use_case) -> str:
    session.expire_all()
    return session.get(UseCase, use_case.id).stage


def test_a_tier1_use_case_waits_for_its_model_and_the_sweep_moves_it_once_approved(
        session, make_user, make_model, make_use_case) -> None:
    model = make_model(ModelStatus.UNDER_REVIEW, name="acme/pending-model")
    use_case, owner = _in_assessment(session, make_user, make_use_case, 1, models=[model.name])
    save_operations(session=session, actor=owner, use_case_id=use_case.id, on_call_owner="AP rota",
                    rollback_plan="Manual queue.", monitoring_url="https://grafana.example.com/d/ap",
                    base_revision=use_case.revision)
    session.commit()
    assert advance_ready(session=session) == []
    session.commit()
    assert _stage(session, use_case) == "assessment"  # the model is not cleared: it stays
    transition_model(session=session, actor=make_user("admin"), name=model.name,
                     request=TransitionRequest(target=ModelStatus.APPROVED, reason="Evaluated for internal use"))
    session.commit()
    moved = advance_ready(session=session)
    session.commit()
    assert [u.id for u in moved] == [use_case.id] and _stage(session, use_case) == "pilot"
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "use_case.stage_moved")
                         .order_by(AuditEvent.id.desc())).first()
    assert (event.actor_email, event.actor_id, event.after["reason"], event.before) == (
        "system:portfolio", None, "criteria met", {"stage": "assessment"})
    assert advance_ready(session=session) == []  # idempotent: nothing left to move


def test_a_save_or_a_waiver_that_meets_the_criteria_moves_it_at_once(session, make_user, make_model,
                                                                    make_use_case) -> None:
    model = make_model(ModelStatus.PROPOSED, name="acme/draft-model")
    edited, owner = _in_assessment(session, make_user, make_use_case, 1, models=[model.name])
    save_use_case(session=session, actor=owner, form=complete_form(owner, 1, models=[]), submit=True,
                  use_case_id=edited.id, base_revision=edited.revision)
    session.commit()
    assert _stage(session, edited) == "pilot"  # the uncleared model was dropped: nothing is missing now
    waived, _ = _in_assessment(session, make_user, make_use_case, 1, models=[model.name])
    decide_criterion(session=session, actor=make_user("reviewer"), use_case_id=waived.id,
                     criterion="models-cleared", to_stage="pilot", kind=CriterionKind.WAIVED,
                     reason="Only synthetic invoices in the pilot")
    session.commit()
    assert _stage(session, waived) == "pilot"


def test_tier2_and_tier3_never_move_on_their_own(session, make_user, make_use_case) -> None:
    tier2, owner2 = _in_assessment(session, make_user, make_use_case, 2)
    save_operations(session=session, actor=owner2, use_case_id=tier2.id, on_call_owner="AP rota",
                    rollback_plan="Manual queue.", monitoring_url="https://grafana.example.com/d/ap",
                    base_revision=tier2.revision)
    session.commit()
    owner3 = make_user("contributor")
    tier3 = make_use_case(3, owner=owner3)
    move = request_move(session=session, actor=owner3, use_case_id=tier3.id, to_stage=Stage.ASSESSMENT,
                        base_revision=tier3.revision)
    for role in ("reviewer", "risk_reviewer"):
        decide_move(session=session, actor=make_user(role), move_id=move.id, approve=True, seen_version=move.version)
    session.commit()
    assert advance_ready(session=session) == []
    session.commit()
    assert (_stage(session, tier2), _stage(session, tier3)) == ("assessment", "assessment")


def test_the_running_portal_sweeps_on_its_own_after_a_change_elsewhere(engine, session, make_user, make_model,
                                                                         make_use_case) -> None:
    from portal.core.scheduler import Scheduler
    from portal.core.settings import Settings
    from portfolio.manifest import MANIFEST

    model = make_model(ModelStatus.UNDER_REVIEW, name="acme/awaited-model")
    use_case, owner = _in_assessment(session, make_user, make_use_case, 1, models=[model.name])
    save_operations(session=session, actor=owner, use_case_id=use_case.id, on_call_owner="AP rota",
                    rollback_plan="Manual queue.", monitoring_url="https://grafana.example.com/d/ap",
                    base_revision=use_case.revision)
    session.commit()
    scheduler = Scheduler(MANIFEST.scheduled_jobs, settings=Settings(portfolio_sweep_interval_s=0.05), engine=engine)
    assert scheduler.jobs == ["portfolio sweep"]
    scheduler.start()
    try:
        # The change elsewhere: the model is approved. Nobody touches the use case or runs a command.
        transition_model(session=session, actor=make_user("admin"), name=model.name,
                         request=TransitionRequest(target=ModelStatus.APPROVED, reason="Evaluated for internal use"))
        session.commit()
        for _ in range(200):
            if _stage(session, use_case) == "pilot":
                break
            session.close()
            threading.Event().wait(0.05)
    finally:
        scheduler.stop()
    assert _stage(session, use_case) == "pilot"
    assert Settings().portfolio_sweep_interval_s == 300  # the default: every five minutes
