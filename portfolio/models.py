"""Portfolio tables: one row per AI use case, and the stage moves waiting for (or given) their approvals."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from catalog.models import DataClassification, IntEnumColumn, RiskTier
from portal.core.audit import utcnow
from portfolio.keys import MAX_KEY, random_key


class Stage(StrEnum):
    """Where a use case is; see portfolio.stages for the moves between them."""

    IDEA = "idea"
    ASSESSMENT = "assessment"
    PILOT = "pilot"
    PRODUCTION = "production"
    SCALED = "scaled"
    PAUSED = "paused"
    RETIRED = "retired"

    @property
    def label(self) -> str:
        return self.value


# The path a use case walks; paused and retired sit beside it.
FORWARD_STAGES = (Stage.IDEA, Stage.ASSESSMENT, Stage.PILOT, Stage.PRODUCTION, Stage.SCALED)


class PeopleAffected(StrEnum):
    """Whom the use case's output reaches."""

    STAFF = "staff"
    CUSTOMERS = "customers"
    PUBLIC = "public"

    @property
    def label(self) -> str:
        return {"staff": "staff only", "customers": "customers", "public": "the public"}[self.value]


class Autonomy(StrEnum):
    """How far the system acts on its own."""

    ASSISTS = "assists"  # drafts or suggests; a person decides and acts
    ACTS = "acts"  # takes actions on its own that can be undone
    DECIDES = "decides"  # makes decisions about people, money or access without a person

    @property
    def label(self) -> str:
        return AUTONOMY_LABELS[self]


AUTONOMY_LABELS = {Autonomy.ASSISTS: "assists a person, who decides",
                   Autonomy.ACTS: "acts on its own (reversible actions)",
                   Autonomy.DECIDES: "makes automated decisions about people, money or access"}


class ValueUnit(StrEnum):
    MONEY = "money"  # in the company's reporting currency, per year
    HOURS = "hours"  # hours saved per year


class MoveState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"  # and applied to the use case
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # the use case moved on another way (paused, retired) before a decision


class UseCase(SQLModel, table=True):
    """One AI use case: the problem, who owns it, what it is worth, its risk answers and where it stands."""

    __tablename__ = "use_case"
    # (draft, stage, id) serves the board: each lane's count and newest cards (portfolio.board.board_lanes).
    __table_args__ = (Index("ix_use_case_stage_tier", "stage", "tier"),
                      Index("ix_use_case_board", "draft", "stage", "id"))

    id: int | None = Field(default=None, primary_key=True)
    # Set from the first title and never changed: what an exported portfolio file names the use case by.
    key: str = Field(default_factory=random_key, max_length=MAX_KEY, unique=True, index=True)
    title: str = Field(max_length=200, index=True)
    problem: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    who_has_it: str = Field(default="", max_length=500)
    department: str = Field(default="", max_length=120, index=True)
    team: str = Field(default="", max_length=120)
    owner_id: int | None = Field(default=None, foreign_key="portal_user.id", index=True)
    proposed_by_id: int = Field(foreign_key="portal_user.id", index=True)
    value_amount: float | None = None
    value_unit: str = Field(default=ValueUnit.MONEY.value, max_length=10)
    value_assumption: str = Field(default="", max_length=1000)
    classification: DataClassification | None = Field(default=None, sa_type=IntEnumColumn(DataClassification))
    people_affected: str | None = Field(default=None, max_length=20)
    human_review: bool | None = None
    autonomy: str | None = Field(default=None, max_length=20)
    draft: bool = Field(default=True, index=True)
    stage: str = Field(default=Stage.IDEA.value, max_length=20)
    paused_from: str | None = Field(default=None, max_length=20)  # the stage a resume returns to
    stage_reason: str = Field(default="", max_length=1000)  # why it was paused or retired
    proposed_tier: RiskTier | None = Field(default=None, sa_type=IntEnumColumn(RiskTier))
    reviewer_tier: RiskTier | None = Field(default=None, sa_type=IntEnumColumn(RiskTier))
    tier_reason: str = Field(default="", max_length=1000)  # the reviewer's reason for raising it
    # The tier that decides the path: the higher of the proposal and a reviewer's raise (kept for filtering).
    tier: RiskTier | None = Field(default=None, sa_type=IntEnumColumn(RiskTier))
    # Operations readiness, checked by the graduation criteria (portfolio/criteria.yaml).
    on_call_owner: str = Field(default="", max_length=200)
    rollback_plan: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    monitoring_url: str = Field(default="", max_length=500)
    revision: int = 1
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    def answers(self) -> dict[str, Any]:
        """The row's own fields an edit's audit event compares (portfolio.links adds the links)."""
        return {name: _plain(getattr(self, name)) for name in COLUMN_FIELDS}


