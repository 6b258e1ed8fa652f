"""Admins editing one template at the same moment, and trust given from a stale view: refused, never lost."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from portal.core.audit import AuditEvent
from portal.core.errors import InvalidInput, PermissionDenied, StaleEdit
from templates.registry import (
    edit_template_details,
    get_template,
    register_template,
    approve_trust,
    request_trust,
)
from tests.concurrency import editors_until_saved, saves_by_revision
from tests.templates.conftest import SIMPLE, git_repo, write_template
from tests.templates.test_registry_and_updates import git

EDITORS = 20
DETAILS = {"display_name": "RAG chatbot", "summary": "Answers from documents", "category": "chat",
           "tags": ["rag"], "owner": "CoE"}


def revision_of(engine, name: str) -> int:
    with Session(engine) as page:
        return get_template(session=page, name=name).revision


def test_twenty_admins_editing_one_template_each_save_once_per_revision(engine, session, builtins,
                                                                        make_user) -> None:
    admin = make_user("admin")

    def save(i: int, base: int) -> None:
        with Session(engine) as own:
            edit_template_details(session=own, actor=admin, name="rag-chatbot", base_revision=base,
                                  details={**DETAILS, "owner": f"editor {i}"})
            own.commit()

    attempts = editors_until_saved(EDITORS, lambda: revision_of(engine, "rag-chatbot"), save)
    by_base = saves_by_revision(attempts)
    assert sorted(by_base) == list(range(1, EDITORS + 1))
    assert sorted(by_base.values()) == list(range(EDITORS))
    session.expire_all()
    stored = get_template(session=session, name="rag-chatbot")
    assert (stored.revision, stored.owner) == (EDITORS + 1, f"editor {by_base[EDITORS]}")
    edits = session.exec(select(AuditEvent).where(AuditEvent.action == "template.details_edited")).all()
    assert sorted(e.after["owner"] for e in edits) == sorted(f"editor {i}" for i in range(EDITORS))


def test_a_stale_details_edit_is_refused_with_the_editors_message(session, builtins, make_user) -> None:
    admin = make_user("admin")
    edit_template_details(session=session, actor=admin, name="rag-chatbot", base_revision=1, details=DETAILS)
    session.commit()
    with pytest.raises(StaleEdit, match="Someone saved revision 2 of this template while you edited revision 1. "
                                        "Nothing was saved; your changes are still in the form: take the latest "
                                        "template, then save again."):
        edit_template_details(session=session, actor=admin, name="rag-chatbot", base_revision=1,
                              details={**DETAILS, "summary": "mine"})
    session.rollback()
    assert get_template(session=session, name="rag-chatbot").summary == "Answers from documents"


@pytest.mark.parametrize(("details", "message"), [
    ({**DETAILS, "display_name": "  "}, "display_name: String should have at least 1 character"),
    ({**DETAILS, "summary": "x" * 501}, "summary: String should have at most 500 characters"),
    ({**DETAILS, "tags": ["x" * 41]}, "tags.0: String should have at most 40 characters"),
])
def test_bad_details_are_refused_by_name(session, builtins, make_user, details, message) -> None:
    with pytest.raises(InvalidInput, match=message):
        edit_template_details(session=session, actor=make_user("admin"), name="rag-chatbot", base_revision=1,
                              details=details)


def test_only_admins_edit_details(session, builtins, make_user) -> None:
    with pytest.raises(PermissionDenied):
        edit_template_details(session=session, actor=make_user("reviewer"), name="rag-chatbot", base_revision=1,
                              details=DETAILS)


def test_trust_given_on_a_version_the_admin_did_not_see_is_refused(session, store, make_user, tmp_path) -> None:
    admin = make_user("admin")
    folder = git_repo(write_template(tmp_path / "greeter", SIMPLE + "_tasks:\n  - \"true\"\n",
                                     {"hi.txt.jinja": "{{ greeting }}"}))
    seen = register_template(session=session, actor=admin, store=store, url=str(folder)).revision
    session.commit()
    (folder / "project" / "hi.txt.jinja").write_text("{{ greeting }}, again")
    git(folder, "commit", "-qam", "v2")
    register_template(session=session, actor=admin, store=store, url=str(folder))  # a new version arrives
    session.commit()
    with pytest.raises(StaleEdit, match="Someone saved revision 2 of this template while you edited revision 1"):
        request_trust(session=session, store=store, actor=admin, name="greeter", base_revision=seen)
    session.rollback()
    assert not get_template(session=session, name="greeter").trusted
    request_trust(session=session, store=store, actor=admin, name="greeter", base_revision=2)
    approve_trust(session=session, store=store, actor=make_user("admin"), name="greeter", base_revision=3)
    assert get_template(session=session, name="greeter").trusted
