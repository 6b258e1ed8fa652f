"""The portfolio's audit events: all about one use case (entity `use_case`), so its timeline is one query; an
import of a portfolio file is about the file (entity `portfolio`), each use case it changed has its own events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from portal.core.audit import Event, JSONDict


@dataclass(frozen=True)
class UseCaseEvent(Event):
    """Base: every portfolio event names the use case it is about."""

    entity_type: ClassVar[str] = "use_case"
    use_case_id: int
    title: str

    def entity_id(self) -> int:
        return self.use_case_id


@dataclass(frozen=True)
class UseCaseSaved(UseCaseEvent):
    """A use case was created or edited, as a draft or as a full proposal (the changed answers before and after)."""

    action: ClassVar[str] = "use_case.saved"
    draft: bool
    old: JSONDict
    new: JSONDict

    def summary(self) -> str:
        verb = "created" if not self.old else "edited"
        return f"{self.title} {verb}{' (draft)' if self.draft else ''}: " + (", ".join(self.new) or "no change")

    def before(self) -> JSONDict:
        return self.old

    def after(self) -> JSONDict:
        return {**self.new, "draft": self.draft}


@dataclass(frozen=True)
class UseCaseSubmitted(UseCaseEvent):
    """A draft was completed and submitted; the portal proposed a tier with its reasons."""

    action: ClassVar[str] = "use_case.submitted"
    proposed_tier: int
    reasons: list[str]

    def summary(self) -> str:
        return f"{self.title} submitted; proposed tier {self.proposed_tier}: {'; '.join(self.reasons)}"

    def after(self) -> JSONDict:
        return {"proposed_tier": self.proposed_tier, "reasons": self.reasons}


@dataclass(frozen=True)
class TierChanged(UseCaseEvent):
    """A reviewer set the tier above the proposal (or back towards it), with the reason."""

    action: ClassVar[str] = "use_case.tier_changed"
    from_tier: int
    to_tier: int
    reason: str

    def summary(self) -> str:
        return f"{self.title}: tier {self.from_tier} → {self.to_tier} ({self.reason})"

    def before(self) -> JSONDict:
        return {"tier": self.from_tier}

    def after(self) -> JSONDict:
        return {"tier": self.to_tier, "reason": self.reason}


@dataclass(frozen=True)
class StageMoveRequested(UseCaseEvent):
    action: ClassVar[str] = "use_case.move_requested"
    move_id: int
    from_stage: str
    to_stage: str
    tier: int

    def summary(self) -> str:
        return f"{self.title}: move {self.from_stage} → {self.to_stage} requested (tier {self.tier})"

    def after(self) -> JSONDict:
        return {"move_id": self.move_id, "from": self.from_stage, "to": self.to_stage, "tier": self.tier}


@dataclass(frozen=True)
class StageMoveApproved(UseCaseEvent):
    """One approval of a pending move; the move is applied when the tier's approvals are complete."""

    action: ClassVar[str] = "use_case.move_approved"
    move_id: int
    to_stage: str
    risk_reviewer: bool
    note: str

    def summary(self) -> str:
        who = "risk reviewer" if self.risk_reviewer else "reviewer"
        return f"{self.title}: move to {self.to_stage} approved by a {who}" + (f" ({self.note})" if self.note else "")

    def after(self) -> JSONDict:
        return {"move_id": self.move_id, "risk_reviewer": self.risk_reviewer, "note": self.note}


@dataclass(frozen=True)
class StageMoveRejected(UseCaseEvent):
    action: ClassVar[str] = "use_case.move_rejected"
    move_id: int
    to_stage: str
    reason: str

    def summary(self) -> str:
        return f"{self.title}: move to {self.to_stage} rejected ({self.reason})"

    def after(self) -> JSONDict:
        return {"move_id": self.move_id, "reason": self.reason}


@dataclass(frozen=True)
class StageMoved(UseCaseEvent):
    """The use case changed stage: on its own (tier 1, pause, retire) or once its approvals were complete."""

    action: ClassVar[str] = "use_case.stage_moved"
    from_stage: str
    to_stage: str
    tier: int
    reason: str
    approvers: list[str]

    def summary(self) -> str:
        how = f"approved by {', '.join(self.approvers)}" if self.approvers else "no approval needed"
        return f"{self.title}: {self.from_stage} → {self.to_stage} ({how})" + (f": {self.reason}" if self.reason else "")

    def before(self) -> JSONDict:
        return {"stage": self.from_stage}

    def after(self) -> JSONDict:
        return {"stage": self.to_stage, "tier": self.tier, "reason": self.reason, "approvers": self.approvers}