def _plain(value: Any) -> Any:
    return int(value) if isinstance(value, DataClassification) else value


# What the propose form edits (draft or not); the rest is the portfolio's own bookkeeping.
COLUMN_FIELDS = ("title", "problem", "who_has_it", "department", "team", "owner_id", "value_amount", "value_unit",
                 "value_assumption", "classification", "people_affected", "human_review", "autonomy")
# The links, kept in portfolio.links' table, one list of names (or ids) per kind.
LINK_FIELDS = ("models", "prompts", "templates", "forks", "courses", "documents")
EDITABLE_FIELDS = COLUMN_FIELDS + LINK_FIELDS


class StageMove(SQLModel, table=True):
    """A requested move of a use case to another stage, and its decision; `version` guards concurrent decisions."""

    __tablename__ = "use_case_stage_move"
    __table_args__ = (Index("ix_use_case_stage_move_case_state", "use_case_id", "state"),)

    id: int | None = Field(default=None, primary_key=True)
    use_case_id: int = Field(foreign_key="use_case.id")
    from_stage: str = Field(max_length=20)
    to_stage: str = Field(max_length=20)
    requested_by_id: int = Field(foreign_key="portal_user.id")
    reason: str = Field(default="", max_length=1000)
    state: str = Field(default=MoveState.PENDING.value, max_length=20, index=True)
    version: int = 1  # each approval or decision moves it on; a decision names the version it saw
    decided_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class MoveApproval(SQLModel, table=True):
    """One reviewer's approval of a pending stage move (a rejection closes the move instead)."""

    __tablename__ = "use_case_move_approval"
    __table_args__ = (UniqueConstraint("move_id", "approver_id", name="uq_use_case_move_approval"),)

    id: int | None = Field(default=None, primary_key=True)
    move_id: int = Field(foreign_key="use_case_stage_move.id", index=True)
    approver_id: int = Field(foreign_key="portal_user.id")
    risk_reviewer: bool = False  # the approver held review_risk when approving
    note: str = Field(default="", max_length=1000)
    at: datetime = Field(default_factory=utcnow)


class CriterionKind(StrEnum):
    SIGNED = "signed"  # a reviewer who is not the owner confirms a criterion no data can check
    WAIVED = "waived"  # a reviewer who is not the owner lets the move go without it, saying why


class CriterionDecision(SQLModel, table=True):
    """A sign-off or waiver of one graduation criterion for one move of a use case (the latest one counts)."""

    __tablename__ = "use_case_criterion_decision"
    __table_args__ = (Index("ix_use_case_criterion_decision_case", "use_case_id", "to_stage", "criterion"),)

    id: int | None = Field(default=None, primary_key=True)
    use_case_id: int = Field(foreign_key="use_case.id")
    criterion: str = Field(max_length=80)
    to_stage: str = Field(max_length=20)
    kind: str = Field(max_length=20)
    by_id: int = Field(foreign_key="portal_user.id")
    reason: str = Field(default="", max_length=1000)
    at: datetime = Field(default_factory=utcnow)
