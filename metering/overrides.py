"""Admins' exceptions to the configured budgets: one user's daily token quota, one team's monthly spend cap."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from portal.core.audit import record, utcnow
from portal.core.auth import HasRole, Permission, require
from portal.core.errors import InvalidInput, NotFound, StaleEdit
from portal.core.revisions import delete_if_unchanged, insert_new, save_if_unchanged
from portal.core.users import MAX_ORG_UNIT_LENGTH, User
from metering.events import BudgetOverrideCleared, BudgetOverrideSet
from metering.models import BudgetOverride, BudgetScope


NOUN = "budget override"


@dataclass(frozen=True)
class BudgetOverrideRow:
    """An override as the admin page lists it: whom it is for, in words."""

    override: BudgetOverride
    who: str  # the user's e-mail or the team's name


def user_budget_key(*, session: Session, email: str) -> str:
    """The override key of the user with this e-mail address."""
    email = email.strip().lower()
    user = session.exec(select(User).where(User.email == email)).first() if email else None
    if user is None:
        raise InvalidInput(f"No portal user has the e-mail address '{email}'.")
    return str(user.id)


def team_budget_key(team: str) -> str:
    """The override key of a team: its name with runs of white space made single."""
    return " ".join(team.split())


def set_budget_override(*, session: Session, actor: User, scope: BudgetScope | str, key: str,
                        daily_tokens: int | None = None, monthly_usd: float | None = None,
                        base_revision: int = 0) -> BudgetOverride:
    """Set (or change) a user's daily token quota or a team's monthly spend cap; 0 lifts the limit.

    `base_revision` is the override's revision the admin saw (0: they saw none); a stale one is refused."""
    require(actor, Permission.MANAGE_USERS)
    scope, key = _checked(session, scope, key)
    if scope == BudgetScope.USER and (daily_tokens is None or monthly_usd is not None):
        raise InvalidInput("A user's override sets their daily token quota; a monthly cap is set on their team.")
    if scope == BudgetScope.TEAM and (monthly_usd is None or daily_tokens is not None):
        raise InvalidInput("A team's override sets its monthly spend cap; daily quotas are set per user.")
    if (daily_tokens or 0) < 0 or (monthly_usd or 0) < 0:
        raise InvalidInput("A budget cannot be negative; 0 means no limit.")
    override = _find(session, scope, key)
    before = _snapshot(override) if override else None
    values = {"daily_tokens": daily_tokens, "monthly_usd": monthly_usd, "set_by": actor.id, "updated_at": utcnow()}
    if override is None and base_revision:
        raise StaleEdit(noun=NOUN, base=base_revision, latest=None)
    if override is None:
        override = BudgetOverride(scope=scope.value, key=key, **values)
        insert_new(session, override, noun=NOUN)
    else:
        save_if_unchanged(session, override, base_revision=base_revision, values=values, noun=NOUN)
    record(session, actor, BudgetOverrideSet(scope=scope, key=key, daily_tokens=override.daily_tokens,
                                             monthly_usd=override.monthly_usd, previous=before))
    return override


def clear_budget_override(*, session: Session, actor: User, scope: BudgetScope | str, key: str,
                          base_revision: int) -> None:
    """Remove an override the admin saw at `base_revision`: the configured budget applies again."""
    require(actor, Permission.MANAGE_USERS)
    scope, key = BudgetScope(scope), key.strip()
    override = _find(session, scope, key)
    if override is None:
        raise NotFound(f"There is no budget override for {scope.value} '{key}'.")
    removed = _snapshot(override)
    delete_if_unchanged(session, override, base_revision=base_revision, noun=NOUN)
    record(session, actor, BudgetOverrideCleared(scope=scope, key=key, removed=removed))


def list_budget_overrides(*, session: Session, actor: HasRole) -> list[BudgetOverrideRow]:
    """Every override, users' first, with the user's e-mail or the team's name."""
    require(actor, Permission.MANAGE_USERS)
    overrides = session.exec(select(BudgetOverride)
                             .order_by(col(BudgetOverride.scope).desc(), col(BudgetOverride.key))).all()
    user_ids = [int(o.key) for o in overrides if o.scope == BudgetScope.USER]
    emails = {str(u.id): u.email for u in session.exec(select(User).where(col(User.id).in_(user_ids))).all()}
    return [BudgetOverrideRow(override=o, who=emails.get(o.key, o.key) if o.scope == BudgetScope.USER else o.key)
            for o in overrides]


def _checked(session: Session, scope: BudgetScope | str, key: str) -> tuple[BudgetScope, str]:
    try:
        scope = BudgetScope(scope)
    except ValueError:
        raise InvalidInput(f"A budget override is for a user or a team, not '{scope}'.") from None
    key = team_budget_key(key)
    if scope == BudgetScope.USER and not (key.isdigit() and session.get(User, int(key))):
        raise InvalidInput(f"No portal user has the id '{key}'.")
    if not key or len(key) > MAX_ORG_UNIT_LENGTH:
        raise InvalidInput(f"A team name needs 1 to {MAX_ORG_UNIT_LENGTH} characters.")
    return scope, key


def _find(session: Session, scope: BudgetScope, key: str) -> BudgetOverride | None:
    return session.exec(select(BudgetOverride).where(BudgetOverride.scope == scope.value,
                                                     BudgetOverride.key == key)).first()


def _snapshot(override: BudgetOverride) -> dict[str, int | float | None]:
    return {"daily_tokens": override.daily_tokens, "monthly_usd": override.monthly_usd}
