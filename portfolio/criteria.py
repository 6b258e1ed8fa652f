"""Graduation criteria: the CoE's YAML file of what each move asks per tier, and each criterion's state for a use case.

Checks read the portal's own tables with one query each, joined to the use case's rows in portfolio.links; those
reading other features' data (lineage, courses, recent use) live in portfolio.checks. Criteria no data can check are
met once a reviewer who is not the owner signs them; any criterion can be waived.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import String, cast, func, literal, or_
from sqlmodel import Session, col, select

from catalog.models import CatalogModel, DataClassification, ModelStatus
from portal.core.audit import utcnow
from portal.core.db import LIKE_ESCAPE
from portal.core.users import User
from portal.core.yaml_models import load_model
from portfolio.assessment import assessment_problem
from portfolio.checks import CheckInput, GraduationPolicy, Met, Outcome, courses_held, forked_current, used_recently
from portfolio.links import LinkKind, UseCaseLink, linked_refs
from portfolio.models import CriterionDecision, CriterionKind, Stage, UseCase
from prompt_library.models import Prompt, PromptStatus, PromptTestCase, PromptTestRun

CRITERIA_FILE = Path(__file__).with_name("criteria.yaml")
CLEARED_STATUSES = (ModelStatus.APPROVED, ModelStatus.RESTRICTED)


class Check(StrEnum):
    """The criteria the portal checks from its own data."""

    MODELS_CLEARED = "models_cleared"
    PROMPTS_TESTED = "prompts_tested"
    OPERATIONS_READY = "operations_ready"
    FORKED_CURRENT = "forked_current"
    COURSES_HELD = "courses_held"
    USED_RECENTLY = "used_recently"
    RISK_ASSESSED = "risk_assessed"


class CriterionSpec(BaseModel):
    """One criterion as the CoE writes it."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=80)
    title: str = Field(min_length=1, max_length=300)
    check: Check | None = None  # None: a reviewer signs it off
    tiers: list[Literal[1, 2, 3]] = Field(min_length=1)
    moves: list[Literal["assessment", "pilot", "production", "scaled"]] = Field(min_length=1)
    # The courses a courses_held criterion requires, by slug (training/courses/<slug>).
    courses: list[str] = Field(default_factory=list)

    @field_validator("courses")
    @classmethod
    def _course_slugs(cls, courses: list[str]) -> list[str]:
        bad = [slug for slug in courses if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,79}", slug)]
        if bad:
            raise ValueError(f"{', '.join(map(repr, bad))} is not a course slug (lower-case letters, digits, dashes)")
        return courses

    @model_validator(mode="after")
    def _courses_go_with_their_check(self) -> CriterionSpec:
        if self.check == Check.COURSES_HELD and not self.courses:
            raise ValueError(f"{self.key}: a courses_held criterion lists the courses it requires (courses: [...])")
        if self.courses and self.check != Check.COURSES_HELD:
            raise ValueError(f"{self.key}: only a courses_held criterion takes a list of courses")
        return self


class CriteriaFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    criteria: list[CriterionSpec]

    @field_validator("criteria")
    @classmethod
    def _unique_keys(cls, criteria: list[CriterionSpec]) -> list[CriterionSpec]:
        seen: set[str] = set()
        for number, spec in enumerate(criteria, start=1):
            if spec.key in seen:
                raise ValueError(f"criterion {number}: the key {spec.key!r} is used twice; keys must be unique")
            seen.add(spec.key)
        return criteria

    def for_move(self, tier: int, to_stage: str) -> list[CriterionSpec]:
        """The criteria that guard a move to `to_stage` for a use case of `tier`."""
        return [spec for spec in self.criteria if tier in spec.tiers and to_stage in spec.moves]

    def get(self, key: str) -> CriterionSpec | None:
        return next((spec for spec in self.criteria if spec.key == key), None)


def load_criteria(text: str, *, source: str) -> CriteriaFile:
    """The criteria file validated, or YamlFileError listing each problem with its file and line."""
    return load_model(text, CriteriaFile, source=source)


@lru_cache(maxsize=1)
def default_criteria() -> CriteriaFile:
    """The criteria in the repository's portfolio/criteria.yaml (read once per process)."""
    return load_criteria(CRITERIA_FILE.read_text(encoding="utf-8"), source="portfolio/criteria.yaml")


@dataclass(frozen=True)
class CriterionState:
    """One criterion of a move as the use-case page shows it."""

    key: str
    title: str
    to_stage: str
    checked: bool  # the portal checks it; otherwise a reviewer signs it off
    state: Literal["met", "not met", "waived"]
    detail: str  # why a check failed, or who signed or waived it and why

    @property
    def missing(self) -> str:
        return f"{self.title} ({self.detail})"


