"""`coe-portal seed` scores about two-thirds of the demo portfolio and ranks some, through the services, once."""

from __future__ import annotations

from sqlmodel import Session, select

from portal.cli import main
from portal.core.audit import AuditEvent
from portal.core.db import make_engine
from portal.core.users import User
from portfolio.models import UseCase
from portfolio.scoring import standings
from portfolio.scoring_models import UseCaseScore
from portfolio.seed import REVIEWER


def test_the_seed_scores_two_thirds_of_the_portfolio_and_ranks_some(seeded_template, seeded, isolated_portal,
                                                                     capsys) -> None:
    assert "portfolio scores: 14 use case(s) scored, 5 ranked" in seeded_template.output
    assert main(["seed"]) == 0
    assert "portfolio scores: 0 use case(s) scored, 0 ranked" in capsys.readouterr().out
    engine = make_engine(f"sqlite:///{isolated_portal / 'var' / 'portal.db'}")
    with Session(engine) as session:
        use_cases = session.exec(select(UseCase)).all()
        ravi = session.exec(select(User).where(User.email == REVIEWER)).one()
        found = standings(session=session, actor=ravi, use_case_ids=[u.id for u in use_cases])
        scores = session.exec(select(UseCaseScore)).all()
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "use_case.scored")).all()
    scored = [s for s in found.values() if s.scored]
    assert len(scored) == 14 and 1 < len(use_cases) - len(scored) < len(use_cases) / 2
    assert sorted(s.priority for s in found.values() if s.priority) == [1, 2, 3, 4, 5]
    assert len(scores) == len(events) > len(scored)  # some use cases were scored twice: their history shows it
    owners = {u.id: u.owner_id for u in use_cases}
    assert all(s.by_id != owners[s.use_case_id] for s in scores)
