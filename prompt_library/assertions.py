"""Checks on a model's output: shared by prompt test cases and training labs, so both grade the same way."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import jsonschema
import regex
from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

from prompt_library.timed_schema import PatternTimeout, schema_errors, untimed_keywords

MAX_PATTERN_CHARS = 500
# A hostile pattern must not hang a worker: the `regex` module can stop a match after a time limit.
REGEX_TIMEOUT_S = 0.5


class CheckKind(StrEnum):
    """What a check asserts about the output."""

    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    REGEX = "regex"
    EQUALS = "equals"
    VALID_JSON = "valid_json"
    JSON_SCHEMA = "json_schema"
    MAX_LENGTH = "max_length"
    JUDGE = "judge"


CHECK_LABELS: dict[CheckKind, str] = {
    CheckKind.CONTAINS: "contains",
    CheckKind.NOT_CONTAINS: "does not contain",
    CheckKind.REGEX: "matches the regular expression",
    CheckKind.EQUALS: "equals",
    CheckKind.VALID_JSON: "is valid JSON",
    CheckKind.JSON_SCHEMA: "is JSON matching the schema",
    CheckKind.MAX_LENGTH: "is at most this many characters",
    CheckKind.JUDGE: "is scored by a judge model against the rubric",
}


class OutputCheck(BaseModel):
    """One assertion: `kind` plus its argument (text, pattern, schema, length or rubric)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: CheckKind
    value: StrictStr | StrictInt | dict[str, Any] | None = Field(default=None, description="What the check compares against.")
    case_sensitive: bool = Field(default=False, description="For contains, does not contain and equals.")
    pass_score: int = Field(default=4, ge=1, le=5, description="For judge: the lowest 1–5 score that passes.")

    @model_validator(mode="after")
    def _value_fits_kind(self) -> OutputCheck:
        expected = _EXPECTED_VALUE[self.kind]
        if expected is None:
            if self.value not in (None, ""):
                raise ValueError(f"'{self.kind}' takes no value")
            return self
        if not isinstance(self.value, expected) or isinstance(self.value, bool) or self.value in ("", {}):
            raise ValueError(f"'{self.kind}' needs {_VALUE_DESCRIPTIONS[self.kind]}")
        if self.kind is CheckKind.REGEX:
            _compile(self.value)
        if self.kind is CheckKind.JSON_SCHEMA:
            _check_schema(self.value)
        if self.kind is CheckKind.MAX_LENGTH and self.value < 1:
            raise ValueError("'max_length' needs a positive number of characters")
        return self

    def describe(self) -> str:
        """A one-line, human description such as `contains "refund"`."""
        label = CHECK_LABELS[self.kind]
        if self.value is None:
            return label
        shown = json.dumps(self.value) if isinstance(self.value, dict | str) else str(self.value)
        return f"{label} {shown[:80]}"


_EXPECTED_VALUE: dict[CheckKind, type | tuple[type, ...] | None] = {
    CheckKind.CONTAINS: str,
    CheckKind.NOT_CONTAINS: str,
    CheckKind.REGEX: str,
    CheckKind.EQUALS: str,
    CheckKind.VALID_JSON: None,
    CheckKind.JSON_SCHEMA: dict,
    CheckKind.MAX_LENGTH: int,
    CheckKind.JUDGE: str,
}
_VALUE_DESCRIPTIONS = {
    CheckKind.CONTAINS: "a text to look for",
    CheckKind.NOT_CONTAINS: "a text that must not appear",
    CheckKind.REGEX: "a regular expression",
    CheckKind.EQUALS: "the exact expected text",
    CheckKind.JSON_SCHEMA: "a JSON schema (an object)",
    CheckKind.MAX_LENGTH: "a number of characters",
    CheckKind.JUDGE: "a rubric for the judge model",
}


@dataclass(frozen=True)
class CheckOutcome:
    """Whether one check passed on one output, and why in plain words."""

    check: OutputCheck
    passed: bool
    detail: str


