"""Test cases and the runner: every case on every chosen approved model, a matrix per version.

A case is a turn answered whole (metering.turn.whole_answer of a `Call`). Each gateway call, the judge's too, goes
through the metered path (source "prompt test"): the prompt's classification picks the models and the guardrail
action its rendered messages get (blocked: the case fails with the reason and nothing is sent; redacted: the
placeholders are sent), its worst case is reserved against the runner's budgets before it is made, its usage
settled after. A run writes its rows (and the guardrails' findings, audited once a case) at the end, so the
database's write lock is never held while a model answers.
A matrix is out of date when a model was approved, restricted, deprecated or retired after the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlmodel import Session, col, select

from catalog.events import ModelTransitioned
from catalog.models import CatalogModel, DataClassification, ModelStatus
from catalog.service import usable_models_for
from guardrails.events import GuardrailFired
from guardrails.text import GuardrailError, GuardrailOutcome, describe
from metering.budgets import Payer
from metering.gateway import MeteredGateway
from metering.models import UsageEvent
from metering.turn import Call, whole_answer
from portal.core.audit import AuditEvent, record
from portal.core.errors import InvalidInput
from portal.core.gateway import GatewayError
from portal.core.users import User
from prompt_library.assertions import CheckKind, OutputCheck, evaluate_all
from prompt_library.events import PromptTestCasesSaved, PromptTestsRun
from prompt_library.judge import judge
from prompt_library.models import PROMPT_TEST, Prompt, PromptTestCase, PromptTestRun, PromptVersion
from prompt_library.reading import editable_prompt, messages_of, version_by_number
from prompt_library.templates import detect_variables, render

RUNNABLE = (ModelStatus.APPROVED.value, ModelStatus.RESTRICTED.value)
STATUS_CHANGES = {s.value for s in (ModelStatus.APPROVED, ModelStatus.RESTRICTED, ModelStatus.DEPRECATED,
                                    ModelStatus.RETIRED)}
MAX_CASES = 50
MAX_OUTPUT_KEPT = 2000
CASE_MAX_TOKENS = 1024  # the longest answer a test case asks for: what the metered path reserves


@dataclass(frozen=True)
class CaseInput:
    name: str
    variables: dict[str, str]
    checks: list[dict[str, Any]]


def save_test_cases(*, session: Session, actor: User, prompt_id: int, cases: list[CaseInput]) -> list[PromptTestCase]:
    """Replace the prompt's test cases after checking each against the latest template."""
    prompt = editable_prompt(session=session, actor=actor, prompt_id=prompt_id)
    latest = version_by_number(session=session, prompt_id=prompt.id, number=prompt.latest_version)
    known = set(detect_variables(messages_of(latest), latest.template_format))
    if len(cases) > MAX_CASES:
        raise InvalidInput(f"{len(cases)} test cases; at most {MAX_CASES} fit.")
    rows = [checked_case(case, known, number) for number, case in enumerate(cases, 1)]
    for old in session.exec(select(PromptTestCase).where(PromptTestCase.prompt_id == prompt.id)).all():
        session.delete(old)
    for row in rows:
        row.prompt_id = prompt.id
        session.add(row)
    record(session, actor, PromptTestCasesSaved(slug=prompt.slug, cases=len(rows)))
    session.flush()
    return rows


def checked_case(case: CaseInput, known: set[str], number: int) -> PromptTestCase:
    name = case.name.strip() or f"case {number}"
    unknown = sorted(set(case.variables) - known)
    if unknown:
        raise InvalidInput(f"test case '{name}': unknown variable(s) {', '.join(unknown)}; the template uses "
                           f"{', '.join(sorted(known)) or 'none'}")
    if not case.checks:
        raise InvalidInput(f"test case '{name}': add at least one check")
    try:
        checks = [OutputCheck.model_validate(c).model_dump(mode="json") for c in case.checks]
    except ValidationError as error:
        raise InvalidInput(f"test case '{name}': {error.errors()[0]['msg'].removeprefix('Value error, ')}") from None
    return PromptTestCase(name=name[:200], variables=dict(case.variables), checks=checks)


def test_cases_of(*, session: Session, prompt_id: int) -> list[PromptTestCase]:
    return list(session.exec(select(PromptTestCase).where(PromptTestCase.prompt_id == prompt_id)
                             .order_by(col(PromptTestCase.id))).all())


