"""The portfolio as YAML: round trips, edits through the form's services, four eyes no file bypasses, bad files."""

from __future__ import annotations

import copy
import csv
import io
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func
from sqlmodel import Session, select

from catalog.models import CatalogModel, RiskTier
from portal.core.audit import AuditEvent
from portal.core.db import make_engine, session_scope
from portal.core.errors import PermissionDenied
from portal.core.principals import SYSTEM_CLI
from portal.core.users import User
from portal.tables import metadata
from portfolio.as_code import STAGE_WHY, PortfolioImport, export_portfolio, import_portfolio
from portfolio.board import PortfolioFilter, portfolio_rows
from portfolio.criteria import criteria_states
from portfolio.graduation import decide_criterion
from portfolio.models import (
    CriterionDecision,
    CriterionKind,
    MoveApproval,
    Stage,
    StageMove,
    UseCase,
)
from portfolio.portfolio_file import MAX_FILE_BYTES, PortfolioFileError
from portfolio.service import UseCaseForm, save_use_case, set_tier
from portfolio.stages import decide_move, request_move
from portfolio.table import portfolio_csv
from prompt_library.models import Prompt
from tests.concurrency import run_together

LINKS = dict(models=["fake-small"], prompts=["invoice-matcher"], templates=["batch-summariser"])


def counts(session: Session) -> tuple[int, ...]:
    return tuple(session.exec(select(func.count()).select_from(table)).one()
                 for table in (AuditEvent, UseCase, StageMove, MoveApproval, CriterionDecision))


def documents(text: str) -> list[dict]:
    return yaml.safe_load(text)["use_cases"]


def without(entries: list[dict], *names: str) -> list[dict]:
    return [{k: v for k, v in e.items() if k not in names} for e in entries]


def add_links(session: Session, owner: User) -> None:
    session.add(CatalogModel(name="fake-small", display_name="Fake Small"))
    session.add(Prompt(slug="invoice-matcher", title="Invoice matcher", owner_id=owner.id))
    session.commit()


@pytest.fixture
def people(make_user) -> dict[str, User]:
    return {role: make_user(role, email=f"{role}@example.com")
            for role in ("admin", "reviewer", "risk_reviewer", "contributor", "viewer")}


@pytest.fixture
def portfolio(session, people, make_use_case) -> dict[str, UseCase]:
    """A use case moved with a waiver, a raised and paused one, a draft, and a second one of the same title."""
    owner, reviewer = people["contributor"], people["reviewer"]
    add_links(session, owner)
    moved = make_use_case(1, owner=owner, operations=True, **LINKS)
    request_move(session=session, actor=owner, use_case_id=moved.id, to_stage=Stage.ASSESSMENT,
                 base_revision=moved.revision)
    # Waived for the move after next: a waiver for pilot would complete its criteria and move this tier-1 use case
    # to pilot on its own (portfolio.advance).
    state = next(s for s in criteria_states(session=session, use_case=moved, to_stage="production")
                 if s.state == "not met")
    decide_criterion(session=session, actor=reviewer, use_case_id=moved.id, criterion=state.key, to_stage="production",
                     kind=CriterionKind.WAIVED, reason="no data for the demo")
    raised = make_use_case(2, owner=owner, title="Refund replies", department="Service")
    set_tier(session=session, actor=reviewer, use_case_id=raised.id, tier=RiskTier.FULL_REVIEW,
             reason="the replies quote contract terms", base_revision=raised.revision)
    move = request_move(session=session, actor=owner, use_case_id=raised.id, to_stage=Stage.ASSESSMENT,
                        base_revision=raised.revision)
    decide_move(session=session, actor=reviewer, move_id=move.id, approve=True, seen_version=move.version)
    decide_move(session=session, actor=people["risk_reviewer"], move_id=move.id, approve=True,
                seen_version=move.version)
    request_move(session=session, actor=owner, use_case_id=raised.id, to_stage=Stage.PAUSED,
                 reason="budget frozen until Q3", base_revision=session.get(UseCase, raised.id).revision)
    draft = save_use_case(session=session, actor=people["viewer"], submit=False,
                          form=UseCaseForm(title="Meeting minutes", problem="Minutes take an hour."))
    twin = make_use_case(1, owner=owner, title="Invoice matching", team="AR")
    session.commit()
    return {"moved": moved, "raised": raised, "draft": draft, "twin": twin}