def evaluate(check: OutputCheck, output: str) -> CheckOutcome:
    """Grade one output with a deterministic check; judge checks are scored by `prompt_library.judge`."""
    if check.kind is CheckKind.JUDGE:
        raise ValueError("a judge check needs a model: score it with the judge, not evaluate()")
    passed, detail = _GRADERS[check.kind](check, output)
    return CheckOutcome(check=check, passed=passed, detail=detail)


def evaluate_all(checks: list[OutputCheck], output: str) -> list[CheckOutcome]:
    """Grade one output with every deterministic check, in order."""
    return [evaluate(check, output) for check in checks if check.kind is not CheckKind.JUDGE]


def _fold(check: OutputCheck, text: str) -> str:
    return text if check.case_sensitive else text.casefold()


def _contains(check: OutputCheck, output: str) -> tuple[bool, str]:
    found = _fold(check, check.value) in _fold(check, output)
    return found, "found" if found else f"{check.value!r} not found"


def _not_contains(check: OutputCheck, output: str) -> tuple[bool, str]:
    found = _fold(check, check.value) in _fold(check, output)
    return not found, f"{check.value!r} appears" if found else "absent"


def _regex(check: OutputCheck, output: str) -> tuple[bool, str]:
    try:
        match = _compile(check.value).search(output, timeout=REGEX_TIMEOUT_S)
    except TimeoutError:
        return False, f"the pattern took longer than the time limit of {REGEX_TIMEOUT_S} s and was stopped"
    return match is not None, f"matched {match.group(0)[:60]!r}" if match else "no match"


def _equals(check: OutputCheck, output: str) -> tuple[bool, str]:
    same = _fold(check, output.strip()) == _fold(check, check.value.strip())
    return same, "equal" if same else f"got {output.strip()[:60]!r}"


def _valid_json(_check: OutputCheck, output: str) -> tuple[bool, str]:
    try:
        json.loads(strip_code_fence(output))
    except ValueError as error:
        return False, f"not JSON: {error}"
    return True, "valid JSON"


def _json_schema(check: OutputCheck, output: str) -> tuple[bool, str]:
    try:
        document = json.loads(strip_code_fence(output))
    except ValueError as error:
        return False, f"not JSON: {error}"
    try:
        errors = schema_errors(check.value, document, time_limit_s=REGEX_TIMEOUT_S)
    except PatternTimeout:
        return False, (f"the schema's regular expressions took longer than the time limit of {REGEX_TIMEOUT_S} s "
                       "and were stopped")
    problem = jsonschema.exceptions.best_match(iter(errors))
    if problem is None:
        return True, "matches the schema"
    where = "/".join(str(part) for part in problem.absolute_path) or "the document"
    return False, f"{where}: {problem.message}"


def _max_length(check: OutputCheck, output: str) -> tuple[bool, str]:
    length = len(output.strip())
    return length <= check.value, f"{length} characters (limit {check.value})"


_GRADERS = {
    CheckKind.CONTAINS: _contains,
    CheckKind.NOT_CONTAINS: _not_contains,
    CheckKind.REGEX: _regex,
    CheckKind.EQUALS: _equals,
    CheckKind.VALID_JSON: _valid_json,
    CheckKind.JSON_SCHEMA: _json_schema,
    CheckKind.MAX_LENGTH: _max_length,
}


def strip_code_fence(output: str) -> str:
    """Models often wrap JSON in a ``` fence; the content is what counts."""
    text = output.strip()
    if text.startswith("```") and text.endswith("```") and "\n" in text:
        return text.split("\n", 1)[1].rsplit("```", 1)[0]
    return text


def _compile(pattern: str) -> regex.Pattern:
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ValueError(f"the regular expression is longer than {MAX_PATTERN_CHARS} characters")
    try:
        return regex.compile(pattern)
    except regex.error as error:
        raise ValueError(f"the regular expression does not compile: {error}") from error


def _check_schema(schema: dict[str, Any]) -> None:
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.exceptions.SchemaError as error:
        raise ValueError(f"the JSON schema is invalid: {error.message}") from error
    if untimed_keywords(schema):
        raise ValueError("the JSON schema combines unevaluatedProperties with patternProperties, whose patterns "
                         "would then run without a time limit; use additionalProperties instead")
