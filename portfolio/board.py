"""Reading the portfolio: the rows of the board and table with their filters, drafts, and what waits for approval."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from catalog.models import USABLE_STATUSES, CatalogModel, RiskTier
from portal.core.auth import Permission, require
from portal.core.db import distinct_values
from portal.core.principals import Principal
from portal.core.users import User
from portfolio.models import FORWARD_STAGES, MoveState, Stage, StageMove, UseCase
from prompt_library.models import Prompt, PromptStatus
from sandbox.documents.models import SandboxDocument
from templates.models import TemplateEntry, TemplateFork
from training.models import Course
from templates.registry import BUILTIN_DIR

ROW_LIMIT = 2000
CARDS_PER_LANE = 10  # a lane shows its newest; its count covers all (each card costs the page ~4 elements)
FORK_CHOICES = 200  # the newest forks of the actor and their team


@dataclass(frozen=True)
class PortfolioFilter:
    """What the table filters on; empty fields match everything."""

    stage: Stage | None = None
    tier: RiskTier | None = None
    department: str = ""
    owner_email: str = ""


@dataclass(frozen=True)
class PortfolioRow:
    use_case: UseCase
    owner: str  # e-mail, "" when none is named yet
    waiting_for: str  # the stage a pending move asks for, "" when none


def portfolio_rows(*, session: Session, actor: Principal, filters: PortfolioFilter = PortfolioFilter(),
                   limit: int = ROW_LIMIT) -> list[PortfolioRow]:
    """Submitted use cases matching the filters, newest first, with owner and any pending move."""
    require(actor, Permission.BROWSE)
    owner = aliased(User)
    query = _filtered(_with_owner_and_move(select(UseCase, owner.email, StageMove.to_stage), owner), filters, owner)
    rows = session.exec(query.order_by(col(UseCase.id).desc()).limit(limit)).all()
    return [PortfolioRow(use_case, email or "", to_stage or "") for use_case, email, to_stage in rows]


def portfolio_count(*, session: Session, actor: Principal, filters: PortfolioFilter = PortfolioFilter()) -> int:
    """How many submitted use cases match the filters, counted in SQL."""
    require(actor, Permission.BROWSE)
    return session.exec(_filtered(select(func.count()).select_from(UseCase), filters, aliased(User),
                                  join_owner=True)).one()


@dataclass(frozen=True)
class Lane:
    """One column of the board: its stages, how many use cases it holds, and the newest of them."""

    title: str
    stages: tuple[Stage, ...]
    count: int
    rows: list[PortfolioRow]


# The board's columns: the path a use case walks, then the stopped ones together.
LANES = (*((s.value, (s,)) for s in FORWARD_STAGES), ("paused / retired", (Stage.PAUSED, Stage.RETIRED)))


def board_lanes(*, session: Session, actor: Principal, filters: PortfolioFilter = PortfolioFilter(),
                per_lane: int = CARDS_PER_LANE) -> list[Lane]:
    """The board: each lane's count and its newest `per_lane` use cases, counted and cut in SQL."""
    require(actor, Permission.BROWSE)
    owner = aliased(User)
    per_stage = dict(session.exec(_filtered(select(UseCase.stage, func.count()).select_from(UseCase), filters,
                                            owner, join_owner=True).group_by(UseCase.stage)).all())
    # Ranked per stage, not per lane: ix_use_case_board (draft, stage, id) then serves it without a sort.
    ranked = _filtered(select(UseCase.id, func.row_number().over(partition_by=UseCase.stage,
                                                                 order_by=col(UseCase.id).desc()).label("rank"))
                       .select_from(UseCase), filters, owner, join_owner=True).subquery()
    newest = select(ranked.c.id).where(ranked.c.rank <= per_lane)
    query = _with_owner_and_move(select(UseCase, owner.email, StageMove.to_stage), owner)
    rows = session.exec(query.where(col(UseCase.id).in_(newest)).order_by(col(UseCase.id).desc())).all()
    shown = [PortfolioRow(use_case, email or "", to_stage or "") for use_case, email, to_stage in rows]
    return [Lane(title, stages, sum(per_stage.get(s.value, 0) for s in stages),
                 [r for r in shown if Stage(r.use_case.stage) in stages][:per_lane])
            for title, stages in LANES]


