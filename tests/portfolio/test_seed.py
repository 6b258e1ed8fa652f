"""`coe-portal seed` creates a believable portfolio through the real services, once."""

from __future__ import annotations

from sqlmodel import Session, select

from portal.cli import main
from portal.core.audit import AuditEvent
from portal.core.db import make_engine
from portal.core.users import User
from portfolio.detail import use_case_detail
from portfolio.links import UseCaseLink, linked
from portfolio.models import MoveState, Stage, StageMove, UseCase
from tests.conftest import SeededPortal


def engine_of(seeded: SeededPortal):
    return make_engine(f"sqlite:///{seeded.folder / 'var' / 'portal.db'}")


def test_the_seed_portfolio_covers_every_stage_tier_and_several_departments(seeded_template, seeded,
                                                                            capsys) -> None:
    assert "portfolio: 20 use case(s) created" in seeded_template.output
    assert main(["seed"]) == 0  # again, on this test's copy
    assert "portfolio: 0 use case(s) created" in capsys.readouterr().out
    engine = make_engine(f"sqlite:///{seeded / 'var' / 'portal.db'}")
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


def test_the_seed_portfolio_shows_criteria_in_every_state_from_real_data(seeded_template) -> None:
    engine = engine_of(seeded_template)
    with Session(engine) as session:
        reviewer = session.exec(select(User).where(User.email == "ravi.reviewer@example.com")).one()
        shown = [c for u in session.exec(select(UseCase)).all()
                 for c in use_case_detail(session=session, actor=reviewer, use_case_id=u.id).criteria]
    assert {"signed" if c.detail.startswith("signed by") else c.state for c in shown} == {
        "met", "not met", "signed", "waived"}
    # The demo owners who took the courses meet the courses criterion from their certificates; others do not.
    courses = {c.state for c in shown if c.key.startswith("team-trained")}
    assert {"met", "not met"} <= courses
    assert any(c.key == "template-lineage" and c.state == "not met" for c in shown)
    assert any(c.key == "used-recently" and c.state in ("not met", "waived") for c in shown)


def test_the_seed_shows_an_accepted_and_a_waiting_risk_assessment_and_the_sweep_moves_ready_tier1(
        seeded, capsys) -> None:
    from portfolio.assessment_models import RiskAssessment

    engine = make_engine(f"sqlite:///{seeded / 'var' / 'portal.db'}")  # a copy: this test moves a use case on
    with Session(engine) as session:
        status = {title: status for title, status in session.exec(
            select(UseCase.title, RiskAssessment.status).join(RiskAssessment,
                                                             RiskAssessment.use_case_id == UseCase.id)).all()}
        concluded = session.exec(select(AuditEvent).where(AuditEvent.action == "use_case.assessment_concluded")).all()
    # Every tier-3 use case that reached pilot had its assessment accepted by the risk reviewer; one still waits.
    assert status["Contract clause review"] == "accepted" and status["Credit limit recommendations"] == "submitted"
    assert concluded and all(e.actor_email == "rosa.risk@example.com" for e in concluded)
    capsys.readouterr()
    assert main(["portfolio", "advance"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Portfolio: 1 tier-1 use case(s) moved to pilot") and "Campaign briefs" in out
    with Session(engine) as session:
        assert session.exec(select(UseCase.stage).where(UseCase.title == "Campaign briefs")).one() == "pilot"
    assert main(["portfolio", "advance"]) == 0
    assert capsys.readouterr().out.startswith("Portfolio: 0 tier-1 use case(s) moved")


def test_the_seed_portfolio_links_its_use_cases_to_seed_models_prompts_templates_and_courses(
        seeded_template) -> None:
    engine = engine_of(seeded_template)
    with Session(engine) as session:
        kinds = set(session.exec(select(UseCaseLink.kind)).all())
        contract = session.exec(select(UseCase).where(UseCase.title == "Contract clause review")).one()
        courses = linked(session, contract.id, "course")
    assert kinds == {"model", "prompt", "template", "course"}
    assert courses == ["rag-from-template", "responsible-ai"]
