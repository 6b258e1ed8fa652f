"""`coe-portal seed` creates a believable portfolio through the real services, once."""

from __future__ import annotations

from sqlmodel import Session, select

from portal.cli import main
from portal.core.audit import AuditEvent
from portal.core.db import make_engine
from portfolio.links import UseCaseLink, linked
from portfolio.models import MoveState, Stage, StageMove, UseCase


def test_the_seed_portfolio_covers_every_stage_tier_and_several_departments(isolated_portal, capsys) -> None:
    assert main(["seed"]) == 0
    assert "portfolio: 20 use case(s) created" in capsys.readouterr().out
    assert main(["seed"]) == 0
    assert "portfolio: 0 use case(s) created" in capsys.readouterr().out
    engine = make_engine(f"sqlite:///{isolated_portal / 'var' / 'portal.db'}")
    with Session(engine) as session:
        use_cases = session.exec(select(UseCase)).all()
        waiting = session.exec(select(StageMove).where(StageMove.state == MoveState.PENDING.value)).all()
        moved = session.exec(select(AuditEvent).where(AuditEvent.action == "use_case.stage_moved")).all()
    assert len(use_cases) == 20 and not any(u.draft for u in use_cases)
    assert {u.stage for u in use_cases} == {s.value for s in Stage}
    assert {int(u.tier) for u in use_cases} == {1, 2, 3}
    assert len({u.department for u in use_cases}) >= 5
    assert len(waiting) >= 3 and any(u.reviewer_tier for u in use_cases)
    # Tier-3 moves were signed by a risk reviewer among two approvers, as the service demands.
    tier3 = {u.id for u in use_cases if int(u.tier) == 3}
    signed = [e for e in moved if int(e.entity_id) in tier3 and e.after["approvers"]]
    assert signed and all(len(e.after["approvers"]) == 2 and "rosa.risk@example.com" in e.after["approvers"]
                          for e in signed)


def test_the_seed_portfolio_links_its_use_cases_to_seed_models_prompts_templates_and_courses(isolated_portal) -> None:
    assert main(["seed"]) == 0
    engine = make_engine(f"sqlite:///{isolated_portal / 'var' / 'portal.db'}")
    with Session(engine) as session:
        kinds = set(session.exec(select(UseCaseLink.kind)).all())
        contract = session.exec(select(UseCase).where(UseCase.title == "Contract clause review")).one()
        courses = linked(session, contract.id, "course")
    assert kinds == {"model", "prompt", "template", "course"}
    assert courses == ["rag-from-template", "responsible-ai"]
