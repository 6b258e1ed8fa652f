"""The portfolio file's schema: what an exported portfolio holds, validated as one document with lines for errors.

    schema_version: 1
    use_cases:
      - key: invoice-matching            # stable: set from the first title, never changed
        title: Invoice matching
        owner: chen@example.com
        value: {amount: 1200.0, unit: hours, assumption: 3 clerks save 8 hours a week}
        classification: internal
        ...
        tier: {proposed: 1, reviewer: 2, reason: handles supplier bank details}
        stage: pilot                      # read by an import, never applied: moves go through approvals
        history: {...}                    # read-only: what the portal recorded

A field left out takes its default. Files are untrusted: portal.core.yaml_models reads them (no anchors or
aliases, plain tags only, bounded size and depth), and every problem is reported with its line.
"""

from __future__ import annotations

from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from catalog.models import DataClassification
from portal.core.yaml_models import Problem, YamlFileError, read_yaml, validate_node
from portfolio.keys import KEY_PATTERN
from portfolio.models import Autonomy, PeopleAffected, Stage, ValueUnit

SCHEMA_VERSION = 1
# An exported portfolio of 5,000 use cases is about 5 MB; past this a file is refused before it is read.
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_USE_CASES = 10_000
MESSAGES = {"extra_forbidden": "is not a field of a portfolio file; check the spelling",
            "literal_error": f"must be {SCHEMA_VERSION}: this portal reads portfolio files of schema version "
                             f"{SCHEMA_VERSION}"}


class PortfolioFileError(YamlFileError):
    """A portfolio file that cannot be imported; nothing was changed."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class ValueSpec(_Strict):
    amount: float | None = Field(default=None, ge=0)
    unit: ValueUnit = ValueUnit.MONEY
    assumption: str = ""


class OperationsSpec(_Strict):
    on_call_owner: str = ""
    rollback_plan: str = ""
    monitoring_url: str = ""


class TierSpec(_Strict):
    proposed: int | None = Field(default=None, ge=1, le=3)  # what the portal proposed from the answers
    reviewer: int | None = Field(default=None, ge=1, le=3)  # a reviewer's raise
    reason: str = ""


class StageMoveRecord(_Strict):
    from_stage: str
    to_stage: str
    at: str = ""
    by: str = ""
    approvers: list[str] = Field(default_factory=list)
    reason: str = ""


class CriterionRecord(_Strict):
    criterion: str
    to_stage: str
    kind: str
    by: str = ""
    reason: str = ""
    at: str = ""


class HistorySpec(_Strict):
    """What the portal recorded; an import compares it and reports differences, never writes it."""

    proposed_by: str = ""
    stage_moves: list[StageMoveRecord] = Field(default_factory=list)
    criteria: list[CriterionRecord] = Field(default_factory=list)


class UseCaseSpec(_Strict):
    key: str = Field(pattern=KEY_PATTERN)
    title: str = Field(min_length=1, max_length=200)
    problem: str = ""
    who_has_it: str = ""
    department: str = ""
    team: str = ""
    owner: str = ""  # e-mail of an active portal user
    value: ValueSpec = Field(default_factory=ValueSpec)
    classification: str | None = None
    people_affected: PeopleAffected | None = None
    human_review: bool | None = None
    autonomy: Autonomy | None = None
    models: list[str] = Field(default_factory=list)
    prompts: list[str] = Field(default_factory=list)
    templates: list[str] = Field(default_factory=list)
    courses: list[str] = Field(default_factory=list)
    # Template forks and sandbox documents by id: a round trip on one portal keeps them; another portal has its own.
    forks: list[str] = Field(default_factory=list)
    documents: list[str] = Field(default_factory=list)
    draft: bool = False
    operations: OperationsSpec = Field(default_factory=OperationsSpec)
    tier: TierSpec = Field(default_factory=TierSpec)
    stage: Stage = Stage.IDEA
    stage_reason: str = ""
    paused_from: Stage | None = None
    history: HistorySpec = Field(default_factory=HistorySpec)

    @field_validator("classification")
    @classmethod
    def _known_classification(cls, value: str | None) -> str | None:
        if value is not None and value.upper() not in DataClassification.__members__:
            known = ", ".join(c.label for c in DataClassification)
            raise ValueError(f"is not a data classification; use one of {known}")
        return value and value.lower()

    @field_validator("owner")
    @classmethod
    def _lower_email(cls, value: str) -> str:
        return value.lower()


class PortfolioFile(_Strict):
    schema_version: Literal[1]
    use_cases: list[UseCaseSpec] = Field(default_factory=list, max_length=MAX_USE_CASES)


def parse_portfolio(text: str, *, source: str) -> tuple[PortfolioFile, list[int]]:
    """The validated file and each entry's line, or PortfolioFileError listing every problem by line."""
    root = read_yaml(text, source=source, max_bytes=MAX_FILE_BYTES, error=PortfolioFileError)
    if root is None:
        raise PortfolioFileError(f"{source} is empty; a portfolio file starts with schema_version: "
                                 f"{SCHEMA_VERSION} and lists its use_cases.")
    try:
        document = validate_node(root, PortfolioFile, source=source, error=PortfolioFileError, messages=MESSAGES)
    except PortfolioFileError as error:
        raise PortfolioFileError.listing(error.problems, footer="Nothing was imported.") from None
    lines = [node.start_mark.line + 1 for node in _entry_nodes(root)]
    seen: dict[str, int] = {}
    problems = []
    for spec, line in zip(document.use_cases, lines):
        if spec.key in seen:
            problems.append(Problem(source, line, f"the key {spec.key} is also on line {seen[spec.key]}; each use "
                                                  "case has its own key", ("use_cases", "key")))
        seen.setdefault(spec.key, line)
    if problems:
        raise PortfolioFileError.listing(problems, footer="Nothing was imported.")
    return document, lines


def _entry_nodes(root: yaml.Node) -> list[yaml.Node]:
    entries = next((value for key, value in root.value if key.value == "use_cases"), None)
    return list(entries.value) if isinstance(entries, yaml.SequenceNode) else []
