"""Metering's audit events: an admin setting or clearing a budget override.

Their actions keep the `sandbox.` prefix they were recorded under before metering left the sandbox package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from metering.models import BudgetScope
from portal.core.audit import Event, JSONDict


@dataclass(frozen=True)
class _OverrideEvent(Event):
    """An event about one budget override, named `scope:key` (not an event type itself: it has no action)."""

    entity_type: ClassVar[str] = "budget_override"
    scope: BudgetScope
    key: str

    def entity_id(self) -> str:
        return f"{self.scope.value}:{self.key}"


@dataclass(frozen=True)
class BudgetOverrideSet(_OverrideEvent):
    """A user's daily token quota or a team's monthly spend cap was set (0 or None: no limit)."""

    action: ClassVar[str] = "sandbox.budget_override_set"
    before_field: ClassVar[str] = "previous"
    daily_tokens: int | None
    monthly_usd: float | None
    previous: JSONDict | None  # the override it replaced, if any

    def summary(self) -> str:
        if self.scope == BudgetScope.USER:
            limit = f"{self.daily_tokens:,} tokens a day" if self.daily_tokens else "no daily quota"
        else:
            limit = f"${self.monthly_usd:,.2f} a month" if self.monthly_usd else "no monthly cap"
        return f"{self.scope.value} {self.key}: {limit}"

    def after(self) -> JSONDict:
        return {"daily_tokens": self.daily_tokens, "monthly_usd": self.monthly_usd}


@dataclass(frozen=True)
class BudgetOverrideCleared(_OverrideEvent):
    """An override was removed: the configured budget applies again."""

    action: ClassVar[str] = "sandbox.budget_override_cleared"
    before_field: ClassVar[str] = "removed"
    removed: JSONDict

    def summary(self) -> str:
        return f"{self.scope.value} {self.key}: back to the configured budget"


METERING_EVENTS: tuple[type[Event], ...] = (BudgetOverrideSet, BudgetOverrideCleared)