def criteria_states(*, session: Session, use_case: UseCase, to_stage: str, criteria: CriteriaFile | None = None,
                    policy: GraduationPolicy | None = None) -> list[CriterionState]:
    """Every criterion of the move to `to_stage` for this use case, met, not met or waived."""
    if use_case.tier is None or to_stage not in (s.value for s in Stage):
        return []
    specs = (criteria or default_criteria()).for_move(int(use_case.tier), to_stage)
    decided = _decisions(session, use_case.id, to_stage)
    now, policy = utcnow(), policy or GraduationPolicy()
    return [_state(session, CheckInput(use_case=use_case, courses=tuple(spec.courses), policy=policy, now=now),
                   to_stage, spec, decided.get(spec.key)) for spec in specs]


def unmet(*, session: Session, use_case: UseCase, to_stage: str, criteria: CriteriaFile | None = None,
          policy: GraduationPolicy | None = None) -> list[str]:
    """What is missing before the move to `to_stage`, one line per criterion neither met nor waived."""
    return [s.missing for s in criteria_states(session=session, use_case=use_case, to_stage=to_stage,
                                               criteria=criteria, policy=policy) if s.state == "not met"]


def _state(session: Session, given: CheckInput, to_stage: str, spec: CriterionSpec,
           decision: tuple[CriterionDecision, str] | None) -> CriterionState:
    outcome: Outcome = _CHECKS[spec.check](session, given) if spec.check else "no reviewer has signed it off yet"
    failure = None if outcome is None or isinstance(outcome, Met) else outcome
    base = dict(key=spec.key, title=spec.title, to_stage=to_stage, checked=spec.check is not None)
    if decision is not None:
        row, who = decision
        if row.kind == CriterionKind.WAIVED.value and failure:
            return CriterionState(**base, state="waived", detail=f"waived by {who}: {row.reason}")
        if row.kind == CriterionKind.SIGNED.value and not spec.check:
            return CriterionState(**base, state="met", detail=f"signed by {who}" + (f": {row.reason}"
                                                                                    if row.reason else ""))
    if failure:
        return CriterionState(**base, state="not met", detail=failure)
    return CriterionState(**base, state="met", detail=outcome.detail if isinstance(outcome, Met)
                          else "checked by the portal")


def _decisions(session: Session, use_case_id: int, to_stage: str) -> dict[str, tuple[CriterionDecision, str]]:
    """The latest sign-off or waiver of each criterion of the move, with who gave it."""
    latest = (select(func.max(CriterionDecision.id))
              .where(CriterionDecision.use_case_id == use_case_id, CriterionDecision.to_stage == to_stage)
              .group_by(col(CriterionDecision.criterion)))
    rows = session.exec(select(CriterionDecision, User.email).join(User, col(User.id) == CriterionDecision.by_id)
                        .where(col(CriterionDecision.id).in_(latest))).all()
    return {row.criterion: (row, email) for row, email in rows}


def _models_cleared(session: Session, use_case: UseCase) -> str | None:
    """Why a linked model is missing, not approved, restricted to other teams or not cleared for the data, or None."""
    level = use_case.classification
    rows = session.exec(
        select(UseCaseLink.ref, CatalogModel.status, CatalogModel.max_classification, CatalogModel.restricted_teams,
               CatalogModel.restricted_departments)
        .join(CatalogModel, col(CatalogModel.name) == UseCaseLink.ref, isouter=True)
        .where(UseCaseLink.use_case_id == use_case.id, UseCaseLink.kind == LinkKind.MODEL.value,
               or_(col(CatalogModel.id).is_(None), col(CatalogModel.status).not_in(CLEARED_STATUSES),
                   col(CatalogModel.max_classification) < (level or 0),
                   CatalogModel.status == ModelStatus.RESTRICTED.value))
        .order_by(col(UseCaseLink.id))).all()
    problems = [problem for name, status, cleared, teams, departments in rows
                if (problem := _model_problem(use_case, name, status, cleared, teams or [], departments or []))]
    return "; ".join(problems) or None


