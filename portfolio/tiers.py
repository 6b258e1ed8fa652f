"""The risk tier the portal proposes from a use case's answers, with the reasons a person reads."""

from __future__ import annotations

from dataclasses import dataclass

from catalog.models import DataClassification, RiskTier
from portfolio.models import Autonomy, PeopleAffected


@dataclass(frozen=True)
class RiskAnswers:
    """The answers the tier depends on; None = not answered yet."""

    classification: DataClassification | None
    people_affected: PeopleAffected | None
    human_review: bool | None
    autonomy: Autonomy | None

    def missing(self) -> list[str]:
        """The questions still unanswered, named as the form names them."""
        names = {"classification": "data classification", "people_affected": "people affected",
                 "human_review": "human review of every output", "autonomy": "autonomy"}
        return [label for field, label in names.items() if getattr(self, field) is None]


@dataclass(frozen=True)
class TierProposal:
    tier: RiskTier
    reasons: tuple[str, ...]


def propose_tier(answers: RiskAnswers) -> TierProposal | None:
    """Tier 3 for confidential data, automated decisions or unreviewed output reaching customers; tier 1 only
    for internal, staff-only, human-reviewed assistance; tier 2 in between. None until every answer is given."""
    if answers.missing():
        return None
    full = _full_review_reasons(answers)
    if full:
        return TierProposal(RiskTier.FULL_REVIEW, tuple(full))
    light = _light_review_reasons(answers)
    if light:
        return TierProposal(RiskTier.LIGHT_REVIEW, tuple(light))
    return TierProposal(RiskTier.SELF_SERVICE, (
        f"uses {answers.classification.label} data at most", "reaches staff only",
        "a person reviews every output", "assists a person, who decides"))


def _full_review_reasons(a: RiskAnswers) -> list[str]:
    reasons = []
    if a.classification >= DataClassification.CONFIDENTIAL:
        reasons.append(f"uses {a.classification.label} data")
    if a.autonomy == Autonomy.DECIDES:
        reasons.append("makes automated decisions about people, money or access")
    if a.people_affected != PeopleAffected.STAFF and not a.human_review:
        reasons.append(f"its output reaches {a.people_affected.label} with no person reviewing each one")
    return reasons


def _light_review_reasons(a: RiskAnswers) -> list[str]:
    reasons = []
    if a.people_affected != PeopleAffected.STAFF:
        reasons.append(f"its output reaches {a.people_affected.label} (a person reviews each one)")
    if not a.human_review:
        reasons.append("no person reviews every output")
    if a.autonomy == Autonomy.ACTS:
        reasons.append("acts on its own (reversible actions)")
    return reasons
