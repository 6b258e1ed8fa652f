"""JSON-schema validation whose regular expressions (`pattern`, `patternProperties`) run under a time limit.

jsonschema runs those keywords with Python's `re`, which cannot be stopped: a catastrophic pattern such as
`^(a+)+$` would hold a worker for ever. Here the keywords are replaced through jsonschema's own extension point
(`validators.extend`) by versions that use the `regex` package with its `timeout=`; one deadline covers the
whole validation, so many strings cannot add up to a long run either.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

import jsonschema
import regex
from jsonschema.exceptions import ValidationError

_deadline: ContextVar[float] = ContextVar("schema_pattern_deadline", default=0.0)
# Keywords whose patterns jsonschema would run with `re` inside code it does not let us replace.
UNTIMED_TOGETHER = ("unevaluatedProperties", "patternProperties")


class PatternTimeout(Exception):
    """A schema's regular expression ran past the time limit; the validation stopped."""


def _search(pattern: str, text: str) -> bool:
    remaining = _deadline.get() - time.monotonic()
    if remaining <= 0:
        raise PatternTimeout
    try:
        return regex.search(pattern, text, timeout=remaining) is not None
    except TimeoutError:
        raise PatternTimeout from None


def _pattern(validator, pattern: str, instance: Any, _schema: dict) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator, patterns: dict, instance: Any, _schema: dict) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for key, value in instance.items():
            if _search(pattern, key):
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator, allowed: Any, instance: Any, schema: dict) -> Iterator[ValidationError]:
    if not validator.is_type(instance, "object"):
        return
    named, patterns = schema.get("properties", {}), list(schema.get("patternProperties", {}))
    extras = sorted((key for key in instance
                     if key not in named and not any(_search(p, key) for p in patterns)), key=str)
    if validator.is_type(allowed, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], allowed, path=extra)
    elif not allowed and extras:
        shown = ", ".join(repr(each) for each in extras)
        yield ValidationError(f"Additional properties are not allowed ({shown} unexpected)" if not patterns else
                              f"{shown} do(es) not match any of the regexes: {', '.join(map(repr, patterns))}")


TimedValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    {"pattern": _pattern, "patternProperties": _pattern_properties, "additionalProperties": _additional_properties},
)


def schema_errors(schema: dict[str, Any], document: Any, *, time_limit_s: float) -> list[ValidationError]:
    """Every way the document breaks the schema; raises PatternTimeout when the patterns take too long."""
    token = _deadline.set(time.monotonic() + time_limit_s)
    try:
        return list(TimedValidator(schema).iter_errors(document))
    finally:
        _deadline.reset(token)


def untimed_keywords(schema: Any) -> bool:
    """True when the schema uses keywords together whose patterns jsonschema would run without a time limit."""
    return set(UNTIMED_TOGETHER) <= _keywords(schema)


def _keywords(schema: Any) -> set[str]:
    if isinstance(schema, dict):
        return set(schema).union(*(_keywords(value) for value in schema.values()))
    if isinstance(schema, list):
        return set().union(*(_keywords(item) for item in schema))
    return set()
