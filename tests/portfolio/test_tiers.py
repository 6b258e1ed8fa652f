"""The tier the portal proposes from the answers, and the reasons it shows."""

from __future__ import annotations

import pytest

from catalog.models import DataClassification as C
from catalog.models import RiskTier
from portfolio.models import Autonomy as A
from portfolio.models import PeopleAffected as P
from portfolio.tiers import RiskAnswers, propose_tier

TABLE = [
    # classification, people affected, human review, autonomy -> tier, reasons shown
    (C.PUBLIC, P.STAFF, True, A.ASSISTS, 1, ["uses public data at most", "reaches staff only",
                                             "a person reviews every output", "assists a person, who decides"]),
    (C.INTERNAL, P.STAFF, True, A.ASSISTS, 1, ["uses internal data at most", "reaches staff only",
                                               "a person reviews every output", "assists a person, who decides"]),
    (C.INTERNAL, P.STAFF, False, A.ASSISTS, 2, ["no person reviews every output"]),
    (C.INTERNAL, P.STAFF, True, A.ACTS, 2, ["acts on its own (reversible actions)"]),
    (C.PUBLIC, P.CUSTOMERS, True, A.ASSISTS, 2, ["its output reaches customers (a person reviews each one)"]),
    (C.INTERNAL, P.PUBLIC, True, A.ACTS, 2, ["its output reaches the public (a person reviews each one)",
                                             "acts on its own (reversible actions)"]),
    (C.CONFIDENTIAL, P.STAFF, True, A.ASSISTS, 3, ["uses confidential data"]),
    (C.RESTRICTED, P.STAFF, True, A.ASSISTS, 3, ["uses restricted data"]),
    (C.INTERNAL, P.STAFF, True, A.DECIDES, 3, ["makes automated decisions about people, money or access"]),
    (C.INTERNAL, P.CUSTOMERS, False, A.ASSISTS, 3, ["its output reaches customers with no person reviewing each one"]),
    (C.CONFIDENTIAL, P.PUBLIC, False, A.DECIDES, 3, [
        "uses confidential data", "makes automated decisions about people, money or access",
        "its output reaches the public with no person reviewing each one"]),
]


@pytest.mark.parametrize("classification, people, review, autonomy, tier, reasons", TABLE)
def test_the_tier_proposed_from_the_answers_with_its_reasons(classification, people, review, autonomy, tier,
                                                             reasons) -> None:
    proposal = propose_tier(RiskAnswers(classification, people, review, autonomy))
    assert proposal.tier == RiskTier(tier)
    assert list(proposal.reasons) == reasons


def test_no_tier_is_proposed_until_every_answer_is_given() -> None:
    answers = RiskAnswers(C.INTERNAL, None, False, None)
    assert propose_tier(answers) is None
    assert answers.missing() == ["people affected", "autonomy"]