def runnable_models(*, session: Session, user: User, classification: DataClassification) -> list[CatalogModel]:
    """Chat models this user's tests may run on with a prompt's data: the catalog's usable models for the user and
    the classification (restricted ones only for their teams), less the deprecated ones, by name."""
    usable = usable_models_for(session=session, user=user, classification=classification)
    return sorted((m for m in usable if m.status in RUNNABLE), key=lambda m: m.name)


def classification_for_tests(prompt: Prompt, version: PromptVersion) -> DataClassification:
    """The stricter of the approved card's and the version's: a pending card may have raised it."""
    return DataClassification(max(prompt.classification, version.classification))


@dataclass(frozen=True)
class RunContext:
    """What a run needs besides the database: the metered gateway and the judge model."""

    gateway: MeteredGateway
    judge_model: str = ""


@dataclass(frozen=True)
class _Plan:
    """One run's fixed parts: who runs which version on what kind of data, through which gateway and judge."""

    actor: User
    version: PromptVersion
    classification: DataClassification
    context: RunContext
    judge_model: CatalogModel | None
    found: dict[str, GuardrailOutcome]  # per case: what the guardrails found in its messages, audited once


def run_tests(*, session: Session, actor: User, prompt_id: int, version: int, model_names: list[str],
              context: RunContext) -> list[PromptTestRun]:
    """Run every test case of a version on each model; one stored run (matrix cell) per model."""
    prompt = editable_prompt(session=session, actor=actor, prompt_id=prompt_id)
    target = version_by_number(session=session, prompt_id=prompt.id, number=version)
    cases = test_cases_of(session=session, prompt_id=prompt.id)
    if not cases:
        raise InvalidInput("This prompt has no test cases yet; add some first.")
    # The test cases carry the prompt's kind of data: the same models and guardrails the sandbox would apply to it.
    classification = classification_for_tests(prompt, target)
    usable = {m.name: m for m in runnable_models(session=session, user=actor, classification=classification)}
    models = _chosen_models(usable, model_names)
    plan = _Plan(actor=actor, version=target, classification=classification, context=context,
                 judge_model=_judge_model(usable, context.judge_model, cases), found={})
    runs = [_run_on(plan, cases, model) for model in models]
    session.add_all(runs)
    for case_name, outcome in plan.found.items():
        record(session, actor, GuardrailFired(subject=prompt.slug, outcome=outcome, classification=classification,
                                              source=f"prompt test case '{case_name}'"))
    record(session, actor, PromptTestsRun(slug=prompt.slug, version=target.number,
                                          results=[(r.model_name, r.passed, r.cases) for r in runs]))
    session.flush()
    return runs


def _chosen_models(by_name: dict[str, CatalogModel], names: list[str]) -> list[CatalogModel]:
    if not names:
        raise InvalidInput("Choose at least one approved model to run the tests on.")
    missing = [n for n in names if n not in by_name]
    if missing:
        raise InvalidInput(f"Not an approved chat model: {', '.join(missing)}. Tests run only on models cleared "
                           "for the prompt's data and open to you.")
    return [by_name[n] for n in dict.fromkeys(names)]


def _judge_model(by_name: dict[str, CatalogModel], wanted: str, cases: list[PromptTestCase]) -> CatalogModel | None:
    if not any(c["kind"] == CheckKind.JUDGE for case in cases for c in case.checks):
        return None
    if wanted not in by_name:
        raise InvalidInput("A test case has a judge check: choose an approved model as the judge.")
    return by_name[wanted]


def _run_on(plan: _Plan, cases: list[PromptTestCase], model: CatalogModel) -> PromptTestRun:
    run = PromptTestRun(prompt_id=plan.version.prompt_id, version_id=plan.version.id, model_name=model.name,
                        run_by_id=plan.actor.id, cases=len(cases))
    latencies = []
    for case in cases:
        result, latency = _run_case(plan, case, model, run)
        run.results.append(result)
        run.passed += int(result["passed"])
        latencies.append(latency)
    run.latency_s = sum(latencies) / len(latencies)
    return run


def _failed_case(case: PromptTestCase, error: str) -> dict:
    return {"case": case.name, "passed": False, "output": "", "checks": [], "error": error, "guardrails": ""}


