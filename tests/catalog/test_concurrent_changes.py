"""Concurrent changes to one card: stale edits are refused, never lost; two moves at once never both commit."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date

import pytest
from sqlmodel import Session, func, select

from catalog.lifecycle import LifecycleConflict, TransitionRequest, apply_transition
from catalog.models import CatalogModel, ModelStatus
from catalog.service import CardEditConflict, get_model, update_card
from portal.core.audit import AuditEvent
from portal.core.auth import Role
from tests.concurrency import run_together

EDITORS = 50
S = ModelStatus


def events(session: Session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all())


def test_fifty_editors_of_one_card_each_save_once_per_revision_and_no_edit_is_lost(engine, session, make_user,
                                                                                   make_model) -> None:
    admin = make_user(Role.ADMIN)
    card = make_model(S.APPROVED, owner="nobody")
    first_round = threading.Barrier(EDITORS)
    attempts: list[tuple[int, int, str]] = []  # (editor, base revision, outcome)

    def editor(i: int) -> None:
        """Open the card, then save; told the card moved on, open it again and save again."""
        first = True
        while True:
            with Session(engine) as page:  # the page load: read the card and its revision
                base = get_model(session=page, name=card.name).revision
            if first:
                first_round.wait()  # everyone has read revision 1 before anyone saves
                first = False
            try:
                with Session(engine) as save:
                    update_card(session=save, actor=admin, name=card.name, base_revision=base,
                                changes={"owner": f"editor {i}"})
                    save.commit()
                attempts.append((i, base, "saved"))
                return
            except CardEditConflict as conflict:
                assert conflict.base == base and conflict.latest > base
                attempts.append((i, base, "refused"))

    results = run_together(EDITORS, editor)
    assert [r for r in results if r is not None] == []  # no error but the stale-edit refusal
    saved = [(i, base) for i, base, outcome in attempts if outcome == "saved"]
    assert Counter(base for _, base in saved) == Counter(range(1, EDITORS + 1))  # exactly one save per revision
    assert sorted(i for i, _ in saved) == list(range(EDITORS))  # every editor's edit landed once
    stored = session.get(CatalogModel, card.id)
    session.refresh(stored)
    last_editor = max(saved, key=lambda s: s[1])[0]
    assert (stored.revision, stored.owner) == (EDITORS + 1, f"editor {last_editor}")
    edits = events(session, "catalog.card_edited")
    assert len(edits) == EDITORS and {e.after["owner"] for e in edits} == {f"editor {i}" for i in range(EDITORS)}


def test_a_stale_edit_is_refused_with_the_editors_message_and_changes_nothing(session, make_user,
                                                                             make_model) -> None:
    admin = make_user(Role.ADMIN)
    card = make_model(S.APPROVED, owner="nobody")
    update_card(session=session, actor=admin, name=card.name, base_revision=1, changes={"owner": "first"})
    session.commit()
    with pytest.raises(CardEditConflict, match="Someone saved revision 2 of this card while you edited revision 1. "
                                               "Nothing was saved"):
        update_card(session=session, actor=admin, name=card.name, base_revision=1, changes={"license": "MIT"})
    session.rollback()
    stored = get_model(session=session, name=card.name)
    assert (stored.owner, stored.license, stored.revision) == ("first", "", 2)
    assert len(events(session, "catalog.card_edited")) == 1


def test_an_edit_that_changes_nothing_keeps_the_revision(session, make_user, make_model) -> None:
    card = make_model(S.APPROVED, owner="nobody")
    update_card(session=session, actor=make_user(Role.ADMIN), name=card.name, base_revision=1,
                changes={"owner": "nobody"})
    session.commit()
    assert get_model(session=session, name=card.name).revision == 1
    assert events(session, "catalog.card_edited") == []


DECIDERS = 10


def test_approve_and_reject_at_the_same_moment_only_one_commits(engine, session, make_user, make_model) -> None:
    reviewers = [make_user(Role.REVIEWER) for _ in range(DECIDERS)]
    model = make_model(S.UNDER_REVIEW)
    opened = threading.Barrier(DECIDERS)
    targets = [S.APPROVED if i % 2 else S.REJECTED for i in range(DECIDERS)]

    def decide(i: int) -> ModelStatus:
        with Session(engine) as own:
            card = get_model(session=own, name=model.name)  # every reviewer sees it under review
            opened.wait()
            apply_transition(session=own, actor=reviewers[i], model=card,
                             request=TransitionRequest(target=targets[i], reason="decided",
                                                       next_review_on=date(2027, 6, 1)))
            own.commit()
            return targets[i]

    results = run_together(DECIDERS, decide)
    won = [r for r in results if isinstance(r, ModelStatus)]
    assert len(won) == 1, results
    assert all(isinstance(r, LifecycleConflict) for r in results if not isinstance(r, ModelStatus)), results
    assert "while you were deciding on it as under review" in next(
        r.message for r in results if isinstance(r, LifecycleConflict))
    session.expire_all()
    assert get_model(session=session, name=model.name).status == won[0]
    moves = events(session, "catalog.model_transitioned")
    assert len(moves) == 1 and moves[0].after["status"] == won[0].value
    assert session.exec(select(func.count()).select_from(CatalogModel)).one() == 1
