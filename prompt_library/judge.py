"""The judge check: a catalog model scores an output 1–5 against a rubric, through the gateway."""

from __future__ import annotations

import re
from dataclasses import dataclass

from portal.core.gateway import Caller, ChatResult, GatewayClient, GatewayError
from prompt_library.assertions import CheckKind, CheckOutcome, OutputCheck

JUDGE_SYSTEM = ("You are a strict grader. Score the answer against the rubric from 1 (fails it) to 5 (fully meets "
                "it). Reply with one line 'SCORE: n' followed by one sentence saying why.")
_SCORE = re.compile(r"SCORE:\s*([1-5])\b", re.IGNORECASE)
MAX_ANSWER_CHARS = 8000  # the judge reads the start of very long answers


@dataclass(frozen=True)
class Judgement:
    outcome: CheckOutcome
    call: ChatResult | None  # None when the gateway failed; the caller records usage from it


def judge_messages(rubric: str, output: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": JUDGE_SYSTEM},
            {"role": "user", "content": f"Rubric:\n{rubric}\n\nAnswer to grade:\n{output[:MAX_ANSWER_CHARS]}"}]


def parse_score(text: str) -> int | None:
    """The 1–5 score in a judge's reply, or None when it gave none."""
    match = _SCORE.search(text)
    return int(match.group(1)) if match else None


def judge(check: OutputCheck, output: str, *, gateway: GatewayClient, model: str,
          caller: Caller | None = None) -> Judgement:
    """Ask `model` to score `output` against the check's rubric; passes at `pass_score` or more."""
    if check.kind is not CheckKind.JUDGE:
        raise ValueError("judge() grades judge checks only")
    try:
        result = gateway.chat(model=model, messages=judge_messages(str(check.value), output), caller=caller,
                              temperature=0.0, max_tokens=200)
    except GatewayError as error:
        return Judgement(CheckOutcome(check, False, f"the judge {model} could not be asked: {error.message}"), None)
    score = parse_score(result.text)
    if score is None:
        return Judgement(CheckOutcome(check, False, f"the judge {model} gave no 1–5 score"), result)
    passed = score >= check.pass_score
    return Judgement(CheckOutcome(check, passed, f"judge {model}: {score}/5 (pass at {check.pass_score})"), result)
