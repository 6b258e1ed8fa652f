"""Every check type, passing and failing, and the arguments each one refuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

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


CATASTROPHIC = r"(x+x+)+y"  # exponential on "xxx…" in `re`, and in `regex` too
STUCK = "x" * 3000


def evaluated_elsewhere(value, output: str) -> dict:
    """A json_schema check evaluated in a child process, which is killed after 60 s: Python's `re` holds the GIL,
    so a runaway match would stall a thread-based time limit along with the rest of the test run."""
    code = ("import json, sys\nfrom prompt_library.assertions import CheckKind, OutputCheck, evaluate\n"
            "value, output = json.loads(sys.stdin.read())\n"
            "o = evaluate(OutputCheck(kind=CheckKind.JSON_SCHEMA, value=value), output)\n"
            "print(json.dumps({'passed': o.passed, 'detail': o.detail}))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    try:
        done = subprocess.run([sys.executable, "-c", code], input=json.dumps([value, output]), env=env,
                              capture_output=True, text=True, timeout=60, check=True)
    except subprocess.TimeoutExpired:
        pytest.fail("the schema check was still running after 60 s")
    return json.loads(done.stdout)


@pytest.mark.parametrize("schema, document", [
    ({"type": "string", "pattern": CATASTROPHIC}, STUCK),
    ({"type": "object", "patternProperties": {CATASTROPHIC: {"type": "string"}}}, {STUCK: "x"}),
    ({"type": "object", "propertyNames": {"pattern": CATASTROPHIC}}, {STUCK: "x"}),
    ({"type": "object", "patternProperties": {CATASTROPHIC: {}}, "additionalProperties": False}, {STUCK: 1}),
    # Fifty strings near the limit each: one deadline covers the whole check, not one per string.
    ({"type": "array", "items": {"type": "string", "pattern": CATASTROPHIC}}, [STUCK] * 50),
])
def test_a_catastrophic_schema_pattern_fails_that_check_within_the_time_limit(schema, document):
    started = time.monotonic()
    outcome = evaluated_elsewhere(schema, json.dumps(document))
    assert time.monotonic() - started < 30
    assert outcome == {"passed": False, "detail": "the schema's regular expressions took longer than the time "
                                                  "limit of 0.5 s and were stopped"}


def test_a_pattern_re_would_hang_on_fails_that_check_at_once():
    started = time.monotonic()
    outcome = evaluated_elsewhere({"type": "string", "pattern": r"^(a+)+$"}, json.dumps("a" * 40 + "!"))
    assert time.monotonic() - started < 30  # with `re` it takes about 2**40 steps
    assert outcome == {"passed": False,
                       "detail": "the document: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!' does not match '^(a+)+$'"}


def test_schema_patterns_still_pass_and_fail_as_before():
    schema = {"type": "object", "properties": {"id": {"type": "string", "pattern": r"^INV-\d{4}$"}},
              "patternProperties": {"^x-": {"type": "integer"}}, "additionalProperties": False}
    check = OutputCheck(kind=CheckKind.JSON_SCHEMA, value=schema)
    assert evaluate(check, '{"id": "INV-2024", "x-count": 3}').passed
    assert evaluate(check, '{"id": "INV-24"}').detail == "id: 'INV-24' does not match '^INV-\\\\d{4}$'"
    assert evaluate(check, '{"x-count": "three"}').detail == "x-count: 'three' is not of type 'integer'"
    assert not evaluate(check, '{"other": 1}').passed


def test_a_schema_whose_patterns_jsonschema_would_run_untimed_is_refused():
    schema = {"allOf": [{"patternProperties": {"^a": {}}}], "unevaluatedProperties": False}
    with pytest.raises(ValidationError, match="unevaluatedProperties with patternProperties"):
        OutputCheck(kind=CheckKind.JSON_SCHEMA, value=schema)
