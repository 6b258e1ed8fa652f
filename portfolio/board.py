"""Reading the portfolio: the rows of the board and table with their filters, drafts, and what waits for approval."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from catalog.models import USABLE_STATUSES, CatalogModel, RiskTier
from portal.core.auth import Permission, require
from portal.core.db import distinct_values
from portal.core.principals import Principal
from portal.core.users import User
from portfolio.models import MoveState, Stage, StageMove, UseCase
from prompt_library.models import Prompt, PromptStatus
from templates.models import TemplateEntry
from templates.registry import BUILTIN_DIR

ROW_LIMIT = 2000


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
    query = (select(UseCase, owner.email, StageMove.to_stage)
             .join(owner, col(owner.id) == UseCase.owner_id, isouter=True)
             .join(StageMove, (col(StageMove.use_case_id) == UseCase.id)
                   & (col(StageMove.state) == MoveState.PENDING.value), isouter=True)
             .where(col(UseCase.draft).is_(False)))
    if filters.stage:
        query = query.where(UseCase.stage == Stage(filters.stage).value)
    if filters.tier:
        query = query.where(UseCase.tier == RiskTier(filters.tier))
    if filters.department:
        query = query.where(UseCase.department == filters.department)
    if filters.owner_email:
        query = query.where(owner.email == filters.owner_email)
    rows = session.exec(query.order_by(col(UseCase.id).desc()).limit(limit)).all()
    return [PortfolioRow(use_case, email or "", to_stage or "") for use_case, email, to_stage in rows]


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


def link_choices(*, session: Session, actor: Principal) -> dict[str, list[str]]:
    """The names a use case may link to: usable models, published prompts, registered and built-in templates."""
    require(actor, Permission.BROWSE)
    models = session.exec(select(CatalogModel.name).where(
        col(CatalogModel.status).in_([s.value for s in USABLE_STATUSES])).order_by(CatalogModel.name)).all()
    prompts = session.exec(select(Prompt.slug).where(Prompt.status == PromptStatus.PUBLISHED.value)
                           .order_by(Prompt.slug)).all()
    registered = set(session.exec(select(TemplateEntry.name)).all())
    builtin = {path.name for path in BUILTIN_DIR.iterdir() if path.is_dir()}
    return {"models": list(models), "prompts": list(prompts), "templates": sorted(registered | builtin)}