def test_the_export_holds_every_field_keyed_by_a_key_that_survives_a_shared_title(session, people, portfolio):
    entries = {e["key"]: e for e in documents(export_portfolio(session=session, actor=people["admin"]))}
    assert sorted(entries) == ["invoice-matching", "invoice-matching-2", "meeting-minutes", "refund-replies"]
    moved = entries["invoice-matching"]
    assert moved["owner"] == "contributor@example.com" and moved["value"] == {
        "amount": 1200.0, "unit": "hours", "assumption": "3 clerks save 8 hours a week"}
    assert (moved["classification"], moved["people_affected"], moved["human_review"], moved["autonomy"]) == (
        "internal", "staff", True, "assists")
    assert {k: moved[k] for k in LINKS} == LINKS
    assert moved["operations"]["monitoring_url"] == "https://grafana.example.com/d/ap"
    assert moved["stage"] == "assessment" and moved["tier"] == {"proposed": 1}
    (step,) = moved["history"]["stage_moves"]
    assert (step["from_stage"], step["to_stage"], step["by"]) == ("idea", "assessment", "contributor@example.com")
    assert moved["history"]["criteria"][0]["kind"] == "waived"
    raised = entries["refund-replies"]
    assert raised["tier"] == {"proposed": 2, "reviewer": 3, "reason": "the replies quote contract terms"}
    assert (raised["stage"], raised["stage_reason"], raised["paused_from"]) == (
        "paused", "budget frozen until Q3", "assessment")
    assert raised["history"]["stage_moves"][0]["approvers"] == ["reviewer@example.com", "risk_reviewer@example.com"]
    assert entries["meeting-minutes"]["draft"] is True


def test_export_then_import_on_the_same_portal_changes_and_records_nothing(session, people, portfolio):
    text = export_portfolio(session=session, actor=people["admin"])
    before, revisions = counts(session), {uc.id: uc.revision for uc in session.exec(select(UseCase))}
    result = import_portfolio(session=session, actor=people["admin"], text=text, source="portfolio.yaml")
    session.commit()
    assert (result.created, result.updated, result.unchanged, result.not_applied) == ([], [], 4, ())
    session.expire_all()
    assert counts(session) == before
    assert {uc.id: uc.revision for uc in session.exec(select(UseCase))} == revisions
    assert export_portfolio(session=session, actor=people["admin"]) == text


def test_export_into_an_empty_portal_gives_the_same_document_but_stage_and_history(session, people, portfolio,
                                                                                    tmp_path: Path):
    text = export_portfolio(session=session, actor=people["admin"])
    other = make_engine(f"sqlite:///{tmp_path / 'other' / 'portal.db'}")
    metadata.create_all(other)
    with Session(other, expire_on_commit=False) as empty:
        for person in people.values():
            empty.add(User(email=person.email, name=person.name, role=person.role))
        empty.commit()
        add_links(empty, empty.exec(select(User).where(User.role == "contributor")).one())
        admin = empty.exec(select(User).where(User.role == "admin")).one()
        result = import_portfolio(session=empty, actor=admin, text=text, source="portfolio.yaml")
        empty.commit()
        again = export_portfolio(session=empty, actor=admin)
        stages = {uc.key: uc.stage for uc in empty.exec(select(UseCase))}
        assert empty.exec(select(func.count()).select_from(MoveApproval)).one() == 0
        assert empty.exec(select(func.count()).select_from(CriterionDecision)).one() == 0
    other.dispose()
    assert sorted(result.created) == ["invoice-matching", "invoice-matching-2", "meeting-minutes", "refund-replies"]
    assert set(stages.values()) == {"idea"}
    volatile = ("stage", "stage_reason", "paused_from", "history")
    assert without(documents(again), *volatile) == without(documents(text), *volatile)
    reported = {(n.key, n.field) for n in result.not_applied}
    assert {("invoice-matching", "stage"), ("refund-replies", "stage"), ("invoice-matching", "history.stage_moves"),
            ("invoice-matching", "history.criteria"), ("refund-replies", "history.stage_moves"),
            ("meeting-minutes", "history.proposed_by")} <= reported
    assert {f for _, f in reported} <= {"stage", "history.stage_moves", "history.criteria", "history.proposed_by"}
    paused = next(n for n in result.not_applied if n.key == "refund-replies" and n.field == "stage")
    assert str(paused) == ("refund-replies: stage is paused (from assessment): budget frozen until Q3 in the file, "
                           f"idea in the portal ({STAGE_WHY})")