def _run_case(plan: _Plan, case: PromptTestCase, model: CatalogModel, run: PromptTestRun) -> tuple[dict, float]:
    payer = Payer.of(plan.actor)
    checks = [OutputCheck.model_validate(c) for c in case.checks]
    try:
        messages = render(messages_of(plan.version), plan.version.template_format, case.variables)
    except InvalidInput as error:
        return _failed_case(case, error.message), 0.0
    call = Call(payer=payer, model=model, source=PROMPT_TEST, messages=messages,
                max_tokens=CASE_MAX_TOKENS, classification=plan.classification)
    try:
        answer = whole_answer(call, plan.context.gateway)
    except GuardrailError as blocked:  # nothing was reserved or sent
        plan.found.setdefault(case.name, blocked.outcome)
        return _failed_case(case, describe(blocked.outcome, what="this test case")), 0.0
    except GatewayError as error:  # settled at no cost by the metered path
        return _failed_case(case, error.message), 0.0
    if answer.guardrails is not None:
        plan.found.setdefault(case.name, answer.guardrails)
    _add_usage(run, answer.usage)
    text = answer.result.text
    outcomes = evaluate_all(checks, text)
    for check in (c for c in checks if c.kind is CheckKind.JUDGE):
        outcomes.append(judge(check, text, gateway=plan.context.gateway, model=plan.judge_model, payer=payer,
                              classification=plan.classification).outcome)
    result = {"case": case.name, "passed": all(o.passed for o in outcomes), "output": text[:MAX_OUTPUT_KEPT],
              "checks": [{"check": o.check.describe(), "passed": o.passed, "detail": o.detail} for o in outcomes],
              "error": "", "guardrails": describe(answer.guardrails) if answer.guardrails else ""}
    return result, answer.result.total_time_s


def _add_usage(run: PromptTestRun, usage: UsageEvent) -> None:
    """The run's own totals count the tested model's calls (the judge's are usage of their own)."""
    run.tokens_in += usage.tokens_in
    run.tokens_out += usage.tokens_out
    run.cost_usd += usage.cost_usd


def latest_runs(*, session: Session, version_id: int) -> dict[str, PromptTestRun]:
    """The newest run of a version on each model: its row of the matrix."""
    runs = session.exec(select(PromptTestRun).where(PromptTestRun.version_id == version_id)
                        .order_by(col(PromptTestRun.finished_at), col(PromptTestRun.id))).all()
    return {run.model_name: run for run in runs}


def production_gate_problems(*, session: Session, prompt: Prompt, version: PromptVersion) -> list[str]:
    """Why a version may not be production: tests missing or failing on a model its card recommends."""
    if not test_cases_of(session=session, prompt_id=prompt.id):
        return []
    runs = latest_runs(session=session, version_id=version.id)
    problems = []
    for name in version.recommended_models:
        run = runs.get(name)
        if run is None:
            problems.append(f"its tests have not been run on the recommended model {name}")
        elif run.passed < run.cases:
            problems.append(f"its tests fail on the recommended model {name} ({run.passed}/{run.cases} passed)")
    return problems


@dataclass(frozen=True)
class ModelChange:
    model_name: str
    status: str
    at: datetime


def matrix_out_of_date(*, session: Session, version_id: int,
                       runs: dict[str, PromptTestRun] | None = None) -> list[ModelChange]:
    """Catalog status changes (approve, restrict, deprecate, retire) made after the version's latest runs
    (`runs`: those runs when the caller has already loaded them)."""
    runs = latest_runs(session=session, version_id=version_id) if runs is None else runs
    if not runs:
        return []
    since = min(run.finished_at for run in runs.values())
    events = session.exec(select(AuditEvent).where(AuditEvent.action == ModelTransitioned.action,
                                                   col(AuditEvent.at) > since)
                          .order_by(col(AuditEvent.at))).all()
    changes = []
    for event in events:
        status = (event.after or {}).get("status")
        run = runs.get(event.entity_id)
        if status in STATUS_CHANGES and (run is None or _aware(event.at) > _aware(run.finished_at)):
            changes.append(ModelChange(model_name=event.entity_id, status=status, at=event.at))
    return changes


def _aware(moment: datetime) -> datetime:
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
