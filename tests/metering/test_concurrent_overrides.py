"""Admins changing one budget override at the same moment: every change lands or is told, none silently lost."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import Session, select

from metering.models import BudgetOverride
from metering.overrides import clear_budget_override, set_budget_override
from portal.core.audit import AuditEvent
from portal.core.auth import Role
from portal.core.errors import StaleEdit
from tests.concurrency import editors_until_saved, run_together, saves_by_revision

EDITORS = 20


def revision_of(engine, key: str) -> int:
    """The override's revision as an admin's page shows it (0: there is none)."""
    with Session(engine) as page:
        override = page.exec(select(BudgetOverride).where(BudgetOverride.key == key)).first()
        return override.revision if override else 0


def set_cap(engine, admin, key: str, usd: float, base: int) -> None:
    with Session(engine) as save:
        set_budget_override(session=save, actor=admin, scope="team", key=key, monthly_usd=usd, base_revision=base)
        save.commit()


def audited(session: Session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(session.exec(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all())


def test_twenty_admins_changing_one_cap_each_save_once_per_revision(engine, session, make_user) -> None:
    admin = make_user(Role.ADMIN)
    set_cap(engine, admin, "Brand", 1.0, base=0)
    attempts = editors_until_saved(EDITORS, lambda: revision_of(engine, "Brand"),
                                   lambda i, base: set_cap(engine, admin, "Brand", 100.0 + i, base))
    by_base = saves_by_revision(attempts)
    assert sorted(by_base) == list(range(1, EDITORS + 1))  # one save on top of each revision
    assert sorted(by_base.values()) == list(range(EDITORS))  # every admin's change landed once
    stored = session.exec(select(BudgetOverride)).one()
    assert (stored.revision, stored.monthly_usd) == (EDITORS + 1, 100.0 + by_base[EDITORS])
    changes = audited(session, "sandbox.budget_override_set")[1:]
    assert sorted(e.after["monthly_usd"] for e in changes) == [100.0 + i for i in range(EDITORS)]


def test_twenty_admins_creating_the_same_override_one_lands_the_others_are_told(engine, session,
                                                                                  make_user) -> None:
    admin = make_user(Role.ADMIN)
    opened = threading.Barrier(EDITORS)

    def create(i: int) -> str:
        opened.wait()  # every page showed no override for the team
        set_cap(engine, admin, "Campaigns", 10.0 + i, base=0)
        return "saved"

    results = run_together(EDITORS, create)
    assert results.count("saved") == 1, results
    refused = [r for r in results if r != "saved"]
    assert all(isinstance(r, StaleEdit) for r in refused), refused
    assert "while you were filling in the form. Nothing was saved" in refused[0].message
    stored = session.exec(select(BudgetOverride)).one()
    assert stored.revision == 1 and len(audited(session, "sandbox.budget_override_set")) == 1


def test_a_change_or_clear_from_a_stale_view_is_refused_and_changes_nothing(session, make_user) -> None:
    admin = make_user(Role.ADMIN)
    set_budget_override(session=session, actor=admin, scope="team", key="Brand", monthly_usd=5.0)
    set_budget_override(session=session, actor=admin, scope="team", key="Brand", monthly_usd=7.0, base_revision=1)
    session.commit()
    with pytest.raises(StaleEdit, match="Someone saved revision 2 of this budget override while you edited "
                                        "revision 1. Nothing was saved; your changes are still in the form"):
        set_budget_override(session=session, actor=admin, scope="team", key="Brand", monthly_usd=9.0,
                            base_revision=1)
    session.rollback()
    with pytest.raises(StaleEdit, match="revision 2 of this budget override while you edited revision 1"):
        clear_budget_override(session=session, actor=admin, scope="team", key="Brand", base_revision=1)
    session.rollback()
    with pytest.raises(StaleEdit, match="revision 2 of this budget override while you were filling in the form"):
        set_budget_override(session=session, actor=admin, scope="team", key="Brand", monthly_usd=9.0)
    session.rollback()
    stored = session.exec(select(BudgetOverride)).one()
    assert (stored.monthly_usd, stored.revision) == (7.0, 2)
    clear_budget_override(session=session, actor=admin, scope="team", key="Brand", base_revision=2)
    session.commit()
    with pytest.raises(StaleEdit, match="Someone removed this budget override while you edited revision 2"):
        set_budget_override(session=session, actor=admin, scope="team", key="Brand", monthly_usd=9.0,
                            base_revision=2)