def _with_owner_and_move(query, owner):
    """The query joined to the owner's e-mail and any pending move."""
    return (query.join(owner, col(owner.id) == UseCase.owner_id, isouter=True)
            .join(StageMove, (col(StageMove.use_case_id) == UseCase.id)
                  & (col(StageMove.state) == MoveState.PENDING.value), isouter=True))


def _filtered(query, filters: PortfolioFilter, owner, *, join_owner: bool = False):
    """Submitted use cases only, narrowed by the filters (joining the owner when it filters on them)."""
    query = query.where(col(UseCase.draft).is_(False))
    if filters.stage:
        query = query.where(UseCase.stage == Stage(filters.stage).value)
    if filters.tier:
        query = query.where(UseCase.tier == RiskTier(filters.tier))
    if filters.department:
        query = query.where(UseCase.department == filters.department)
    if filters.owner_email:
        if join_owner:
            query = query.join(owner, col(owner.id) == UseCase.owner_id)
        query = query.where(owner.email == filters.owner_email)
    return query


def portfolio_facets(*, session: Session, actor: Principal) -> tuple[list[str], list[str]]:
    """The departments and owner e-mails the filters offer."""
    require(actor, Permission.BROWSE)
    departments = sorted(d for d in distinct_values(session, UseCase.__table__.c.department) if d)
    owners = session.exec(select(User.email).join(UseCase, col(UseCase.owner_id) == User.id).distinct()).all()
    return departments, sorted(owners)


def my_drafts(*, session: Session, actor: User) -> list[UseCase]:
    """The drafts the actor proposed or owns, newest first."""
    require(actor, Permission.BROWSE)
    return list(session.exec(select(UseCase).where(
        col(UseCase.draft).is_(True), (UseCase.proposed_by_id == actor.id) | (UseCase.owner_id == actor.id),
    ).order_by(col(UseCase.updated_at).desc())).all())


def user_emails(*, session: Session, actor: Principal) -> list[str]:
    """Active users' e-mails, for choosing an owner."""
    require(actor, Permission.BROWSE)
    return list(session.exec(select(User.email).where(col(User.active).is_(True)).order_by(User.email)).all())


def link_choices(*, session: Session, actor: User) -> dict[str, dict[str, str]]:
    """What a use case may link to, ref -> label, by form field: usable models, published prompts, templates,
    the actor's and their team's forks, courses, and the actor's sandbox documents."""
    require(actor, Permission.BROWSE)
    models = session.exec(select(CatalogModel.name).where(
        col(CatalogModel.status).in_([s.value for s in USABLE_STATUSES])).order_by(CatalogModel.name)).all()
    prompts = session.exec(select(Prompt.slug).where(Prompt.status == PromptStatus.PUBLISHED.value)
                           .order_by(Prompt.slug)).all()
    registered = set(session.exec(select(TemplateEntry.name)).all())
    builtin = {path.name for path in BUILTIN_DIR.iterdir() if path.is_dir()}
    mine = col(TemplateFork.user_id) == actor.id
    forks = session.exec(select(TemplateFork.id, TemplateFork.project_name, TemplateEntry.name)
                         .join(TemplateEntry, col(TemplateEntry.id) == TemplateFork.template_id)
                         .where(mine | (col(TemplateFork.team) == actor.team) if actor.team else mine)
                         .order_by(col(TemplateFork.id).desc()).limit(FORK_CHOICES)).all()
    courses = session.exec(select(Course.slug).order_by(Course.slug)).all()
    documents = session.exec(select(SandboxDocument.id, SandboxDocument.file_name)
                             .where(SandboxDocument.owner_id == actor.id).order_by(col(SandboxDocument.id))).all()
    return {"models": _same(models), "prompts": _same(prompts), "templates": _same(sorted(registered | builtin)),
            "forks": {str(i): f"{project} (fork {i} of {template})" for i, project, template in forks},
            "courses": _same(courses), "documents": {str(i): f"{name} (document {i})" for i, name in documents}}


def _same(names) -> dict[str, str]:
    return {name: name for name in names}
