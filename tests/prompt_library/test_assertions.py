"""Every check type, passing and failing, and the arguments each one refuses."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from prompt_library.assertions import CheckKind, OutputCheck, evaluate, evaluate_all

SCHEMA = {"type": "object", "required": ["total"], "properties": {"total": {"type": "number"}}}

CASES = [
    # kind, value, output, passes
    (CheckKind.CONTAINS, "refund", "We will issue a Refund today.", True),
    (CheckKind.CONTAINS, "refund", "We will issue a credit note.", False),
    (CheckKind.NOT_CONTAINS, "password", "Here is the summary.", True),
    (CheckKind.NOT_CONTAINS, "password", "Your Password is hunter2", False),
    (CheckKind.REGEX, r"INV-\d{4}", "Invoice INV-2024 is overdue", True),
    (CheckKind.REGEX, r"INV-\d{4}", "Invoice 2024 is overdue", False),
    (CheckKind.EQUALS, "positive", "  Positive\n", True),
    (CheckKind.EQUALS, "positive", "mostly positive", False),
    (CheckKind.VALID_JSON, None, '```json\n{"a": 1}\n```', True),
    (CheckKind.VALID_JSON, None, "{'a': 1}", False),
    (CheckKind.JSON_SCHEMA, SCHEMA, '{"total": 12.5}', True),
    (CheckKind.JSON_SCHEMA, SCHEMA, '{"total": "twelve"}', False),
    (CheckKind.JSON_SCHEMA, SCHEMA, "total: 12", False),
    (CheckKind.MAX_LENGTH, 10, "short", True),
    (CheckKind.MAX_LENGTH, 10, "far too long for the limit", False),
]


@pytest.mark.parametrize(("kind", "value", "output", "passes"), CASES)
def test_each_check_passes_and_fails_on_the_right_output(kind, value, output, passes):
    outcome = evaluate(OutputCheck(kind=kind, value=value), output)
    assert outcome.passed is passes
    assert outcome.detail


def test_case_sensitive_contains_respects_case():
    check = OutputCheck(kind=CheckKind.CONTAINS, value="Refund", case_sensitive=True)
    assert not evaluate(check, "refund issued").passed
    assert evaluate(check, "Refund issued").passed


def test_schema_failure_names_the_field():
    outcome = evaluate(OutputCheck(kind=CheckKind.JSON_SCHEMA, value=SCHEMA), '{"total": "x"}')
    assert outcome.detail.startswith("total:")


def test_evaluate_all_leaves_judge_checks_to_the_judge():
    checks = [OutputCheck(kind=CheckKind.CONTAINS, value="a"), OutputCheck(kind=CheckKind.JUDGE, value="Polite?")]
    outcomes = evaluate_all(checks, "a reply")
    assert [o.check.kind for o in outcomes] == [CheckKind.CONTAINS]
    with pytest.raises(ValueError, match="judge"):
        evaluate(checks[1], "a reply")


@pytest.mark.parametrize(("kind", "value", "message"), [
    (CheckKind.CONTAINS, None, "needs a text to look for"),
    (CheckKind.CONTAINS, "", "needs a text to look for"),
    (CheckKind.REGEX, "(unclosed", "does not compile"),
    (CheckKind.REGEX, "a" * 501, "longer than 500"),
    (CheckKind.JSON_SCHEMA, {"type": "nonsense"}, "schema is invalid"),
    (CheckKind.JSON_SCHEMA, "not a schema", "needs a JSON schema"),
    (CheckKind.MAX_LENGTH, 0, "positive"),
    (CheckKind.MAX_LENGTH, True, "Input should be"),
    (CheckKind.VALID_JSON, "x", "takes no value"),
    (CheckKind.JUDGE, None, "rubric"),
])
def test_a_check_with_the_wrong_argument_is_refused_with_a_reason(kind, value, message):
    with pytest.raises(ValidationError, match=message):
        OutputCheck(kind=kind, value=value)


def test_a_catastrophic_pattern_is_stopped_not_left_to_hang():
    outcome = evaluate(OutputCheck(kind=CheckKind.REGEX, value=r"(x+x+)+y"), "x" * 3000)
    assert not outcome.passed
    assert "stopped" in outcome.detail


def test_describe_reads_like_a_sentence():
    assert OutputCheck(kind=CheckKind.NOT_CONTAINS, value="secret").describe() == 'does not contain "secret"'
