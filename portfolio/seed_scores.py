"""The demo prioritisation: scores and priorities for the seed portfolio, given as the demo reviewers through the
services (so each shows on its use case's timeline). A use case already scored or ranked is left alone."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict
from sqlmodel import Session, select

from portal.core.users import User
from portal.core.yaml_models import load_model
from portfolio.models import UseCase
from portfolio.scoring import decide_priority, prioritisation, score_use_case

SEED_FILE = Path(__file__).with_name("seed_scores.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SeedScore(_Strict):
    by: str
    value: int
    feasibility: int
    why_value: str
    why_feasible: str


class SeedPriority(_Strict):
    by: str
    rank: int
    note: str


class SeedEntry(_Strict):
    title: str
    scores: list[SeedScore] = []
    priority: SeedPriority | None = None


def seed_scores(*, session: Session, path: Path = SEED_FILE) -> tuple[int, int]:
    """Score and rank the seed file's use cases that have neither yet; returns how many were scored and ranked."""
    entries = load_model(path.read_text(encoding="utf-8"), list[SeedEntry], source=path.name)
    people = {u.email: u for u in session.exec(select(User)).all()}
    use_cases = {u.title: u for u in session.exec(select(UseCase).where(
        UseCase.title.in_([e.title for e in entries]))).all()}  # type: ignore[attr-defined]
    scored = ranked = 0
    for entry in entries:
        use_case = use_cases.get(entry.title)
        reviewers = {s.by for s in entry.scores} | ({entry.priority.by} if entry.priority else set())
        if use_case is None or not reviewers <= people.keys():
            continue  # the portfolio or the demo reviewers were not seeded
        shown = prioritisation(session=session, actor=people[next(iter(reviewers))], use_case_id=use_case.id)
        if entry.scores and not shown.scores:
            for version, s in enumerate(entry.scores):
                score_use_case(session=session, actor=people[s.by], use_case_id=use_case.id, value=s.value,
                               feasibility=s.feasibility, value_reason=s.why_value,
                               feasibility_reason=s.why_feasible, seen_version=version)
            scored += 1
        if entry.priority and not shown.decisions:
            decide_priority(session=session, actor=people[entry.priority.by], use_case_id=use_case.id,
                            priority=entry.priority.rank, note=entry.priority.note, seen_version=0)
            ranked += 1
    return scored, ranked
