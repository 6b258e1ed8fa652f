"""The tier-3 risk assessment's table: one per use case, its answers, where it stands and its latest conclusion."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from portal.core.audit import utcnow


class AssessmentStatus(StrEnum):
    DRAFT = "draft"  # the owner is still answering
    SUBMITTED = "submitted"  # waits for a risk reviewer
    ACCEPTED = "accepted"
    NEEDS_CHANGES = "needs changes"

    @property
    def label(self) -> str:
        return {"draft": "a draft", "submitted": "waiting for a risk reviewer", "accepted": "accepted",
                "needs changes": "sent back for changes"}[self.value]


class Conclusion(StrEnum):
    """What a risk reviewer concludes on a submitted assessment."""

    ACCEPTED = "accepted"
    NEEDS_CHANGES = "needs changes"


class RiskAssessment(SQLModel, table=True):
    """A use case's risk assessment; `revision` guards concurrent saves and a conclusion names the one it read."""

    __tablename__ = "use_case_risk_assessment"
    __table_args__ = (UniqueConstraint("use_case_id", name="uq_use_case_risk_assessment_use_case"),)

    id: int | None = Field(default=None, primary_key=True)
    use_case_id: int = Field(foreign_key="use_case.id")
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    questions_version: int  # the version of portfolio/risk_assessment.yaml the answers were given on
    status: str = Field(default=AssessmentStatus.DRAFT.value, max_length=20, index=True)
    revision: int = 1
    updated_by_id: int = Field(foreign_key="portal_user.id")
    updated_at: datetime = Field(default_factory=utcnow)
    # The latest conclusion; it stays shown after the owner edits again (status says whether it still holds).
    conclusion: str = Field(default="", max_length=20)  # a Conclusion, or "" before the first review
    concluded_by_id: int | None = Field(default=None, foreign_key="portal_user.id")
    concluded_at: datetime | None = None
    conclusion_note: str = Field(default="", max_length=1000)
    concluded_version: int | None = None  # the questions version the conclusion was given on