def _model_problem(use_case: UseCase, name: str, status: str | None, cleared: DataClassification | None,
                   teams: list[str], departments: list[str]) -> str | None:
    """What keeps one linked model from the use case (the rows are the few it links), or None."""
    level = use_case.classification
    if status is None:
        return f"{name} is not in the catalog"
    if ModelStatus(status) not in CLEARED_STATUSES:
        return f"{name} is {ModelStatus(status).label}"
    if cleared is not None and level is not None and cleared < level:
        return f"{name} is cleared only up to {DataClassification(cleared).label} data, not {level.label}"
    # A restricted model serves only its teams and departments: the use case's owning team must be one of them.
    if ModelStatus(status) == ModelStatus.RESTRICTED and use_case.team not in teams \
            and use_case.department not in departments:
        allowed = ", ".join([*teams, *departments]) or "nobody"
        return f"{name} is restricted to {allowed}, not to {use_case.team or use_case.department or 'this use case'}"
    return None


def _prompts_tested(session: Session, use_case: UseCase) -> str | None:
    """Why a linked prompt is missing, unpublished, untested or failed its latest run on a linked/recommended model."""
    cases = select(func.count(col(PromptTestCase.id))).where(PromptTestCase.prompt_id == Prompt.id).scalar_subquery()
    rows = session.exec(
        select(UseCaseLink.ref, Prompt.status, cases, PromptTestRun.model_name, PromptTestRun.cases,
               PromptTestRun.passed)
        .join(Prompt, col(Prompt.slug) == UseCaseLink.ref, isouter=True)
        .join(PromptTestRun, col(PromptTestRun.id) == _latest_counted_run(use_case.id), isouter=True)
        .where(UseCaseLink.use_case_id == use_case.id, UseCaseLink.kind == LinkKind.PROMPT.value)
        .order_by(col(UseCaseLink.id))).all()
    problems = [f"{slug} is not in the prompt library" for slug, status, *_ in rows if status is None]
    for slug, status, case_count, model, total, passed in rows:
        if status is not None:
            problems += _prompt_problem(slug, status, case_count, None if model is None else (model, total, passed))
    return "; ".join(problems) or None


def _latest_counted_run(use_case_id: int):
    """The prompt's latest test run on a model the use case links to or the prompt recommends (correlated to Prompt)."""
    recommended = cast(Prompt.recommended_models, String).like(
        literal('%"') + _like_escaped(PromptTestRun.model_name) + literal('"%'), escape=LIKE_ESCAPE)
    return (select(func.max(PromptTestRun.id))
            .where(PromptTestRun.prompt_id == Prompt.id,
                   or_(col(PromptTestRun.model_name).in_(linked_refs(use_case_id, LinkKind.MODEL)), recommended))
            .correlate(Prompt).scalar_subquery())


def _like_escaped(column):
    """The column's value with LIKE's wildcards escaped, so a model named a_b matches only a_b."""
    escaped = func.replace(column, LIKE_ESCAPE, LIKE_ESCAPE * 2)
    return func.replace(func.replace(escaped, "%", LIKE_ESCAPE + "%"), "_", LIKE_ESCAPE + "_")


def _prompt_problem(slug: str, status: str, case_count: int, run: tuple[str, int, int] | None) -> list[str]:
    if status != PromptStatus.PUBLISHED.value:
        return [f"{slug} is not published (it is {PromptStatus(status).label})"]
    if not case_count:
        return [f"{slug} has no test cases"]
    if run is None:
        return [f"{slug} has no test run on a linked or recommended model"]
    model, total, passed = run
    return [] if total and passed == total else [f"{slug}'s latest test run on {model} passed {passed} of {total} "
                                                 "cases"]


def _operations_ready(session: Session, use_case: UseCase) -> str | None:
    missing = [label for value, label in ((use_case.on_call_owner, "an on-call owner"),
                                          (use_case.rollback_plan, "a rollback plan"),
                                          (use_case.monitoring_url, "a monitoring link")) if not value.strip()]
    return ("missing " + ", ".join(missing)) if missing else None


def _on_use_case(check: Callable[[Session, UseCase], str | None]) -> Callable[[Session, CheckInput], Outcome]:
    """A check that reads only the use case, called as the checks in portfolio.checks are."""
    return lambda session, given: check(session, given.use_case)


_CHECKS: dict[Check, Callable[[Session, CheckInput], Outcome]] = {
    Check.MODELS_CLEARED: _on_use_case(_models_cleared), Check.PROMPTS_TESTED: _on_use_case(_prompts_tested),
    Check.OPERATIONS_READY: _on_use_case(_operations_ready), Check.FORKED_CURRENT: forked_current,
    Check.COURSES_HELD: courses_held, Check.USED_RECENTLY: used_recently,
    Check.RISK_ASSESSED: _on_use_case(assessment_problem)}
