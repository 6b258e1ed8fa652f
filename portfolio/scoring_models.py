"""Prioritisation tables: reviewers' value and feasibility scores, and the CoE's priority decisions, both as history.

Neither table is ever updated: a new score or decision is a new row, and the latest (highest `version` of the use
case) counts. `version` numbers a use case's rows 1, 2, 3…; a writer names the version it saw and inserts the next
one, so the unique key lets only one of two reviewers acting at once land (the other is told, nothing is lost).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.core.audit import utcnow

MIN_SCORE, MAX_SCORE = 1, 5


class UseCaseScore(SQLModel, table=True):
    """One reviewer's value and feasibility score (1–5 each, with a short reason) of a use case."""

    __tablename__ = "use_case_score"
    __table_args__ = (UniqueConstraint("use_case_id", "version", name="uq_use_case_score_version"),)

    id: int | None = Field(default=None, primary_key=True)
    use_case_id: int = Field(foreign_key="use_case.id")
    version: int  # 1 for the use case's first score; the highest counts
    value: int
    value_reason: str = Field(max_length=300)
    feasibility: int
    feasibility_reason: str = Field(max_length=300)
    by_id: int = Field(foreign_key="portal_user.id")
    at: datetime = Field(default_factory=utcnow)


class PriorityDecision(SQLModel, table=True):
    """A reviewer's decision on a use case's place in the CoE's order: a rank (1 is done first) or off the list.

    The use case's priority is the rank of its latest decision. Ranks are positions the CoE chose, not a renumbered
    list: setting one use case to 2 does not move the others (that would record decisions nobody took), so two use
    cases may share a rank; the order breaks such ties by the latest value × feasibility.
    """

    __tablename__ = "use_case_priority_decision"
    __table_args__ = (UniqueConstraint("use_case_id", "version", name="uq_use_case_priority_decision_version"),)

    id: int | None = Field(default=None, primary_key=True)
    use_case_id: int = Field(foreign_key="use_case.id")
    version: int
    priority: int | None = None  # None takes the use case off the ordered list
    note: str = Field(max_length=1000)
    by_id: int = Field(foreign_key="portal_user.id")
    at: datetime = Field(default_factory=utcnow)
