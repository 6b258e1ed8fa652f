"""The CoE team changing one assignment at the same moment: every change lands or is told, none silently lost."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from portal.core.audit import AuditEvent, utcnow
from portal.core.errors import StaleEdit
from tests.concurrency import editors_until_saved, run_together, saves_by_revision
from training.assignments import assign_course, list_assignments, remove_assignment
from training.models import Assignment

EDITORS = 20
TODAY = utcnow().date()


def assign(engine, actor, days: int, base: int) -> None:
    with Session(engine) as save:
        assign_course(session=save, actor=actor, slug="responsible-ai", target_kind="team", target="Data Platform",
                      due_on=TODAY + timedelta(days=days), base_revision=base)
        save.commit()


def shown_revision(engine, actor) -> int:
    """The assignment's revision as the assignments page lists it."""
    with Session(engine) as page:
        [row] = list_assignments(session=page, actor=actor)
        return row.revision


def audited(session: Session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all())


def test_twenty_editors_moving_one_due_date_each_save_once_per_revision(engine, session, synced,
                                                                         make_user) -> None:
    coe = make_user("reviewer")
    assign(engine, coe, 1, base=0)
    attempts = editors_until_saved(EDITORS, lambda: shown_revision(engine, coe),
                                   lambda i, base: assign(engine, coe, 10 + i, base))
    by_base = saves_by_revision(attempts)
    assert sorted(by_base) == list(range(1, EDITORS + 1))
    assert sorted(by_base.values()) == list(range(EDITORS))  # every editor's date landed once
    stored = session.exec(select(Assignment)).one()
    assert (stored.revision, stored.due_on) == (EDITORS + 1, TODAY + timedelta(days=10 + by_base[EDITORS]))
    moves = audited(session, "training.assigned")[1:]
    assert sorted(e.after["due_on"] for e in moves) == sorted(
        (TODAY + timedelta(days=10 + i)).isoformat() for i in range(EDITORS))


def test_twenty_editors_assigning_the_same_course_one_lands_the_others_are_told(engine, session, synced,
                                                                                 make_user) -> None:
    coe = make_user("reviewer")
    opened = threading.Barrier(EDITORS)

    def create(i: int) -> str:
        opened.wait()  # every page listed no such assignment
        assign(engine, coe, 5 + i, base=0)
        return "saved"

    results = run_together(EDITORS, create)
    assert results.count("saved") == 1, results
    assert all(isinstance(r, StaleEdit) for r in results if r != "saved"), results
    assert session.exec(select(Assignment)).one().revision == 1
    assert len(audited(session, "training.assigned")) == 1


def test_withdrawing_or_moving_from_a_stale_view_is_refused(engine, session, synced, make_user) -> None:
    coe = make_user("reviewer")
    assign(engine, coe, 3, base=0)
    assign(engine, coe, 4, base=1)
    assignment_id = session.exec(select(Assignment.id)).one()
    with pytest.raises(StaleEdit, match="Someone saved revision 2 of this assignment while you edited revision 1. "
                                        "Nothing was saved"):
        remove_assignment(session=session, actor=coe, assignment_id=assignment_id, base_revision=1)
    session.rollback()
    with pytest.raises(StaleEdit, match="revision 2 of this assignment while you edited revision 1"):
        assign(engine, coe, 9, base=1)
    stored = session.exec(select(Assignment)).one()
    assert (stored.revision, stored.due_on) == (2, TODAY + timedelta(days=4))
    remove_assignment(session=session, actor=coe, assignment_id=assignment_id, base_revision=2)
    session.commit()
    assert session.exec(select(Assignment)).all() == []
    with pytest.raises(StaleEdit, match="Someone removed this assignment while you edited revision 2"):
        assign(engine, coe, 9, base=2)
    assert [e.before["due_on"] for e in audited(session, "training.assignment_removed")] == [
        (TODAY + timedelta(days=4)).isoformat()]