@dataclass(frozen=True)
class CriterionDecided(UseCaseEvent):
    """A reviewer who is not the owner signed or waived one graduation criterion of a move, saying why."""

    action: ClassVar[str] = "use_case.criterion_decided"
    criterion: str
    to_stage: str
    kind: str  # signed or waived
    reason: str

    def summary(self) -> str:
        return f"{self.title}: criterion {self.criterion} for {self.to_stage} {self.kind} ({self.reason})"

    def after(self) -> JSONDict:
        return {"criterion": self.criterion, "to_stage": self.to_stage, "kind": self.kind, "reason": self.reason}


@dataclass(frozen=True)
class OperationsSaved(UseCaseEvent):
    """The on-call owner, rollback plan or monitoring link changed."""

    action: ClassVar[str] = "use_case.operations_saved"
    old: JSONDict
    new: JSONDict

    def summary(self) -> str:
        return f"{self.title}: operations edited: " + (", ".join(self.new) or "no change")

    def before(self) -> JSONDict:
        return self.old

    def after(self) -> JSONDict:
        return self.new


@dataclass(frozen=True)
class PortfolioImported(Event):
    """A portfolio file was imported: the use cases it created and updated, and how many values it did not apply."""

    action: ClassVar[str] = "portfolio.imported"
    entity_type: ClassVar[str] = "portfolio"
    source: str
    created: list[str]
    updated: list[str]
    unchanged: int
    not_applied: int

    def entity_id(self) -> str:
        return self.source if len(self.source) <= 120 else "…" + self.source[-119:]

    def summary(self) -> str:
        return (f"{len(self.created)} created, {len(self.updated)} updated, {self.unchanged} unchanged, "
                f"{self.not_applied} value(s) not applied")

    def after(self) -> JSONDict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "not_applied": self.not_applied}


@dataclass(frozen=True)
class RiskAssessmentSaved(UseCaseEvent):
    """The owner saved the tier-3 risk assessment's answers, as a draft or submitted for a risk reviewer."""

    action: ClassVar[str] = "use_case.assessment_saved"
    revision: int
    questions_version: int
    status: str
    changed: list[str]  # the keys of the answers that changed

    def summary(self) -> str:
        what = "submitted for review" if self.status == "submitted" else "saved as a draft"
        return (f"{self.title}: risk assessment {what} (revision {self.revision}, questions version "
                f"{self.questions_version}): " + (", ".join(self.changed) or "no answer changed"))

    def after(self) -> JSONDict:
        return {"revision": self.revision, "questions_version": self.questions_version, "status": self.status,
                "changed": self.changed}


@dataclass(frozen=True)
class RiskAssessmentConcluded(UseCaseEvent):
    """A risk reviewer who is not the owner accepted the risk assessment or sent it back, with a note."""

    action: ClassVar[str] = "use_case.assessment_concluded"
    revision: int
    questions_version: int
    conclusion: str
    note: str

    def summary(self) -> str:
        return (f"{self.title}: risk assessment revision {self.revision} {self.conclusion}"
                + (f" ({self.note})" if self.note else ""))

    def after(self) -> JSONDict:
        return {"revision": self.revision, "questions_version": self.questions_version,
                "conclusion": self.conclusion, "note": self.note}


PORTFOLIO_EVENTS: tuple[type[Event], ...] = (UseCaseSaved, UseCaseSubmitted, TierChanged, StageMoveRequested,
                                             StageMoveApproved, StageMoveRejected, StageMoved, CriterionDecided,
                                             OperationsSaved, PortfolioImported, RiskAssessmentSaved,
                                             RiskAssessmentConcluded)


@dataclass(frozen=True)
class UseCaseScored(UseCaseEvent):
    """A reviewer scored the use case's value and feasibility (1–5 each, with reasons); it supersedes the last score."""

    action: ClassVar[str] = "use_case.scored"
    value: int
    feasibility: int
    value_reason: str
    feasibility_reason: str
    previous: JSONDict  # the score it supersedes ({} for the first)

    def summary(self) -> str:
        return f"{self.title}: scored value {self.value}, feasibility {self.feasibility}"

    def before(self) -> JSONDict:
        return self.previous

    def after(self) -> JSONDict:
        return {"value": self.value, "feasibility": self.feasibility, "value_reason": self.value_reason,
                "feasibility_reason": self.feasibility_reason}


@dataclass(frozen=True)
class PriorityDecided(UseCaseEvent):
    """A reviewer set the use case's rank in the CoE's order (None: off the list), with the decision note."""

    action: ClassVar[str] = "use_case.priority_decided"
    from_priority: int | None
    to_priority: int | None
    note: str

    def summary(self) -> str:
        rank = "off the priority list" if self.to_priority is None else f"priority {self.to_priority}"
        return f"{self.title}: {rank} ({self.note})"

    def before(self) -> JSONDict:
        return {"priority": self.from_priority}

    def after(self) -> JSONDict:
        return {"priority": self.to_priority, "note": self.note}


# Kept apart from PORTFOLIO_EVENTS so the prioritisation work merges without touching that list.
SCORING_EVENTS: tuple[type[Event], ...] = (UseCaseScored, PriorityDecided)
