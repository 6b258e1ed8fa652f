"""Evaluations of a model: recorded, edited and removed by catalog managers, audited, never lost to a stale view."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, col, select

from catalog.as_code import export_catalog, import_catalog
from catalog.evaluations import (
    add_evaluation,
    edit_evaluation,
    evaluations_of,
    remove_evaluation,
)
from catalog.models import CatalogModel
from catalog.service import get_model
from portal.core.audit import AuditEvent
from portal.core.auth import Role
from portal.core.errors import InvalidInput, NotFound, PermissionDenied, StaleEdit
from portal.core.principals import SYSTEM_CLI
from tests.concurrency import editors_until_saved, saves_by_revision

MMLU = {"benchmark": "MMLU (5-shot)", "score": "69.4", "date": dt.date(2024, 7, 23), "notes": "our harness",
        "link": "https://example.com/mmlu"}
STORED = {"benchmark": "MMLU (5-shot)", "score": 69.4, "date": "2024-07-23", "notes": "our harness",
          "link": "https://example.com/mmlu"}
ADDED, EDITED, REMOVED = "catalog.evaluation_added", "catalog.evaluation_edited", "catalog.evaluation_removed"


def events(session: Session, *actions: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.exec(select(AuditEvent).where(col(AuditEvent.action).in_(actions))
                             .order_by(AuditEvent.id)).all())


def test_a_manager_adds_edits_and_removes_evaluations_each_audited(session, make_user, make_model) -> None:
    admin, card = make_user(Role.ADMIN), make_model()
    add_evaluation(session=session, actor=admin, name=card.name, base_revision=1, evaluation=MMLU)
    add_evaluation(session=session, actor=admin, name=card.name, base_revision=2,
                   evaluation={"benchmark": "GSM8K", "score": 80, "date": dt.date(2024, 8, 1)})
    edit_evaluation(session=session, actor=admin, name=card.name, base_revision=3, index=1,
                    evaluation={"benchmark": "GSM8K", "score": 82.5, "date": dt.date(2024, 8, 1)})
    session.commit()
    assert get_model(session=session, name=card.name).evaluations == [
        STORED, {"benchmark": "GSM8K", "score": 82.5, "date": "2024-08-01"}]
    remove_evaluation(session=session, actor=admin, name=card.name, base_revision=4, index=0)
    session.commit()
    [left] = evaluations_of(session=session, name=card.name)
    assert (left.index, left.benchmark, left.score, left.date, left.notes, left.link) == (
        0, "GSM8K", 82.5, dt.date(2024, 8, 1), "", "")
    assert get_model(session=session, name=card.name).revision == 5
    trail = events(session, ADDED, EDITED, REMOVED)
    assert [(e.action, e.entity_id, e.actor_email) for e in trail] == [
        (ADDED, card.name, admin.email), (ADDED, card.name, admin.email), (EDITED, card.name, admin.email),
        (REMOVED, card.name, admin.email)]
    assert (trail[2].before["score"], trail[2].after["score"]) == (80.0, 82.5)
    assert trail[3].before == STORED and trail[3].after is None


def test_a_change_rolled_back_leaves_neither_the_evaluation_nor_its_event(session, make_user, make_model) -> None:
    card = make_model()
    add_evaluation(session=session, actor=make_user(Role.ADMIN), name=card.name, base_revision=1, evaluation=MMLU)
    session.rollback()
    assert get_model(session=session, name=card.name).evaluations == [] and events(session, ADDED) == []


@pytest.mark.parametrize(("role", "allowed"), [(Role.VIEWER, False), (Role.CONTRIBUTOR, False),
                                               (Role.REVIEWER, False), (Role.ADMIN, True)])
def test_only_catalog_managers_record_evaluations(session, make_user, make_model, role, allowed) -> None:
    actor, card = make_user(role), make_model(evaluations=[STORED])
    calls = [lambda: add_evaluation(session=session, actor=actor, name=card.name, base_revision=1, evaluation=MMLU),
             lambda: edit_evaluation(session=session, actor=actor, name=card.name, base_revision=2, index=0,
                                     evaluation={**MMLU, "score": 70}),
             lambda: remove_evaluation(session=session, actor=actor, name=card.name, base_revision=3, index=0)]
    for call in calls:
        if allowed:
            call()
        else:
            with pytest.raises(PermissionDenied, match="needs the admin role"):
                call()


@pytest.mark.parametrize(("change", "message"), [
    ({"benchmark": "  "}, "benchmark: String should have at least 1 character"),
    ({"score": "high"}, "score: a number is needed"),
    ({"score": "nan"}, "score: Input should be a finite number"),
    ({"date": "last week"}, "date: Input should be a valid date"),
    ({"notes": "x" * 2001}, "notes: String should have at most 2000 characters"),
    ({"link": "https://a.example\nhttps://b.example"}, "link: one line of text is needed, without line breaks"),
    ({"benchmark": "x" * 201}, "benchmark: String should have at most 200 characters"),
    ({"notes": "a\x00b"}, "notes: NUL characters are not allowed"),
])
def test_bad_input_is_refused_by_field(session, make_user, make_model, change, message) -> None:
    card = make_model()
    with pytest.raises(InvalidInput, match=f"Please correct the evaluation: {message}"):
        add_evaluation(session=session, actor=make_user(Role.ADMIN), name=card.name, base_revision=1,
                       evaluation={**MMLU, **change})
    assert get_model(session=session, name=card.name).evaluations == []


def test_an_edit_or_removal_from_a_stale_card_is_refused(session, make_user, make_model) -> None:
    admin, card = make_user(Role.ADMIN), make_model(evaluations=[STORED])
    edit_evaluation(session=session, actor=admin, name=card.name, base_revision=1, index=0,
                    evaluation={**MMLU, "score": 70})
    session.commit()
    message = "Someone saved revision 2 of this card while you edited revision 1. Nothing was saved"
    with pytest.raises(StaleEdit, match=message):
        edit_evaluation(session=session, actor=admin, name=card.name, base_revision=1, index=0,
                        evaluation={**MMLU, "score": 71})
    with pytest.raises(StaleEdit, match=message):
        remove_evaluation(session=session, actor=admin, name=card.name, base_revision=1, index=0)
    with pytest.raises(StaleEdit, match=message):
        add_evaluation(session=session, actor=admin, name=card.name, base_revision=1, evaluation=MMLU)
    session.rollback()
    with pytest.raises(NotFound, match="has no evaluation number 2"):
        remove_evaluation(session=session, actor=admin, name=card.name, base_revision=2, index=1)
    assert [e.score for e in evaluations_of(session=session, name=card.name)] == [70.0]


def test_twenty_managers_recording_at_once_each_evaluation_lands_once(engine, session, make_user,
                                                                       make_model) -> None:
    admin, card = make_user(Role.ADMIN), make_model()

    def revision() -> int:
        with Session(engine) as page:
            return get_model(session=page, name=card.name).revision

    def record(i: int, base: int) -> None:
        with Session(engine) as own:
            add_evaluation(session=own, actor=admin, name=card.name, base_revision=base,
                           evaluation={**MMLU, "benchmark": f"bench {i}"})
            own.commit()

    by_base = saves_by_revision(editors_until_saved(20, revision, record))
    assert sorted(by_base) == list(range(1, 21))
    stored = get_model(session=session, name=card.name)
    session.refresh(stored)
    assert sorted(e["benchmark"] for e in stored.evaluations) == sorted(f"bench {i}" for i in range(20))
    assert len(events(session, ADDED)) == 20


FILE = """\
models:
  - name: acme/chat-8b
    evaluations:
      - {benchmark: MMLU (5-shot), score: 69.4, date: 2024-07-23, notes: our harness, link: https://example.com/m}
      - {benchmark: GSM8K, score: 80, date: 2024-08-01}
"""


def test_an_import_records_each_evaluation_through_the_same_steps(session) -> None:
    import_catalog(session=session, actor=SYSTEM_CLI, text=FILE)
    session.commit()
    assert [(e.action, e.actor_email, e.after["benchmark"]) for e in events(session, ADDED)] == [
        (ADDED, "system:cli", "MMLU (5-shot)"), (ADDED, "system:cli", "GSM8K")]
    card = get_model(session=session, name="acme/chat-8b")
    assert card.revision == 1 and card.evaluations[0]["link"] == "https://example.com/m"
    # A changed score, a dropped line: one edit and one removal, and the card's revision moves once.
    import_catalog(session=session, actor=SYSTEM_CLI,
                   text=FILE.replace("score: 69.4", "score: 70.1").replace(
                       "      - {benchmark: GSM8K, score: 80, date: 2024-08-01}\n", ""))
    session.commit()
    assert [(e.action, e.before["score"], (e.after or {}).get("score")) for e in events(session, EDITED, REMOVED)] == [
        (EDITED, 69.4, 70.1), (REMOVED, 80.0, None)]
    assert get_model(session=session, name="acme/chat-8b").revision == 2
    # What the page records exports and imports back unchanged.
    add_evaluation(session=session, actor=SYSTEM_CLI, name="acme/chat-8b", base_revision=2, evaluation=MMLU)
    session.commit()
    exported = export_catalog(session=session)
    result = import_catalog(session=session, actor=SYSTEM_CLI, text=exported)
    assert (result.updated, result.unchanged) == (0, 1)
    assert session.exec(select(CatalogModel)).one().evaluations[-1] == STORED