def edited(text: str, key: str, **changes) -> str:
    document = yaml.safe_load(text)
    entry = next(e for e in document["use_cases"] if e["key"] == key)
    for path, value in changes.items():
        *parents, last = path.split("__")
        target = entry
        for part in parents:
            target = target.setdefault(part, {})
        target[last] = value
    return yaml.safe_dump(document, sort_keys=False)


def test_a_file_cannot_move_a_stage_lower_a_tier_or_add_approvals(session, people, portfolio):
    text = export_portfolio(session=session, actor=people["admin"])
    text = edited(text, "invoice-matching", stage="production", draft=True)
    text = edited(text, "refund-replies", tier__reviewer=1, tier__reason="it is harmless", paused_from=None,
                  stage="scaled", stage_reason="")
    document = yaml.safe_load(text)
    entry = next(e for e in document["use_cases"] if e["key"] == "invoice-matching")
    entry["history"]["stage_moves"].append({"from_stage": "assessment", "to_stage": "production",
                                            "approvers": ["admin@example.com"]})
    before = counts(session)
    result = import_portfolio(session=session, actor=people["admin"], text=yaml.safe_dump(document), source="f")
    session.commit()
    session.expire_all()
    assert counts(session) == before  # nothing changed, nothing recorded, no move or approval made up
    moved, raised = session.get(UseCase, portfolio["moved"].id), session.get(UseCase, portfolio["raised"].id)
    assert (moved.stage, moved.draft, raised.stage, int(raised.tier)) == ("assessment", False, "paused", 3)
    assert [(n.key, n.field) for n in result.not_applied] == [
        ("invoice-matching", "stage"), ("invoice-matching", "draft"), ("invoice-matching", "history.stage_moves"),
        ("refund-replies", "stage"), ("refund-replies", "tier.reviewer")]
    assert "history.stage_moves is 2 recorded in the file, 1 recorded in the portal" in str(result.not_applied[2])
    assert "an import never lowers one" in str(result.not_applied[4])


