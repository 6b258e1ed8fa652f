"""Lineage: the templates with their reuse, each template's forks, and its reuse per month (SQL aggregates)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from catalog.service import Dependent
from portal.core.auth import HasRole, Permission, require
from portal.core.db import LIKE_ESCAPE, contains_pattern, distinct_values
from portal.core.users import User
from templates.models import TemplateEntry, TemplateFork


@dataclass(frozen=True)
class TemplateRow:
    """A template as the list shows it, with how much it was reused."""

    entry: TemplateEntry
    forks: int
    teams: int


def list_templates(*, session: Session, actor: HasRole, search: str = "", category: str = "",
                   limit: int = 100, offset: int = 0) -> tuple[list[TemplateRow], int]:
    """One page of templates, most forked first, with their fork and team counts; and how many match."""
    require(actor, Permission.BROWSE)
    conditions = []
    if search.strip():
        pattern = contains_pattern(search.strip().lower())
        conditions.append(or_(*(func.lower(c).like(pattern, escape=LIKE_ESCAPE) for c in (
            TemplateEntry.name, TemplateEntry.display_name, TemplateEntry.summary, TemplateEntry.category))))
    if category:
        conditions.append(TemplateEntry.category == category)
    reuse = (select(TemplateFork.template_id, func.count().label("forks"),
                    func.count(func.distinct(TemplateFork.team)).label("teams"))
             .group_by(TemplateFork.template_id).subquery())
    forks, teams = func.coalesce(reuse.c.forks, 0), func.coalesce(reuse.c.teams, 0)
    rows = session.exec(
        # The README and questions are for one template's page, not for the list.
        select(TemplateEntry, forks, teams).options(defer(TemplateEntry.readme), defer(TemplateEntry.questions))
        .outerjoin(reuse, reuse.c.template_id == TemplateEntry.id)
        .where(*conditions).order_by(forks.desc(), col(TemplateEntry.display_name)).limit(limit).offset(offset)
    ).all()
    total = session.exec(select(func.count()).select_from(TemplateEntry).where(*conditions)).one()
    return [TemplateRow(entry=e, forks=f, teams=t) for e, f, t in rows], total


def template_categories(*, session: Session) -> list[str]:
    """The categories in use, for the list's filter (one index probe per category)."""
    return distinct_values(session, TemplateEntry.__table__.c.category)


@dataclass(frozen=True)
class ForkRow:
    fork: TemplateFork
    user_email: str
    update_available: bool


def template_forks(*, session: Session, actor: HasRole, template: TemplateEntry, limit: int = 50) -> list[ForkRow]:
    """The template's newest forks with who made them; 'update available' when made from an older version."""
    require(actor, Permission.BROWSE)
    rows = session.exec(
        select(TemplateFork, User.email).join(User, col(User.id) == TemplateFork.user_id)
        .where(TemplateFork.template_id == template.id)
        .order_by(col(TemplateFork.created_at).desc(), col(TemplateFork.id).desc()).limit(limit)
    ).all()
    return [ForkRow(fork=f, user_email=email, update_available=f.template_version != template.version)
            for f, email in rows]


@dataclass(frozen=True)
class Reuse:
    forks: int
    teams: int
    departments: int
    per_month: list[tuple[str, int]]  # ("2026-11", forks), oldest first


def reuse_figures(*, session: Session, actor: HasRole, template: TemplateEntry) -> Reuse:
    """Forks in total and per month, and how many teams and departments the template reached."""
    require(actor, Permission.BROWSE)
    where = TemplateFork.template_id == template.id
    forks, teams, departments = session.exec(select(
        func.count(), func.count(func.distinct(TemplateFork.team)),
        func.count(func.distinct(TemplateFork.department))).where(where)).one()
    month = _month(session, TemplateFork.created_at).label("month")
    per_month = session.exec(select(month, func.count()).where(where).group_by(month).order_by(month)).all()
    return Reuse(forks=forks, teams=teams, departments=departments, per_month=[(m, n) for m, n in per_month])


def _month(session: Session, column) -> object:
    """'YYYY-MM' of a timestamp column, in the database's own dialect."""
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m", column)
    return func.to_char(column, "YYYY-MM")


# Answers that name a catalog model in the built-in templates; a model card lists the forks that chose it.
MODEL_ANSWER_KEYS = ("model", "embedding_model")


def template_dependents(*, session: Session, model_name: str) -> list[Dependent]:
    """Templates whose forks chose the model (as their model or embedding model), with forks and teams, in SQL."""
    chose = or_(*(TemplateFork.answers[key].as_string() == model_name for key in MODEL_ANSWER_KEYS))
    rows = session.exec(
        select(TemplateEntry.display_name, func.count(), func.count(func.distinct(TemplateFork.team)))
        .join(TemplateEntry, col(TemplateEntry.id) == TemplateFork.template_id).where(chose)
        .group_by(TemplateEntry.display_name).order_by(func.count().desc())
    ).all()
    return [Dependent(kind="template", name=name, detail=f"{forks} fork(s) in {teams} team(s)")
            for name, forks, teams in rows]
