"""The judge check: a catalog model scores an output 1–5 against a rubric, through the metered gateway like any call
(guarded under the prompt's classification; usage of the person running the tests, source "prompt test")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from catalog.models import CatalogModel, DataClassification
from guardrails.text import GuardrailError, describe
from metering.budgets import Payer
from metering.gateway import Call, MeteredAnswer, MeteredGateway
from metering.turn import whole_answer
from portal.core.gateway import GatewayError
from prompt_library.assertions import CheckKind, CheckOutcome, OutputCheck
from prompt_library.models import PROMPT_TEST

JUDGE_SYSTEM = ("You are a strict grader. Score the answer against the rubric from 1 (fails it) to 5 (fully meets "
                "it). Reply with one line 'SCORE: n' followed by one sentence saying why.")
_SCORE = re.compile(r"SCORE:\s*([1-5])\b", re.IGNORECASE)
MAX_ANSWER_CHARS = 8000  # the judge reads the start of very long answers
JUDGE_MAX_TOKENS = 200


@dataclass(frozen=True)
class Judgement:
    outcome: CheckOutcome
    call: MeteredAnswer | None  # None when the guardrails blocked it or the gateway failed (settled at no cost)


def judge_messages(rubric: str, output: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": JUDGE_SYSTEM},
            {"role": "user", "content": f"Rubric:\n{rubric}\n\nAnswer to grade:\n{output[:MAX_ANSWER_CHARS]}"}]


def parse_score(text: str) -> int | None:
    """The 1–5 score in a judge's reply, or None when it gave none."""
    match = _SCORE.search(text)
    return int(match.group(1)) if match else None


def judge(check: OutputCheck, output: str, *, gateway: MeteredGateway, model: CatalogModel, payer: Payer,
          classification: DataClassification) -> Judgement:
    """Ask `model` to score `output` (data of `classification`) against the check's rubric; passes at
    `pass_score` or more."""
    if check.kind is not CheckKind.JUDGE:
        raise ValueError("judge() grades judge checks only")
    call = Call(payer=payer, model=model, source=PROMPT_TEST, temperature=0.0,
                messages=judge_messages(str(check.value), output), max_tokens=JUDGE_MAX_TOKENS,
                classification=classification)
    try:
        answer = whole_answer(call, gateway)
    except GuardrailError as blocked:
        return Judgement(CheckOutcome(check, False, f"the judge {model.name} was not asked: "
                                      + describe(blocked.outcome, what="the answer to grade")), None)
    except GatewayError as error:
        return Judgement(CheckOutcome(check, False, f"the judge {model.name} could not be asked: {error.message}"),
                         None)
    score = parse_score(answer.result.text)
    if score is None:
        return Judgement(CheckOutcome(check, False, f"the judge {model.name} gave no 1–5 score"), answer)
    passed = score >= check.pass_score
    return Judgement(CheckOutcome(check, passed, f"judge {model.name}: {score}/5 (pass at {check.pass_score})"),
                     answer)
