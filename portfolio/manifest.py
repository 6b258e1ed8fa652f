"""What the use-case portfolio adds to the portal: its pages, its tables, its audit events and its demo data."""

from __future__ import annotations

from sqlmodel import Session

from portal.core.features import (
    FeatureManifest,
    PageSpec,
    ScheduledJob,
    Section,
    SeedStep,
)
from portal.core.principals import Principal
from portal.core.settings import Settings
from portfolio import assessment_models, commands, links, models, scoring_models
from portfolio.events import PORTFOLIO_EVENTS, SCORING_EVENTS
from portfolio.links import use_case_dependents

SECTION = "Portfolio"


def _seed_portfolio(*, session: Session, actor: Principal, settings: Settings) -> str:
    from portfolio.seed import seed_portfolio

    return f"portfolio: {seed_portfolio(session=session, actor=actor)} use case(s) created"


def _seed_scores(*, session: Session, actor: Principal, settings: Settings) -> str:
    from portfolio.seed_scores import seed_scores

    scored, ranked = seed_scores(session=session)
    return f"portfolio scores: {scored} use case(s) scored, {ranked} ranked"


def _sweep(*, session: Session, settings: Settings) -> str:
    """Tier 1's self-service after changes elsewhere (a model approved, a prompt test passing, a course held)."""
    from portfolio.advance import advance_ready

    return f"{len(advance_ready(session=session))} tier-1 use case(s) moved to pilot"


MANIFEST = FeatureManifest(
    name="portfolio",
    sections=(Section(SECTION, order=600),),
    pages=(
        PageSpec("portfolio.py", title="Use-case portfolio", icon=":material/view_kanban:", section=SECTION,
                 help="Every AI use case by stage: a board, and a table with filters."),
        PageSpec("portfolio_propose.py", title="Propose a use case", icon=":material/add_circle:", section=SECTION,
                 help="Describe a use case; save a draft and finish it later."),
        # Reached from the board with ?use_case=<id>, so it stays out of the menu.
        PageSpec("use_case.py", title="Use case", icon=":material/lightbulb:", section=SECTION, hidden=True),
    ),
    commands=(commands.register,),
    table_modules=(models, links, scoring_models, assessment_models),
    model_dependents=(use_case_dependents,),
    audit_events=PORTFOLIO_EVENTS + SCORING_EVENTS,
    seed_steps=(SeedStep("portfolio", _seed_portfolio, after=("demo users", "catalog", "prompts", "courses")),
                SeedStep("portfolio scores", _seed_scores, after=("portfolio",))),
    scheduled_jobs=(ScheduledJob("portfolio sweep", _sweep,
                                 interval_s=lambda settings: settings.portfolio_sweep_interval_s),),
)