def test_edits_go_through_the_form_and_are_audited_as_the_admin(session, people, portfolio):
    text = export_portfolio(session=session, actor=people["admin"])
    text = edited(text, "invoice-matching", title="Invoice matching v2", operations__on_call_owner="AP rota 2")
    text = edited(text, "invoice-matching-2", tier__reviewer=2, tier__reason="supplier data is sensitive")
    document = yaml.safe_load(text)
    document["use_cases"].append({"key": "contract-clauses", "title": "Contract clauses", "draft": True,
                                  "stage": "pilot"})
    revision = session.get(UseCase, portfolio["moved"].id).revision
    result = import_portfolio(session=session, actor=people["admin"], text=yaml.safe_dump(document), source="f.yaml")
    session.commit()
    assert (result.created, sorted(result.updated), result.unchanged) == (
        ["contract-clauses"], ["invoice-matching", "invoice-matching-2"], 2)
    assert [(n.key, n.field, n.in_portal) for n in result.not_applied] == [("contract-clauses", "stage", "idea")]
    session.expire_all()
    moved = session.get(UseCase, portfolio["moved"].id)
    assert (moved.title, moved.key, moved.on_call_owner, moved.revision) == (
        "Invoice matching v2", "invoice-matching", "AP rota 2", revision + 2)
    twin = session.get(UseCase, portfolio["twin"].id)
    assert (int(twin.tier), twin.tier_reason) == (2, "supplier data is sensitive")
    new = session.exec(select(UseCase).where(UseCase.key == "contract-clauses")).one()
    assert (new.stage, new.draft, new.proposed_by_id) == ("idea", True, people["admin"].id)
    events = session.exec(select(AuditEvent).where(AuditEvent.actor_id == people["admin"].id)
                          .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["use_case.saved", "use_case.operations_saved", "use_case.tier_changed",
                                          "use_case.saved", "portfolio.imported"]
    assert events[0].before == {"title": "Invoice matching"} and events[0].after["title"] == "Invoice matching v2"
    assert events[-1].after == {"created": ["contract-clauses"], "updated": ["invoice-matching", "invoice-matching-2"],
                                "unchanged": 2, "not_applied": 1}


def test_one_refused_entry_imports_nothing_and_names_every_problem_by_line(session, people, portfolio):
    text = export_portfolio(session=session, actor=people["admin"])
    text = edited(text, "invoice-matching", title="Renamed")
    document = yaml.safe_load(text)
    complete = next(e for e in document["use_cases"] if e["key"] == "invoice-matching-2")
    document["use_cases"] += [
        {"key": "ghost-owner", "title": "Ghost", "draft": True, "owner": "nobody@example.com"},
        {"key": "unknown-model", "title": "Unknown", "draft": True, "models": ["no-such-model"]},
        {**copy.deepcopy(complete), "key": "raise-no-reason", "tier": {"reviewer": 3}}]  # no shared parts: no anchors
    text = yaml.safe_dump(document, sort_keys=False)
    before = counts(session)
    with pytest.raises(PortfolioFileError) as refused:
        import_portfolio(session=session, actor=people["admin"], text=text, source="f.yaml")
    session.rollback()  # as session_scope does: the entries applied before the refused ones go too
    message = refused.value.message
    line = {key: text.splitlines().index(f"- key: {key}") + 1 for key in ("ghost-owner", "unknown-model",
                                                                         "raise-no-reason")}
    assert message.splitlines() == [
        f"f.yaml, line {line['ghost-owner']}: use_cases: ghost-owner: Cannot save the draft: the owner "
        "nobody@example.com is not an active portal user (they sign in once to become one). Nothing was saved.",
        f"f.yaml, line {line['unknown-model']}: use_cases: unknown-model: Cannot save the draft: no model is named "
        "no-such-model. Nothing was saved.",
        f"f.yaml, line {line['raise-no-reason']}: use_cases: raise-no-reason: Say why the tier changes (between 5 "
        "and 1000 characters).",
        "Nothing was imported."]
    session.expire_all()
    assert counts(session) == before and session.get(UseCase, portfolio["moved"].id).title == "Invoice matching"


HOSTILE = [
    ("schema_version: 1\nuse_cases: &a [{key: a, title: A}]\nmore: *a\n", "line 2: YAML anchors and aliases"),
    ("schema_version: 1\nuse_cases:\n  - key: a\n    title: [1, 2]\n", "line 4: use_cases.0.title: should be text"),
    ("schema_version: 1\nuse_cases:\n  - key: a\n    title: A\n    titel: B\n",
     "line 5: use_cases.0.titel: is not a field of a portfolio file; check the spelling"),
    ("schema_version: 1\nuse_cases:\n  - key: a\n    title: A\n    human_review: {x: 1}\n",
     "line 5: use_cases.0.human_review"),
    ("schema_version: 1\nuse_cases:\n  - key: a\n    title: A\n    classification: secret\n",
     "is not a data classification; use one of public, internal, confidential, restricted"),
    ("schema_version: 2\nuse_cases: []\n", "line 1: schema_version: must be 1"),
    ("schema_version: 1\nuse_cases:\n  - {key: a, title: A}\n  - {key: a, title: B}\n",
     "line 4: use_cases.key: the key a is also on line 3"),
    ("schema_version: 1\nuse_cases:\n  - {key: ../etc, title: A}\n", "line 3: use_cases.0.key"),
    ("schema_version: 1\nuse_cases: !!python/object:os.system [ls]\n", "the tag !!python/object:os.system"),
    ("", "is empty"),
    ("schema_version: 1\nuse_cases:\n" + "  - {key: a, title: A}\n" * (MAX_FILE_BYTES // 20),
     "a file here may be at most"),
]


@pytest.mark.parametrize("text, problem", HOSTILE, ids=["aliases", "wrong type", "unknown field", "mapping for bool",
                                                        "classification", "schema version", "key twice", "bad key",
                                                        "python tag", "empty", "too big"])
def test_a_hostile_or_wrong_file_is_refused_with_its_line_and_changes_nothing(session, people, portfolio, text,
                                                                              problem):
    before = counts(session)
    with pytest.raises(PortfolioFileError) as refused:
        import_portfolio(session=session, actor=people["admin"], text=text, source="f.yaml")
    assert problem in refused.value.message
    session.rollback()
    assert counts(session) == before


@pytest.mark.parametrize("actor", ["reviewer", "risk_reviewer", "contributor", "system"])
def test_only_a_named_admin_imports(session, people, portfolio, actor):
    text = export_portfolio(session=session, actor=people["admin"])
    with pytest.raises(PermissionDenied) as refused:
        import_portfolio(session=session, actor=SYSTEM_CLI if actor == "system" else people[actor], text=text)
    expected = "a named admin imports it" if actor == "system" else f"your role ({actor}) may not"
    assert expected in refused.value.message


def test_a_viewer_exports_what_they_may_see_and_a_reviewer_sees_drafts_too(session, people, make_user, portfolio):
    keys = {role: {e["key"] for e in documents(export_portfolio(session=session, actor=people[role]))}
            for role in ("viewer", "reviewer")}
    other_viewer = {e["key"] for e in documents(export_portfolio(session=session, actor=make_user("viewer")))}
    assert "meeting-minutes" in keys["viewer"] and "meeting-minutes" in keys["reviewer"]
    assert other_viewer == keys["reviewer"] - {"meeting-minutes"}


def test_the_table_csv_follows_the_filters_and_neutralises_formulas(session, people, make_use_case):
    make_use_case(1, owner=people["contributor"], title='=HYPERLINK("http://evil.example","open")')
    make_use_case(3, owner=people["contributor"], title="Credit advice", department="Risk")
    rows = portfolio_rows(session=session, actor=people["viewer"], filters=PortfolioFilter(department="Risk"))
    assert list(csv.reader(io.StringIO(portfolio_csv(rows, {}))))[1][1:5] == ["credit-advice", "Credit advice", "idea",
                                                                          "3"]
    every = list(csv.reader(io.StringIO(portfolio_csv(portfolio_rows(session=session, actor=people["viewer"]), {}))))
    assert [row[2] for row in every[1:]] == ["Credit advice", '\'=HYPERLINK("http://evil.example","open")']


def test_admins_importing_the_same_new_use_cases_at_once_create_them_once(engine, people):
    text = ("schema_version: 1\nuse_cases:\n  - {key: minutes, title: Meeting minutes, draft: true}\n"
            "  - {key: notes, title: Notes, draft: true}\n")

    def work(_: int):
        with session_scope(engine) as session:
            return import_portfolio(session=session, actor=people["admin"], text=text, source="f.yaml")

    results = run_together(6, work)
    imported = [r for r in results if isinstance(r, PortfolioImport)]
    refused = [r for r in results if not isinstance(r, PortfolioImport)]
    assert all(isinstance(r, PortfolioFileError) and "someone changed this use case while the file was being "
               "imported. Nothing was imported" in r.message for r in refused), refused
    assert sorted(len(r.created) for r in imported) == [0] * (len(imported) - 1) + [2]
    with Session(engine) as session:
        assert sorted(session.exec(select(UseCase.key)).all()) == ["minutes", "notes"]
        assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "portfolio.imported")).all()) == 1
